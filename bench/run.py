#!/usr/bin/env python3
"""EchoHost against its baselines, side by side, on loopback.

    python3 bench/run.py [--rounds 5] [--seconds 3] [--idle 10000] [--quick]

Builds Release (EchoHost as Native AOT, as the container ships it), starts the native C epoll server
(bench/native/echo_server.c, gcc -O2: the anchor), EchoHost on each engine of its own Linux transport
(echohost-epoll and echohost-io_uring: Transport:Kind=Linux and IoUring) and on Kestrel's socket transport
(echohost-sockets: Transport:Kind=Sockets), the raw-Socket C# baseline
(bench/RawEcho) and the Python asyncio and uvloop baselines (bench/baselines/asyncio_echo.py, run with Debian's
/usr/bin/python3: apt-get install python3 python3-uvloop) on free loopback ports, drives every one with the
native `echoctl bench` (its epoll engine, which drives the C server at 0.9x or more of a native generator's
rate: bench/generator_compare.py), interleaving the servers within each round, and writes bench/results/<date>.md and bench/results/<date>.svg (the chart the README
shows is bench/results/latest.svg). Every number is the median of the rounds. Loopback only; a full run
takes about 10 minutes on 2 cores.
"""
import argparse
import datetime
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
RESULTS = REPO / "bench" / "results"
PREFIX = "Echoed back: "
DEBIAN_PYTHON = "/usr/bin/python3"
TICKS = os.sysconf("SC_CLK_TCK")


def build_native():
    (OUT / "native").mkdir(parents=True, exist_ok=True)
    for name in ("echo_server", "echo_load"):
        subprocess.run(["gcc", "-O2", "-Wall", "-o", str(OUT / "native" / name), str(REPO / "bench" / "native" / f"{name}.c"), "-lpthread"], check=True)


