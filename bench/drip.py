#!/usr/bin/env python3
"""Clients that drip an unfinished line one byte per TCP segment, and what they cost a server's memory.

    python3 bench/drip.py --server PATH [--clients 1000] [--bytes 4000] [--label NAME] [-- SERVER ARGS...]

Starts the server (an EchoHost executable; extra arguments after --), opens --clients connections with
TCP_NODELAY, then sends each client's line one byte at a time, round-robin over the clients, so every byte
travels in a segment of its own. No line is finished. The server's resident memory (VmRSS) is read after the
connections are open and again once the server has read every byte (its sockets' receive queues are empty),
and the growth per client is printed. Loopback only, bounded in clients, bytes and time.
"""
import argparse
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as suite  # noqa: E402  (free_port, wait_for_port, rss_bytes)


def unread_bytes(port):
    """Bytes waiting in the receive queues of the server's established sockets on the port."""
    total = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                total += int(fields[4].split(":")[1], 16)
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", required=True)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--bytes", type=int, default=4000)
    parser.add_argument("--label", default="")
    parser.add_argument("server_args", nargs="*")
    arguments = parser.parse_args()

    port = suite.free_port()
    process = subprocess.Popen([arguments.server, f"--Echo:Port={port}", "--Echo:Address=127.0.0.1", "--Health:Port=0",
                                "--Serilog:MinimumLevel:Override:EchoHost.Echo=Warning", *arguments.server_args],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    clients = []
    try:
        suite.wait_for_port(port, process)
        for _ in range(arguments.clients):
            client = socket.create_connection(("127.0.0.1", port))
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            clients.append(client)
        time.sleep(1)
        before = suite.rss_bytes(process.pid)
        started = time.perf_counter()
        for _ in range(arguments.bytes):
            for client in clients:
                client.send(b"x")
        deadline = time.perf_counter() + 60
        while unread_bytes(port) and time.perf_counter() < deadline:
            time.sleep(0.1)
        time.sleep(1)
        after = suite.rss_bytes(process.pid)
        alive = process.poll() is None
        seconds = time.perf_counter() - started
        print(f"{arguments.label or arguments.server}: {arguments.clients} clients x {arguments.bytes} bytes dripped in {seconds:.1f} s: "
              f"RSS {before / 2**20:.1f} -> {after / 2**20:.1f} MiB, {(after - before) / arguments.clients / 1024:.1f} KiB per client"
              f"{'' if alive else ' (the server exited)'}", flush=True)
    finally:
        for client in clients:
            client.close()
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    main()
