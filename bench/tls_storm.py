#!/usr/bin/env python3
"""TLS echo clients during a handshake storm: EchoHost on both transports next to a Go crypto/tls server.

    python3 bench/tls_storm.py [--rounds 5] [--seconds 4] [--idle 10000] [--servers echohost,echohost-sockets,go-tls]
                               [--build before=DIR]   # DIR: an EchoHost published from another commit

Each server serves the same RSA-2048 certificate. Per round and server (the order rotating from round to round):
- quiet: 50 TLS clients in ping-pong (64 B + prefix) with the native `echoctl bench --tls`, alone;
- storm: the same while two `openssl s_time -new` loops make full handshakes as fast as they can.
Every figure is the median of the rounds; the storm/quiet p99 ratio is the one to watch. Then each server holds
--idle idle TLS connections (`echoctl bench --mode idle --tls`) for its RSS per connection. Loopback only.
Needs gcc-free tools only: dotnet, go, openssl.
"""
import argparse
import json
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as suite  # noqa: E402  (publish, free_port, Server's /proc readings)

GO_SERVER = suite.OUT / "native" / "go_echo"
CLIENTS = 50
SIZE = 64
STORM_LOOPS = 2


def make_certificate(folder):
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


class TlsServer(suite.Server):
    def __init__(self, kind, cert, key, builds):
        self.kind, self.prefix, self.port = kind, suite.PREFIX, suite.free_port()
        if kind == "go-tls":
            command = [str(GO_SERVER), "-port", str(self.port), "-cert", str(cert), "-key", str(key), "-prefix", suite.PREFIX]
        else:
            build, sockets = kind.removesuffix("-sockets"), kind.endswith("-sockets")
            command = suite.server_command("echohost-sockets" if sockets else "echohost", self.port, suite.PREFIX) + [
                f"--Echo:Tls:Certificate:Path={cert}", f"--Echo:Tls:Certificate:KeyPath={key}"]
            if build in builds:
                command[0] = str(Path(builds[build]) / "EchoHost")
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.ready_after = suite.wait_for_port(self.port, self.process)


def echo_clients(server, seconds):
    run = subprocess.run([str(suite.ECHOCTL), "bench", "--port", str(server.port), "--tls", "--insecure", "--connections", str(CLIENTS),
                          "--size", str(SIZE), "--prefix-bytes", str(len(suite.PREFIX)), "--duration", f"{seconds}s", "--json"],
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"{server.kind}: echoctl bench --tls: {run.stderr.strip()}")
    return json.loads(run.stdout)