def publish():
    build_native()
    # EchoHost for the current runtime, as the Dockerfile publishes it for its target: a Native AOT executable.
    subprocess.run(["dotnet", "publish", str(REPO / "src" / "EchoHost"), "-c", "Release", "--use-current-runtime",
                    "-o", str(OUT / "echohost"), "--nologo", "-v", "quiet"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["dotnet", "publish", str(REPO / "bench" / "RawEcho"), "-c", "Release", "--use-current-runtime", "--self-contained", "false",
                    "-o", str(OUT / "rawecho"), "--nologo", "-v", "quiet"], check=True, stdout=subprocess.DEVNULL)
    publish_echoctl()


def publish_echoctl():
    # echoctl publishes as a native executable (PublishAot), as a user gets it.
    subprocess.run(["dotnet", "publish", str(REPO / "src" / "EchoHost.Client"), "-c", "Release", "-o", str(OUT / "echoctl"), "--nologo", "-v", "quiet"],
                   check=True, stdout=subprocess.DEVNULL)


ECHOCTL = OUT / "echoctl" / "echoctl"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# EchoHost's transports by name; plain "echohost" runs its default (Auto: io_uring where the kernel allows it).
ENGINES = {"echohost-epoll": "Linux", "echohost-io_uring": "IoUring", "echohost-sockets": "Sockets"}

# Kestrel and a transport with nothing of EchoHost's above them (bench/KestrelFloor): idle memory only, they never reply.
FLOORS = {"kestrel-floor-epoll": "epoll", "kestrel-floor-io_uring": "io_uring", "kestrel-floor-sockets": "sockets"}


def server_command(kind, port, prefix, log_messages=False):
    if kind == "echohost" or kind in ENGINES:
        command = [str(OUT / "echohost" / "EchoHost"), f"--Echo:Port={port}", "--Echo:Address=127.0.0.1",
                   "--Health:Port=0", "--Echo:MaxConnections=20000", f"--Echo:ReplyPrefix={prefix}", f"--Echo:Framing={'Line' if prefix else 'Chunk'}"]
        command += [f"--Transport:Kind={ENGINES[kind]}"] if kind in ENGINES else []
        return command if log_messages else command + ["--Serilog:MinimumLevel:Override:EchoHost.Echo=Warning"]
    if kind == "c-epoll":
        return [str(OUT / "native" / "echo_server"), "--port", str(port)] + (["--prefix", prefix] if prefix else [])
    if kind in FLOORS:
        return [str(OUT / "kestrelfloor" / "KestrelFloor"), str(port), FLOORS[kind]]
    if kind == "raw-csharp":
        return ["dotnet", str(OUT / "rawecho" / "RawEcho.dll"), str(port), prefix]
    script = str(REPO / "bench" / "baselines" / "asyncio_echo.py")
    return [DEBIAN_PYTHON, script, str(port), prefix] + (["--uvloop"] if kind == "uvloop" else [])


class Server:
    def __init__(self, kind, prefix, log_messages=False):
        self.kind, self.prefix, self.port = kind, prefix, free_port()
        # The raw .NET baseline gets the inline socket completions EchoHost turns on for itself.
        environment = dict(os.environ, DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS="1")
        self.process = subprocess.Popen(server_command(kind, self.port, prefix, log_messages), env=environment,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.started = time.perf_counter()
        self.ready_after = wait_for_port(self.port, self.process)

    def cpu_seconds(self):
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def rss_bytes(self):
        return rss_bytes(self.process.pid)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def rss_bytes(pid):
    """A process's resident memory (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def wait_for_port(port, process, timeout=20):
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"server on {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.05):
                return time.perf_counter() - started
        except OSError:
            time.sleep(0.001)
    raise RuntimeError(f"nothing listens on {port}")


def bench(server, mode, connections, size, seconds):
    prefix_bytes = len(server.prefix.encode())
    cpu_before = server.cpu_seconds()
    generator_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run = subprocess.run([str(ECHOCTL), "bench", "--port", str(server.port),
                          "--mode", mode, "--connections", str(connections), "--size", str(size),
                          "--prefix-bytes", str(prefix_bytes), "--duration", f"{seconds}s", "--json"],
                         capture_output=True, text=True)
    generator_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(run.stdout)
    cpu = server.cpu_seconds() - cpu_before
    if run.returncode != 0:
        raise RuntimeError(f"{server.kind} {mode}: {run.stderr.strip()}")
    result["cpuMicrosecondsPerRequest"] = cpu * 1e6 / max(result["requests"], 1)
    # The generator shares the cores with the server: a share near a whole core means it, not the server, set the rate.
    generator_cpu = (generator_after.ru_utime + generator_after.ru_stime) - (generator_before.ru_utime + generator_before.ru_stime)
    result["generatorCpu"] = generator_cpu / max(result["seconds"], 1e-9)
    result["rss"] = server.rss_bytes()
    return result


CASES = [
    # name, prefix, mode, connections, size
    ("pingpong 1 KiB pure echo, 10 conn", "", "pingpong", 10, 1024),
    ("pingpong 1 KiB pure echo, 100 conn", "", "pingpong", 100, 1024),
    ("pingpong 64 B + prefix, 10 conn", PREFIX, "pingpong", 10, 64),
    ("pingpong 64 B + prefix, 100 conn", PREFIX, "pingpong", 100, 64),
    ("pingpong 16 KiB pure echo, 10 conn", "", "pingpong", 10, 16384),
    ("stream 16 KiB pure echo, 10 conn", "", "stream", 10, 16384),
    ("churn 64 B pure echo, 10 conn", "", "churn", 10, 64),
]
SERVERS = ["c-epoll", "echohost-epoll", "echohost-io_uring", "echohost-sockets", "raw-csharp", "asyncio", "uvloop"]
ANCHOR = "c-epoll"


def matrix(rounds, seconds, servers):
    running = {(kind, prefix): Server(kind, prefix) for kind in servers for prefix in ("", PREFIX)}
    samples = {}
    try:
        for round_number in range(rounds):
            for name, prefix, mode, connections, size in CASES:
                # Rotate the order each round so no server always runs first or last.
                order = servers[round_number % len(servers):] + servers[:round_number % len(servers)]
                for kind in order:
                    result = bench(running[(kind, prefix)], mode, connections, size, seconds)
                    samples.setdefault((name, kind), []).append(result)
                    print(f"round {round_number + 1}/{rounds} {name:38} {kind:10} {result['requestsPerSecond']:>12,.0f}/s", flush=True)
    finally:
        for server in running.values():
            server.stop()
    return samples


def logging_cost(rounds, seconds):
    quiet, logged = Server("echohost-epoll", PREFIX), Server("echohost-epoll", PREFIX, log_messages=True)
    rates = {"per-message logging off": [], "default logging (Information)": []}
    try:
        for _ in range(rounds):
            rates["per-message logging off"].append(bench(quiet, "pingpong", 10, 64, seconds)["requestsPerSecond"])
            rates["default logging (Information)"].append(bench(logged, "pingpong", 10, 64, seconds)["requestsPerSecond"])
    finally:
        quiet.stop()
        logged.stop()
    return {k: statistics.median(v) for k, v in rates.items()}


def idle_memory(kind, count):
    server = Server(kind, "")
    try:
        time.sleep(1)
        before = server.rss_bytes()
        clients = []
        for _ in range(count):
            clients.append(socket.create_connection(("127.0.0.1", server.port)))
        time.sleep(2)
        after = server.rss_bytes()
        for client in clients:
            client.close()
        return (after - before) / count
    finally:
        server.stop()


def startup_times(kind, runs=7):
    times = []
    for _ in range(runs):
        server = Server(kind, PREFIX)
        times.append(server.ready_after)
        server.stop()
    return statistics.median(times)


def median(results, key):
    return statistics.median(r[key] for r in results)


def median_latency(results, key):
    values = [r["latency"][key] for r in results if r.get("latency")]
    return statistics.median(values) if values else None


def chart(samples, servers, path):
    """A grouped bar chart of median requests/s (MB/s for stream) per case, as plain SVG."""
    colors = {"c-epoll": "#1a202c", "echohost-epoll": "#2b6cb0", "echohost-io_uring": "#553c9a", "echohost-sockets": "#63b3ed", "raw-csharp": "#718096", "asyncio": "#dd6b20", "uvloop": "#38a169"}
    width, bar, left = 760, 16, 130
    row = 24 + len(servers) * (bar + 2)
    height = 40 + row * len(CASES) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
             '<rect width="100%" height="100%" fill="white"/>',
             '<text x="10" y="20" font-size="14" font-weight="bold">Echo servers on 2 cores, loopback: median of the rounds</text>']
    for i, (name, _, mode, _, _) in enumerate(CASES):
        y0 = 40 + i * row
        unit, key = ("MB/s", "megabytesPerSecond") if mode == "stream" else ("req/s", "requestsPerSecond")
        values = {k: median(samples[(name, k)], key) for k in servers if (name, k) in samples}
        top = max(values.values()) or 1
        parts.append(f'<text x="10" y="{y0 + 10}" font-weight="bold">{name} ({unit})</text>')
        for j, kind in enumerate(servers):
            if kind not in values:
                continue
            y = y0 + 16 + j * (bar + 2)
            w = (width - left - 160) * values[kind] / top
            parts.append(f'<text x="10" y="{y + 12}">{kind}</text>')
            parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar}" fill="{colors[kind]}"/>')
            parts.append(f'<text x="{left + 6 + w:.1f}" y="{y + 12}">{values[kind]:,.0f}</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")


def report(samples, servers, logging, idle, startup, args, path):
    lines = [f"# Benchmark results, {datetime.date.today().isoformat()}", "",
             f"Machine: {os.cpu_count()} cores, loopback; `python3 bench/run.py --rounds {args.rounds} --seconds {args.seconds}`. "
             f"Medians of {args.rounds} interleaved rounds of {args.seconds} s each; the load generator (`echoctl bench`) "
             "shares the 2 cores with the server, as it does for every server; `x c-epoll` is the ratio to the C epoll server "
             "(MB/s for stream, req/s otherwise). Server CPU is user + system time of the "
             "server process over the run, divided by the requests; generator CPU is the generator's user + system time "
             "over the run's length, in cores.", ""]
    for name, _, mode, _, _ in CASES:
        lines += [f"## {name}", "",
                  f"| server | req/s | MB/s | x {ANCHOR} | p50 µs | p99 µs | p99.9 µs | server CPU µs/req | generator CPU | RSS MiB |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        anchor = samples.get((name, ANCHOR))
        key = "megabytesPerSecond" if mode == "stream" else "requestsPerSecond"
        for kind in servers:
            results = samples.get((name, kind))
            if not results:
                continue
            latency = [median_latency(results, k) for k in ("p50", "p99", "p999")]
            shown = ["-" if v is None else f"{v:,.0f}" for v in latency]
            ratio = f"{median(results, key) / median(anchor, key):.2f}" if anchor else "-"
            lines.append(f"| {kind} | {median(results, 'requestsPerSecond'):,.0f} | {median(results, 'megabytesPerSecond'):,.1f} | {ratio} | "
                         f"{' | '.join(shown)} | {median(results, 'cpuMicrosecondsPerRequest'):.1f} | {median(results, 'generatorCpu'):.0%} | {median(results, 'rss') / 2**20:.0f} |")
        lines.append("")
    if logging:
        off, on = logging["per-message logging off"], logging["default logging (Information)"]
        lines += ["## Logging cost (EchoHost on epoll, pingpong 64 B + prefix, 10 connections)", "",
                  "| configuration | req/s |", "|---|---:|"]
        lines += [f"| {k} | {v:,.0f} |" for k, v in logging.items()]
        lines += ["", f"Default logging costs {100 * (1 - on / off):.0f}% of the throughput.", ""]
    if idle:
        lines += [f"## Idle connections ({args.idle:,} open, RSS growth per connection)", "", "| server | KiB per connection |", "|---|---:|"]
        lines += [f"| {k} | {v / 1024:.2f} |" for k, v in idle.items()]
        lines.append("")
    if startup:
        lines += ["## Start-up: process start to the echo port accepting (median of 7)", "", "| server | ms |", "|---|---:|"]
        lines += [f"| {k} | {v * 1000:.0f} |" for k, v in startup.items()]
        lines.append("")
    path.write_text("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--idle", type=int, default=10000, help="idle connections for the memory measurement")
    parser.add_argument("--quick", action="store_true", help="1 round of 1 s, no idle, start-up or logging phases")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds = 1, 1

    servers = list(SERVERS)
    if not Path(DEBIAN_PYTHON).exists():
        sys.exit(f"{DEBIAN_PYTHON} is missing: apt-get install python3 python3-uvloop")
    if subprocess.run([DEBIAN_PYTHON, "-c", "import uvloop"], capture_output=True).returncode != 0:
        print("python3-uvloop is not installed (apt-get install python3-uvloop); running without the uvloop baseline")
        servers.remove("uvloop")

    publish()
    samples = matrix(args.rounds, args.seconds, servers)
    logging = None if args.quick else logging_cost(args.rounds, args.seconds)
    idle = None if args.quick else {kind: idle_memory(kind, args.idle) for kind in servers}
    startup = None if args.quick else {kind: startup_times(kind) for kind in ("c-epoll", "echohost-epoll", "echohost-io_uring", "echohost-sockets", "raw-csharp")}

    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / datetime.date.today().isoformat()
    report(samples, servers, logging, idle, startup, args, stem.with_suffix(".md"))
    chart(samples, servers, stem.with_suffix(".svg"))
    shutil.copyfile(stem.with_suffix(".svg"), RESULTS / "latest.svg")
    print(stem.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
