"""The Python baselines: EchoHost's protocol on asyncio, or on uvloop with --uvloop.

    python3 asyncio_echo.py PORT [PREFIX] [--uvloop]

With a prefix, each LF-terminated line (cut at 8192 bytes) is answered with PREFIX + line, all the replies to
one read in one write; without one, every read is written back as it is. Needs Debian's python3 (and
python3-uvloop for --uvloop).
"""
import asyncio
import sys

MAX_LINE = 8192


class EchoProtocol(asyncio.Protocol):
    def __init__(self, prefix: bytes):
        self.prefix = prefix
        self.pending = bytearray()

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        if not self.prefix:
            self.transport.write(data)
            return
        self.pending += data
        replies = []
        start = 0
        while True:
            end = self.pending.find(b"\n", start, start + MAX_LINE)
            if end >= 0:
                stop = end + 1
            elif len(self.pending) - start >= MAX_LINE:
                stop = start + MAX_LINE
            else:
                break
            replies.append(self.prefix)
            replies.append(bytes(self.pending[start:stop]))
            start = stop
        del self.pending[:start]
        if replies:
            self.transport.write(b"".join(replies))


async def main(port: int, prefix: bytes):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: EchoProtocol(prefix), "127.0.0.1", port, backlog=512)
    print(f"asyncio echo serving on 127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    words = [a for a in sys.argv[1:] if a != "--uvloop"]
    if "--uvloop" in sys.argv:
        import uvloop
        uvloop.install()
    asyncio.run(main(int(words[0]), words[1].encode() if len(words) > 1 else b""))
