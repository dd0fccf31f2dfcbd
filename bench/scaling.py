#!/usr/bin/env python3
"""Thread scaling against the native anchor: C epoll, Go and EchoHost (its transport's io_uring and epoll engines, and Kestrel's sockets).

    python3 bench/scaling.py [--threads 1,4,8] [--connections 1000] [--size 1024] [--rounds 5] [--seconds 5] [--no-publish]

For each thread count N, every server runs N threads (C: echo_server --threads N, one SO_REUSEPORT epoll loop each;
Go: GOMAXPROCS=N; EchoHost: Transport:Threads=N, or DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT=N on Kestrel's sockets),
pinned with taskset to the first half of the cores, while the native generator (echo_load --threads N) runs on the
other half. 1 KiB pure echo (Go echoes LF-terminated lines, the same bytes). Servers take turns within a round, the
order rotating; each figure is the median of the rounds, with the generator's CPU share (a generator near its
cores' limit measures itself) and the ratio to the C server at the same N. A thread count above half the cores is
skipped. Loopback only; on a 16-core machine run it with native executables (the Native AOT host, echo_load,
echo_server, go_echo), as bench/README.md describes.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as suite  # noqa: E402  (publish, free_port, wait_for_port, the Server's /proc readings)

NATIVE = suite.OUT / "native"
KINDS = ["c-epoll", "go", "echohost-io_uring", "echohost-epoll", "echohost-sockets"]


class PinnedServer(suite.Server):
    def __init__(self, kind, threads, cores):
        self.kind, self.prefix, self.port = kind, "", suite.free_port()
        environment = dict(os.environ, DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS="1")
        if kind == "c-epoll":
            command = [str(NATIVE / "echo_server"), "--port", str(self.port), "--threads", str(threads)]
        elif kind == "go":
            command = [str(NATIVE / "go_echo"), "-port", str(self.port), "-prefix", ""]
            environment["GOMAXPROCS"] = str(threads)
        else:
            command = suite.server_command(kind, self.port, "") + [f"--Transport:Threads={threads}"]
            if kind == "echohost-sockets":
                environment["DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT"] = str(threads)
        self.process = subprocess.Popen(["taskset", "-c", cores, *command], env=environment,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.ready_after = suite.wait_for_port(self.port, self.process)


def drive(server, threads, connections, size, seconds, cores):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before = server.cpu_seconds()
    run = subprocess.run(["taskset", "-c", cores, str(NATIVE / "echo_load"), "--port", str(server.port), "--connections", str(connections),
                          "--size", str(size), "--prefix-bytes", "0", "--seconds", str(seconds), "--threads", str(threads)],
                         capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if run.returncode != 0:
        raise RuntimeError(f"{server.kind}: echo_load: {run.stdout} {run.stderr}")
    result = json.loads(run.stdout)
    generator = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result["generatorCores"] = generator / seconds
    result["serverCores"] = (server.cpu_seconds() - cpu_before) / seconds
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,4,8")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--no-publish", action="store_true", help="reuse bench/out from an earlier run")
    args = parser.parse_args()
    if not args.no_publish:
        suite.publish()
    NATIVE.mkdir(parents=True, exist_ok=True)
    subprocess.run(["gcc", "-O2", "-o", str(NATIVE / "echo_server"), str(suite.REPO / "bench" / "native" / "echo_server.c"), "-lpthread"], check=True)
    subprocess.run(["gcc", "-O2", "-o", str(NATIVE / "echo_load"), str(suite.REPO / "bench" / "native" / "echo_load.c"), "-lpthread"], check=True)
    subprocess.run(["go", "build", "-o", str(NATIVE / "go_echo"), str(suite.REPO / "bench" / "native" / "go_echo.go")], check=True)

    cores = os.cpu_count()
    half = max(cores // 2, 1)
    server_cores, generator_cores = f"0-{half - 1}", f"{half}-{cores - 1}" if cores > 1 else "0"
    print(f"{cores} cores: servers on {server_cores}, generator on {generator_cores}; {args.connections} connections, "
          f"{args.size} B pure echo, {args.rounds} rounds of {args.seconds} s", flush=True)
    rows = []
    for threads in (int(t) for t in args.threads.split(",")):
        if threads > half:
            print(f"{threads} threads: skipped, more than the {half} cores each side has", flush=True)
            continue
        servers = {kind: PinnedServer(kind, threads, server_cores) for kind in KINDS}
        samples = {kind: [] for kind in KINDS}
        try:
            for round_number in range(args.rounds):
                order = KINDS[round_number % len(KINDS):] + KINDS[:round_number % len(KINDS)]
                for kind in order:
                    result = drive(servers[kind], threads, args.connections, args.size, args.seconds, generator_cores)
                    samples[kind].append(result)
                    print(f"{threads} threads, round {round_number + 1}, {kind:17} {result['requestsPerSecond']:>9,} req/s  "
                          f"p99 {result['p99']} us  server {result['serverCores']:.2f} cores  generator {result['generatorCores']:.2f} cores",
                          flush=True)
        finally:
            for server in servers.values():
                server.stop()
        anchor = statistics.median(s["requestsPerSecond"] for s in samples["c-epoll"])
        anchor_p99 = statistics.median(s["p99"] for s in samples["c-epoll"])
        for kind in KINDS:
            rps = statistics.median(s["requestsPerSecond"] for s in samples[kind])
            p99 = statistics.median(s["p99"] for s in samples[kind])
            rows.append((threads, kind, rps, rps / anchor, p99, p99 / anchor_p99,
                         statistics.median(s["serverCores"] for s in samples[kind]),
                         statistics.median(s["generatorCores"] for s in samples[kind])))

    generator_side = cores - half if cores > 1 else 1
    print(f"\nA generator near its {generator_side} core(s) measures itself: such rows are marked.")
    print("\n| threads | server | req/s | / C epoll | p99 µs | p99 / C | server cores | generator cores |")
    print("|---|---|---|---|---|---|---|---|")
    for threads, kind, rps, ratio, p99, p99_ratio, server_cores_used, generator_cores_used in rows:
        bound = " (generator-bound)" if generator_cores_used >= 0.95 * min(threads, generator_side) else ""
        print(f"| {threads} | {kind} | {rps:,.0f} | {ratio:.2f} | {p99:,.0f} | {p99_ratio:.2f} | {server_cores_used:.2f} | {generator_cores_used:.2f}{bound} |")


if __name__ == "__main__":
    main()