def one_run(server, seconds, storm):
    cpu_before = server.cpu_seconds()
    loops = [subprocess.Popen(["openssl", "s_time", "-connect", f"127.0.0.1:{server.port}", "-new", "-time", str(seconds + 1)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
             for _ in range(STORM_LOOPS if storm else 0)]
    time.sleep(0.5 if storm else 0)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = echo_clients(server, seconds)
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    generator_cpu = (children_after.ru_utime + children_after.ru_stime) - (children_before.ru_utime + children_before.ru_stime)
    handshakes = 0.0
    for loop in loops:
        output = loop.communicate()[0]
        # The other summary line divides by the loop's user CPU time, not the wall clock.
        found = re.search(r"(\d+) connections in (\d+) real seconds", output)
        handshakes += int(found.group(1)) / float(found.group(2)) if found else 0
    cpu = server.cpu_seconds() - cpu_before
    return {"rps": result["requestsPerSecond"], "p50": result["latency"]["p50"], "p99": result["latency"]["p99"], "p999": result["latency"]["p999"],
            "errors": result["errors"], "handshakes": handshakes, "cpu": cpu,
            "generator": generator_cpu / result["seconds"]}


def idle_rss(server, count):
    run = subprocess.run([str(suite.ECHOCTL), "bench", "--port", str(server.port), "--tls", "--insecure", "--mode", "idle",
                          "--connections", str(count), "--duration", "3s", "--server-pid", str(server.process.pid), "--json"],
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"{server.kind}: idle: {run.stderr.strip()}")
    idle = json.loads(run.stdout)["idle"]
    return idle["held"], idle["bytesPerConnection"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--idle", type=int, default=10000)
    parser.add_argument("--servers", default="echohost,echohost-sockets,go-tls")
    parser.add_argument("--no-publish", action="store_true", help="reuse bench/out from an earlier run")
    parser.add_argument("--build", action="append", default=[], metavar="NAME=DIR",
                        help="another published EchoHost (e.g. an older commit's) as servers NAME and NAME-sockets")
    args = parser.parse_args()
    builds = dict(b.split("=", 1) for b in args.build)
    kinds = args.servers.split(",") + [k for name in builds for k in (name, f"{name}-sockets")]
    if not args.no_publish:
        suite.publish()
    (suite.OUT / "native").mkdir(parents=True, exist_ok=True)
    subprocess.run(["go", "build", "-o", str(GO_SERVER), str(suite.REPO / "bench" / "native" / "go_echo.go")], check=True)

    with tempfile.TemporaryDirectory() as folder:
        cert, key = make_certificate(Path(folder))
        servers = {kind: TlsServer(kind, cert, key, builds) for kind in kinds}
        try:
            samples = {kind: {"quiet": [], "storm": []} for kind in kinds}
            for round_number in range(args.rounds):
                order = kinds[round_number % len(kinds):] + kinds[:round_number % len(kinds)]
                for kind in order:
                    for phase in ("quiet", "storm"):
                        sample = one_run(servers[kind], args.seconds, phase == "storm")
                        samples[kind][phase].append(sample)
                        print(f"round {round_number + 1} {kind:17} {phase:5} {sample['rps']:9.0f} req/s  p50 {sample['p50']:6} us  "
                              f"p99 {sample['p99']:6} us  p99.9 {sample['p999']:6} us  {sample['handshakes']:6.0f} handshakes/s  "
                              f"server CPU {sample['cpu'] / args.seconds:.2f}  generator CPU {sample['generator']:.2f}  errors {sample['errors']}", flush=True)
            idle = {kind: idle_rss(servers[kind], args.idle) for kind in kinds} if args.idle else {}
        finally:
            for server in servers.values():
                server.stop()

    def median(kind, phase, key):
        return statistics.median(s[key] for s in samples[kind][phase])

    print(f"\n{args.rounds} rounds of {args.seconds} s, {CLIENTS} TLS clients ping-pong {SIZE} B + prefix, storm: {STORM_LOOPS} openssl s_time -new loops, RSA-2048")
    print("CPU in cores (of 2): the server's, and the echo generator's (echoctl, not the storm loops), quiet run")
    print("| server | quiet req/s | quiet p99 µs | server / generator CPU | storm req/s | storm p99 µs | p99 storm/quiet | storm p99.9 µs | handshakes/s | idle TLS RSS/conn |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for kind in kinds:
        held, per = idle.get(kind, (0, None))
        per_text = f"{per / 1024:.1f} KiB ({held} held)" if per else "-"
        print(f"| {kind} | {median(kind, 'quiet', 'rps'):,.0f} | {median(kind, 'quiet', 'p99'):,.0f} | "
              f"{median(kind, 'quiet', 'cpu') / args.seconds:.2f} / {median(kind, 'quiet', 'generator'):.2f} | {median(kind, 'storm', 'rps'):,.0f} | "
              f"{median(kind, 'storm', 'p99'):,.0f} | {median(kind, 'storm', 'p99') / median(kind, 'quiet', 'p99'):.1f}x | "
              f"{median(kind, 'storm', 'p999'):,.0f} | "
              f"{median(kind, 'storm', 'handshakes'):,.0f} | {per_text} |")


if __name__ == "__main__":
    main()
