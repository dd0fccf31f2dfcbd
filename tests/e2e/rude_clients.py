"""Clients that misbehave, mixed with clients that do not, against a running echo host; then what the kernel shows.

Usage: rude_clients.py PORT HOST_PID. 16 threads run 30 clients each, each client one behaviour picked by a seeded
random generator: well-behaved (a few lines, replies checked), one byte per segment, 50 lines in one write, a
half-close with an unterminated last line (its reply must come before the host's FIN), a line left unterminated,
a connect and close, a reset after a line or in the middle of one, a flood of lines while never reading, a reader
with a tiny receive buffer that reads late. Every reply a well-behaved client waits for must be exact; once all
have left, the host's socket descriptors must come back to their count before the run within 10 s, no socket of
the host's port may be left in any state but LISTEN or TIME-WAIT, and one more client must still be answered.
Prints one line; exits 1 on any miss.
"""
import random
import socket
import struct
import subprocess
import sys
import threading
import time

from host_sockets import sockets

THREADS = 16
CLIENTS_PER_THREAD = 30
PREFIX = b"Echoed back: "


def connect(port):
    client = socket.create_connection(("127.0.0.1", port), timeout=10)
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return client


def read_exactly(client, count):
    data = b""
    while len(data) < count:
        chunk = client.recv(count - len(data))
        if not chunk:
            raise AssertionError(f"the host closed after {len(data)} of {count} bytes")
        data += chunk
    return data


def expect(client, lines):
    wanted = b"".join(PREFIX + line + b"\n" for line in lines)
    got = read_exactly(client, len(wanted))
    if got != wanted:
        raise AssertionError(f"got {got[:60]!r}, expected {wanted[:60]!r}")


def polite(port, rng):
    with connect(port) as client:
        for index in range(rng.randint(1, 5)):
            line = f"line {index} {rng.random()}".encode()
            client.sendall(line + b"\n")
            expect(client, [line])


def drip(port, rng):
    with connect(port) as client:
        line = f"drip {rng.random()}".encode()
        for byte in line + b"\n":
            client.send(bytes([byte]))
        expect(client, [line])


def burst(port, rng):
    with connect(port) as client:
        lines = [f"burst {index} {rng.random()}".encode() for index in range(50)]
        client.sendall(b"".join(line + b"\n" for line in lines))
        expect(client, lines)


def half_close(port, _):
    with connect(port) as client:
        client.sendall(b"one\ntwo\nthree")
        client.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := client.recv(4096):
            data += chunk
        if data != PREFIX + b"one\n" + PREFIX + b"two\n" + PREFIX + b"three":
            raise AssertionError(f"half-close: got {data!r}")


def unterminated(port, _):
    with connect(port) as client:
        client.sendall(b"no newline")


def connect_and_close(port, _):
    connect(port).close()


def reset(client):
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()


def reset_after_line(port, _):
    client = connect(port)
    client.sendall(b"reset after this\n")
    reset(client)


def reset_mid_line(port, _):
    client = connect(port)
    client.sendall(b"half a li")
    reset(client)


def flood_unread(port, _):
    with connect(port) as client:
        client.settimeout(0.3)
        try:
            client.sendall((b"y" * 99 + b"\n") * 4000)
        except TimeoutError:
            pass  # the host stopped reading once its replies filled the socket: back pressure


def late_reader(port, rng):
    with connect(port) as client:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.settimeout(0.3)
        try:
            client.sendall((b"z" * 999 + b"\n") * 64)
        except TimeoutError:
            pass
        time.sleep(rng.random() * 0.3)
        try:
            while client.recv(65536):
                pass
        except TimeoutError:
            pass


BEHAVIOURS = [polite, polite, polite, drip, burst, half_close, unterminated, connect_and_close, reset_after_line,
              reset_mid_line, flood_unread, late_reader]
MUST_SUCCEED = {polite, drip, burst, half_close}


def run(port, seed, counts, misses, lock):
    rng = random.Random(seed)
    for _ in range(CLIENTS_PER_THREAD):
        behaviour = rng.choice(BEHAVIOURS)
        try:
            behaviour(port, rng)
        except (AssertionError, OSError) as error:
            if behaviour in MUST_SUCCEED:
                with lock:
                    misses.append(f"{behaviour.__name__}: {type(error).__name__}: {error}")
        with lock:
            counts[behaviour.__name__] = counts.get(behaviour.__name__, 0) + 1


def lingering(port):
    listed = subprocess.run(["ss", "-tanH", "state", "all", f"sport = :{port}"], capture_output=True, text=True, check=True)
    states = [line.split()[0] for line in listed.stdout.splitlines() if line.strip()]
    return [state for state in states if state not in ("LISTEN", "TIME-WAIT")]


def main(port, pid):
    before = sockets(pid)
    counts, misses, lock = {}, [], threading.Lock()
    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(port, seed, counts, misses, lock)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    if misses:
        raise AssertionError(f"{len(misses)} client(s) not answered as expected, first: {misses[0]}")
    deadline = time.monotonic() + 10
    while (sockets(pid) > before or lingering(port)) and time.monotonic() < deadline:
        time.sleep(0.1)
    after, left = sockets(pid), lingering(port)
    if after > before or left:
        raise AssertionError(f"10 s after every client left: sockets {before} -> {after}, the port's sockets in {left}")
    polite(port, random.Random(0))
    print(f"{sum(counts.values())} clients of {len(counts)} kinds in {elapsed:.1f} s; sockets {before} -> {after}; still answering")


try:
    main(int(sys.argv[1]), int(sys.argv[2]))
except (AssertionError, OSError) as error:
    print(f"{type(error).__name__}: {error}")
    sys.exit(1)
