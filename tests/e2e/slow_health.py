"""Holds the health port with slow HTTP clients while probing /healthz as the kubelet does.

300 clients each send half a request and wait; a client the host closes connects again at once. Meanwhile a
probe opens a new connection every second and must get 200 within 1 s, 20 times. One miss in 20 is allowed: such
clients turn the listener's slots over faster than a busy host may read a new connection, so a probe it has not read
yet may be reset, and the kubelet restarts a pod only after three misses in a row. Prints one line with the
probe times, each miss and the clients the host closed; exits 1 if more than one probe missed.
"""
import asyncio
import sys
import time

HALF_REQUEST = b"GET /healthz HTTP/1.1\r\nHost: slow\r\n"
PROBE = b"GET /healthz HTTP/1.1\r\nHost: kubelet\r\nConnection: close\r\n\r\n"


async def slow_client(port, stop, counts):
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(HALF_REQUEST)
            await writer.drain()
            counts["connected"] += 1
            stopped = asyncio.ensure_future(stop.wait())
            closed = asyncio.ensure_future(reader.read())
            await asyncio.wait([stopped, closed], return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            closed.cancel()
            writer.close()
        except OSError:
            await asyncio.sleep(0.01)


async def probe(port):
    started = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 1.0)
        writer.write(PROBE)
        status = await asyncio.wait_for(reader.readline(), 1.0 - (time.monotonic() - started))
        writer.close()
        return None if status.startswith(b"HTTP/1.1 200") else f"answered {status!r}", time.monotonic() - started
    except (OSError, asyncio.TimeoutError) as error:
        return f"{type(error).__name__} after {(time.monotonic() - started) * 1000:.0f} ms", time.monotonic() - started


async def main(port, clients, probes):
    stop = asyncio.Event()
    counts = {"connected": 0}
    tasks = [asyncio.ensure_future(slow_client(port, stop, counts)) for _ in range(clients)]
    deadline = time.monotonic() + 30
    while counts["connected"] < clients and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    held = counts["connected"]
    answered, missed = [], []
    for _ in range(probes):
        miss, took = await probe(port)
        if miss is None:
            answered.append(took)
        else:
            missed.append(miss)
        await asyncio.sleep(max(0.0, 1.0 - took))
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    slowest = max(answered, default=0.0)
    misses = f" (missed: {'; '.join(missed)})" if missed else ""
    print(f"{len(answered)}/{probes} probes answered, slowest {slowest * 1000:.0f} ms{misses}; "
          f"{held} slow connections before the first probe, {counts['connected'] - held} more after the host closed some")
    return 0 if len(missed) <= 1 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(int(sys.argv[1]), 300, 20)))
