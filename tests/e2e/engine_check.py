"""Drives a running echo host the way its engine is stressed: many connections at once, a reply larger than the
socket buffers (back pressure, multi-block sends), and clients that leave; then checks what the kernel shows.

Usage: engine_check.py PORT HOST_PID. 400 connections (more than an io_uring reactor has receive buffers) each send 50 lines and must get 50 replies in order; one
connection sends 4 MiB of lines without reading until it has sent them all; then every client closes, and the
host's socket descriptors must come back to their count before the run within 10 s. Prints one line; exits 1 on
any miss.
"""
import asyncio
import sys
import time

from host_sockets import sockets

CONNECTIONS = 400
LINES = 50
BULK_LINES = 4 * 1024 * 1024 // 64


async def chatty(port, index):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for line in range(LINES):
        writer.write(f"client {index} line {line}\n".encode())
        await writer.drain()
        reply = await asyncio.wait_for(reader.readline(), 10)
        if reply != f"Echoed back: client {index} line {line}\n".encode():
            raise AssertionError(f"client {index} line {line}: got {reply!r}")
    writer.close()
    await writer.wait_closed()


async def bulk(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    line = b"x" * 63 + b"\n"
    expected = (b"Echoed back: " + line) * BULK_LINES

    async def send():
        for _ in range(BULK_LINES // 1024):
            writer.write(line * 1024)
            await writer.drain()
        writer.write_eof()

    sender = asyncio.ensure_future(send())
    await asyncio.sleep(0.5)  # the host's output fills while nothing reads
    received = await asyncio.wait_for(reader.read(), 30)
    await sender
    writer.close()
    if received != expected:
        raise AssertionError(f"bulk: got {len(received)} bytes, expected {len(expected)}")


async def main(port, pid):
    before = sockets(pid)
    started = time.monotonic()
    await asyncio.gather(bulk(port), *(chatty(port, i) for i in range(CONNECTIONS)))
    elapsed = time.monotonic() - started
    deadline = time.monotonic() + 10
    while sockets(pid) > before and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    after = sockets(pid)
    if after > before:
        raise AssertionError(f"{after - before} socket(s) still open 10 s after every client left")
    print(f"{CONNECTIONS} x {LINES} lines and 4 MiB under back pressure echoed in {elapsed:.1f} s; sockets {before} -> {after}")


try:
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
except (AssertionError, OSError, asyncio.TimeoutError) as error:
    print(f"{type(error).__name__}: {error}")
    sys.exit(1)
