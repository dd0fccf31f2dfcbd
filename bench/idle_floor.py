#!/usr/bin/env python3
"""What an idle connection costs EchoHost, against the floor under it.

    python3 bench/idle_floor.py [--rounds 3] [--connections 10000] [--no-publish]

The floor is bench/KestrelFloor: Kestrel with a transport and nothing else (no middleware, no protocol, no logging
provider, no metrics listener), every connection held on one shared task. Each round opens the connections to each
server in turn (the floor on each transport, then EchoHost on each, as bench/run.py starts it) and reports the growth
of the server's resident memory per connection, 2 s after the last one connected; the table has each server's median
and range. Native AOT builds of both, as shipped. Needs a descriptor limit above the connection count
(ulimit -n 20000).
"""
import argparse
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402

SERVERS = ["kestrel-floor-epoll", "kestrel-floor-io_uring", "kestrel-floor-sockets",
           "echohost-epoll", "echohost-io_uring", "echohost-sockets"]


def publish():
    subprocess.run(["dotnet", "publish", str(run.REPO / "src" / "EchoHost"), "-c", "Release", "--use-current-runtime",
                    "-o", str(run.OUT / "echohost"), "--nologo", "-v", "quiet"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["dotnet", "publish", str(run.REPO / "bench" / "KestrelFloor"), "-c", "Release", "--use-current-runtime",
                    "-o", str(run.OUT / "kestrelfloor"), "--nologo", "-v", "quiet"], check=True, stdout=subprocess.DEVNULL)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=10000)
    parser.add_argument("--no-publish", action="store_true", help="use the builds already in bench/out")
    args = parser.parse_args()
    if not args.no_publish:
        publish()

    samples = {server: [] for server in SERVERS}
    for round_number in range(1, args.rounds + 1):
        for server in SERVERS:
            samples[server].append(run.idle_memory(server, args.connections))
            print(f"round {round_number} {server}: {samples[server][-1]:,.0f} B per connection", file=sys.stderr, flush=True)

    print(f"| server | bytes per idle connection, median | range |")
    print("|---|---:|---|")
    for server in SERVERS:
        values = samples[server]
        print(f"| {server} | {statistics.median(values):,.0f} | {min(values):,.0f} - {max(values):,.0f} |")


if __name__ == "__main__":
    main()
