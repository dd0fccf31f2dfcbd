#!/usr/bin/env python3
"""EchoHost variants next to the native C epoll server, driven by the native C generator, interleaved.

    python3 bench/native_compare.py [--rounds 5] [--seconds 3] [--server-cpu 0.5] [--stream] [--churn]
                                    [--variant NAME=ARGS ...] [--pair NEW/OLD ...]

Builds bench/native (gcc -O2) and a Release EchoHost, starts the C server and one EchoHost per variant (the
default variants: metrics on, metrics off), and runs each case against each server in turn, the order
rotating from round to round. Every figure is the median of the rounds; "x C epoll" is the median of each
round's ratio to the C server's rate in that round, since the machine's speed moves between rounds. For each run
it also records the generator's and the server's CPU time, so a reader can check that the generator was not the
bottleneck (it must drive the C server faster than any EchoHost). Loopback only.

On 2 cores a server as cheap per request as the generator is limited by the generator. --server-cpu FRACTION
holds every server, C's included, to that fraction of one core (a cgroup CPU quota over 10 ms periods; needs root
and the cgroup cpu controller), so the generator keeps headroom and each rate is the server's own: its CPU per
request against the quota. p99 is then the quota's throttling, not the server's. --stream adds stream 16 KiB at 10
connections (echo_load --mode stream), in MB/s. --churn adds churn 64 B at 10 connections, each connection one
request, in connections per second; echo_load has no churn mode, so echoctl drives it. --pair NEW/OLD prints, per case, each round's ratio of one server's
rate to another's and their median: two builds compared within each round, as "x C epoll" compares with C.
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
import run as suite  # noqa: E402  (the shared helpers: publish, free_port, Server's /proc readings)

BUILD = suite.OUT / "native"

CASES = [
    # name, prefix, connections, size
    ("pingpong 1 KiB pure echo, 100 conn", "", 100, 1024),
    ("pingpong 64 B + prefix, 50 conn", suite.PREFIX, 50, 64),
]
# Its rate in MB/s of replies.
STREAM = ("stream 16 KiB, 10 conn (MB/s)", "", 10, 16384)
# Its rate in connections per second.
CHURN = ("churn 64 B, 10 conn (conn/s)", "", 10, 64)


class HostVariant(suite.Server):
    def __init__(self, name, prefix, extra):
        self.kind, self.prefix, self.port = name, prefix, suite.free_port()
        command = suite.server_command("echohost", self.port, prefix) + extra
        environment = dict(os.environ)
        for argument in list(extra):
            if argument.startswith("env:"):
                key, value = argument[4:].split("=", 1)
                environment[key] = value
                command.remove(argument)
            elif argument.startswith("exe:"):
                command[0] = argument[4:]
                command.remove(argument)
        self.process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.ready_after = suite.wait_for_port(self.port, self.process)


class CpuQuota:
    """A cgroup (v1 cpu controller, or v2 with cpu enabled) holding the processes put in it to a share of one core."""
    PERIOD_US = 10_000

    def __init__(self, name, fraction):
        v1, v2 = Path("/sys/fs/cgroup/cpu"), Path("/sys/fs/cgroup")
        quota = int(fraction * self.PERIOD_US)
        if (v1 / "cpu.cfs_quota_us").exists():
            self.path = v1 / name
            self.path.mkdir(exist_ok=True)
            (self.path / "cpu.cfs_period_us").write_text(str(self.PERIOD_US))
            (self.path / "cpu.cfs_quota_us").write_text(str(quota))
        elif "cpu" in (v2 / "cgroup.subtree_control").read_text().split():
            self.path = v2 / name
            self.path.mkdir(exist_ok=True)
            (self.path / "cpu.max").write_text(f"{quota} {self.PERIOD_US}")
        else:
            raise SystemExit("--server-cpu needs the cgroup cpu controller, writable (root): neither "
                             "/sys/fs/cgroup/cpu (v1) nor cpu in /sys/fs/cgroup/cgroup.subtree_control (v2)")

    def hold(self, pid):
        (self.path / "cgroup.procs").write_text(str(pid))

    def remove(self):
        self.path.rmdir()


def generator_command(generator, server, connections, size, seconds, mode="pingpong"):
    prefix_bytes = str(len(server.prefix.encode()))
    if generator == "echo_load":
        return [str(BUILD / "echo_load"), "--port", str(server.port), "--mode", mode, "--connections", str(connections),
                "--size", str(size), "--prefix-bytes", prefix_bytes, "--seconds", str(seconds)]
    return [str(suite.ECHOCTL), "bench", "--mode", mode, "--host", "127.0.0.1", "--port", str(server.port), "--connections",
            str(connections), "--size", str(size), "--prefix-bytes", prefix_bytes, "--duration", f"{seconds}s", "--json"]


def load(server, connections, size, seconds, generator="echo_load", mode="pingpong"):
    """One run of a generator (echo_load or echoctl) against a server, with both processes' CPU."""
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before = server.cpu_seconds()
    run = subprocess.run(generator_command(generator, server, connections, size, seconds, mode), capture_output=True, text=True)
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    if run.returncode != 0:
        raise RuntimeError(f"{server.kind} driven by {generator}: {run.stdout} {run.stderr}")
    result = json.loads(run.stdout)
    requests = max(result["requestsPerSecond"] * seconds, 1)
    result["serverCpuMicrosecondsPerRequest"] = (server.cpu_seconds() - cpu_before) * 1e6 / requests
    generator = (after_children.ru_utime - before_children.ru_utime) + (after_children.ru_stime - before_children.ru_stime)
    result["generatorCpuShare"] = generator / seconds
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--stream", action="store_true", help="add stream 16 KiB at 10 connections")
    parser.add_argument("--churn", action="store_true", help="add churn 64 B at 10 connections (driven by echoctl)")
    parser.add_argument("--server-cpu", type=float, metavar="FRACTION",
                        help="hold every server to this fraction of one core (0.1-1), so the generator is not the limit")
    parser.add_argument("--variant", action="append", default=[],
                        help="NAME=ARG[,ARG...]: an EchoHost with these extra arguments (env:KEY=VALUE sets a variable, "
                             "exe:PATH runs another EchoHost executable, such as an earlier commit's build)")
    parser.add_argument("--pair", action="append", default=[], metavar="NEW/OLD",
                        help="also print each round's ratio of NEW's rate to OLD's, and their median (c-epoll or a variant's NAME)")
    arguments = parser.parse_args()
    variants = dict(v.split("=", 1) for v in arguments.variant) or {"metrics-on": "--Metrics:Enabled=true", "metrics-off": "--Metrics:Enabled=false"}
    pairs = [tuple(pair.split("/", 1)) for pair in arguments.pair]
    for pair in pairs:
        if len(pair) != 2 or not set(pair) <= {"c-epoll", *variants}:
            parser.error(f"--pair takes NEW/OLD, two of: c-epoll, {', '.join(variants)}")
    if arguments.server_cpu is not None and not 0.1 <= arguments.server_cpu <= 1:
        parser.error("--server-cpu is a fraction of one core, from 0.1 to 1")
    quota = CpuQuota(f"echohost-bench-{os.getpid()}", arguments.server_cpu) if arguments.server_cpu else None

    cases = CASES + ([STREAM] if arguments.stream else []) + ([CHURN] if arguments.churn else [])
    # Variants that all name their own executable (exe:PATH) need only the native tools (and echoctl for churn).
    if all("exe:" in extra for extra in variants.values()):
        suite.build_native()
        if arguments.churn and not suite.ECHOCTL.exists():
            suite.publish_echoctl()
    else:
        suite.publish()
    servers = {}
    for prefix in dict.fromkeys(prefix for _, prefix, _, _ in cases):
        servers[("c-epoll", prefix)] = suite.Server("c-epoll", prefix)
        for name, extra in variants.items():
            servers[(name, prefix)] = HostVariant(name, prefix, [a for a in extra.split(",") if a])
    if quota:
        for server in servers.values():
            quota.hold(server.process.pid)
    kinds = ["c-epoll", *variants]
    samples = {}
    try:
        for round_number in range(arguments.rounds):
            for case, prefix, connections, size in cases:
                stream = (case, prefix, connections, size) == STREAM
                churn = (case, prefix, connections, size) == CHURN
                order = kinds[round_number % len(kinds):] + kinds[:round_number % len(kinds)]
                for kind in order:
                    result = load(servers[(kind, prefix)], connections, size, arguments.seconds,
                                  generator="echoctl" if churn else "echo_load",
                                  mode="stream" if stream else "churn" if churn else "pingpong")
                    result["rate"] = result["megabytesPerSecond" if stream else "requestsPerSecond"]
                    if churn:
                        result["p99"] = result["latency"]["p99"]
                    if stream:
                        result["p99"] = "-"
                    samples.setdefault((case, kind), []).append(result)
                    print(f"round {round_number + 1}/{arguments.rounds} {case:36} {kind:12} {result['rate']:>9,.0f}/s "
                          f"p99 {result['p99']:>5} us  server {result['serverCpuMicrosecondsPerRequest']:.1f} us/req  "
                          f"generator CPU {result['generatorCpuShare']:.0%}", flush=True)
    finally:
        for server in servers.values():
            server.stop()
        if quota:
            quota.remove()

    print()
    if quota:
        print(f"Every server held to {arguments.server_cpu:g} of one core.")
    print("| case | server | req/s | x C epoll | p99 µs | server CPU µs/req | generator CPU |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for case, *_ in cases:
        anchors = samples[(case, "c-epoll")]
        for kind in kinds:
            runs = samples[(case, kind)]
            rate = statistics.median(r["rate"] for r in runs)
            ratio = statistics.median(r["rate"] / c["rate"] for r, c in zip(runs, anchors))
            p99 = [r["p99"] for r in runs if r["p99"] != "-"]
            print(f"| {case} | {kind} | {rate:,.0f} | {ratio:.2f} | {f'{statistics.median(p99):,.0f}' if p99 else '-'} | "
                  f"{statistics.median(r['serverCpuMicrosecondsPerRequest'] for r in runs):.1f} | "
                  f"{statistics.median(r['generatorCpuShare'] for r in runs):.0%} |")
    for new, old in pairs:
        print()
        for case, *_ in cases:
            ratios = [n["rate"] / o["rate"] for n, o in zip(samples[(case, new)], samples[(case, old)])]
            print(f"{new}/{old}, {case}: median {statistics.median(ratios):.3f} of {len(ratios)} rounds: "
                  + " ".join(f"{ratio:.2f}" for ratio in ratios))


if __name__ == "__main__":
    main()
