#!/usr/bin/env python3
"""The textbook's concurrent downloader, as the chapter writes it: one aiohttp session, every URL at once
through asyncio.gather, each body read whole and written to a file. No bound beyond aiohttp's connector
default (100 connections), no retries. Written for the fetch benchmark, with one change: a file name per
line of the input file, since the chapter's basename-of-the-URL overwrote files.

    python3 bench/baselines/example5_fetch.py LIST OUTDIR      (LIST: URL<TAB>name per line)
"""
import asyncio
import sys
from pathlib import Path

import aiohttp


async def download(session, url, path):
    async with session.get(url) as response:
        path.write_bytes(await response.read())


async def main(listing, folder):
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [line.split("\t") for line in listing.read_text().splitlines() if line]
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(download(session, url, folder / name) for url, name in jobs))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2])))
