#!/usr/bin/env python3
"""A local origin for the fetch benchmark: GET /{delay_ms}/{size}/{name} answers `size` bytes after `delay_ms`.

    python3 bench/baselines/fetch_origin.py PORT

HTTP/1.1 with keep-alive (aiohttp), so a client that reuses connections is not charged a handshake per URL.
"""
import asyncio
import sys

from aiohttp import web

BODY = bytes(range(256)) * 4096


async def serve(request):
    delay, size = int(request.match_info["delay"]), int(request.match_info["size"])
    await asyncio.sleep(delay / 1000)
    return web.Response(body=BODY[:size], content_type="application/octet-stream")


def main():
    app = web.Application()
    app.router.add_get("/{delay}/{size}/{name}", serve)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None, backlog=4096)


if __name__ == "__main__":
    main()
