#!/usr/bin/env python3
"""Where a server's CPU goes under load, by perf sampling: the kernel, libc, its own code, and its busiest functions.

    python3 bench/profile.py [--rounds 3] [--seconds 3] [--top 15] NAME=PATH[,ARG...] [NAME=PATH[,ARG...] ...]

Each PATH is a Native AOT EchoHost build (`dotnet publish src/EchoHost -c Release --use-current-runtime -o DIR`,
PATH being DIR/EchoHost), run with the ARGs given (`--Transport:Kind=Linux` for the epoll engine); the C epoll
server from bench/native runs beside them. In each round every server in turn is driven by the native generator
(1 KiB pure echo, 100 connections) while `perf record -e cpu-clock` samples it for --seconds, after a second of
warm-up. Printed per server: the medians over the rounds of req/s, server CPU per request, and each part's share of
the server's samples; then, from the last round, the functions of the server's own code with the most samples.
A part's share times CPU per request is its time per request, so two servers compare part by part: the kernel's
work for the same system calls, and the code each adds around them. Timer sampling in a VM is coarse, and a
function's samples include its cache misses; read shares under 0.3% as noise. Needs perf. Loopback only.
"""
import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as suite  # noqa: E402  (build_native, free_port, wait_for_port, server_command, OUT)

NATIVE = suite.OUT / "native"
CONNECTIONS, SIZE = 100, 1024
PARTS = ("kernel", "libc", "own code", "other")


def start(name, command):
    port = suite.free_port()
    if name == "c-epoll":
        argv = [str(NATIVE / "echo_server"), "--port", str(port)]
    else:
        argv = suite.server_command("echohost", port, "") + command[1:]
        argv[0] = command[0]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    suite.wait_for_port(port, process)
    return process, port


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100


def profile(process, port, seconds, data):
    load = subprocess.Popen([str(NATIVE / "echo_load"), "--port", str(port), "--connections", str(CONNECTIONS), "--size", str(SIZE),
                             "--prefix-bytes", "0", "--seconds", str(seconds + 2)], stdout=subprocess.PIPE, text=True)
    time.sleep(1)
    before = cpu_seconds(process.pid)
    subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "4999", "-p", str(process.pid), "-o", str(data), "--",
                    "sleep", str(seconds)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    used = cpu_seconds(process.pid) - before
    rate = json.loads(load.communicate()[0])["requestsPerSecond"]
    return rate, used * 1e6 / max(rate * seconds, 1)


def shares(data, executable):
    report = subprocess.run(["perf", "report", "-i", str(data), "--no-children", "--sort", "dso", "--stdio"],
                            capture_output=True, text=True, check=True).stdout
    parts = dict.fromkeys(PARTS, 0.0)
    for share, dso in re.findall(r"^\s+([\d.]+)%\s+(\S+)", report, re.MULTILINE):
        part = "kernel" if dso.startswith("[kernel") else "libc" if dso.startswith("libc") else "own code" if dso == executable else "other"
        parts[part] += float(share)
    return parts


def top_functions(data, executable, count):
    report = subprocess.run(["perf", "report", "-i", str(data), "--no-children", "--dsos", executable, "--sort", "sym", "--stdio"],
                            capture_output=True, text=True, check=True).stdout
    return re.findall(r"^\s+([\d.]+)%\s+\[\.\]\s+(\S+)", report, re.MULTILINE)[:count]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("builds", nargs="+", metavar="NAME=PATH[,ARG...]")
    arguments = parser.parse_args()
    suite.build_native()
    servers = {"c-epoll": [str(NATIVE / "echo_server")]}
    servers.update((name, spec.split(",")) for name, spec in (b.split("=", 1) for b in arguments.builds))
    running = {name: start(name, command) for name, command in servers.items()}
    samples = {name: [] for name in servers}
    tops = {}
    try:
        with tempfile.TemporaryDirectory() as scratch:
            for round_number in range(arguments.rounds):
                names = list(servers)
                order = names[round_number % len(names):] + names[:round_number % len(names)]
                for name in order:
                    process, port = running[name]
                    data = Path(scratch) / f"{name}.data"
                    executable = Path(servers[name][0]).name
                    rate, cpu = profile(process, port, arguments.seconds, data)
                    samples[name].append((rate, cpu, shares(data, executable)))
                    tops[name] = top_functions(data, executable, arguments.top)
                    print(f"round {round_number + 1}/{arguments.rounds} {name:12} {rate:>9,.0f}/s  {cpu:.1f} us/req", flush=True)
    finally:
        for process, _ in running.values():
            process.kill()

    print(f"\n1 KiB pure echo, {CONNECTIONS} connections, medians of {arguments.rounds} rounds\n")
    print("| server | req/s | CPU µs/req | " + " | ".join(PARTS) + " | own code µs/req |")
    print("|---|---:|---:|" + "---:|" * (len(PARTS) + 1))
    for name, runs in samples.items():
        cpu = statistics.median(r[1] for r in runs)
        parts = {part: statistics.median(r[2][part] for r in runs) for part in PARTS}
        print(f"| {name} | {statistics.median(r[0] for r in runs):,.0f} | {cpu:.1f} | "
              + " | ".join(f"{parts[part]:.1f}%" for part in PARTS) + f" | {cpu * parts['own code'] / 100:.2f} |")
    for name, functions in tops.items():
        print(f"\n{name}, last round: the own code's functions with the most samples (share of all the server's samples)")
        for share, function in functions:
            print(f"  {float(share):6.2f}%  {function}")


if __name__ == "__main__":
    main()
