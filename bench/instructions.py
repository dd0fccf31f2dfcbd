#!/usr/bin/env python3
"""Instructions per request in the server's own code, counted by callgrind: a figure the machine's noise does not move.

    python3 bench/instructions.py [--seconds 10] [--top 12] [--order-file PATH] NAME=PATH [NAME=PATH ...]

Each PATH is a Native AOT EchoHost build (`dotnet publish src/EchoHost -c Release --use-current-runtime -o DIR`,
PATH being DIR/EchoHost). Each runs on the epoll engine with one reactor thread under `valgrind --tool=callgrind`,
counting only inside the reactor's loop (`EpollReactor.Run` and everything it calls: the receive, the protocol's
turn, the send); the C epoll server from bench/native runs beside them, counted whole. The native generator drives
each for the same time, 10 connections, in the two cases of native_compare.py. The figure is the instructions
counted divided by the requests served: the user-space work per request. Kernel time is not in it, so it is the
part of CPU per request where EchoHost and the C server differ; compare builds by it where timings are too noisy to
tell them apart. Needs valgrind. Loopback only.

--order-file writes the functions the first build ran inside the reactor's loop, the busiest first, one symbol a
line: src/EchoHost/HotPath.order, from which Native AOT lays the per-request code out together (see EchoHost.csproj).
Run it again after renaming or adding a method on that path.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as suite  # noqa: E402  (build_native, free_port, wait_for_port, server_command)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))
from hot_path_layout import managed_methods  # noqa: E402  (what the end-to-end check reads as the build's methods)

NATIVE = suite.OUT / "native"
REACTOR_LOOP = "EchoHost_Transport_Linux_EchoHost_Transport_Linux_EpollReactor__Run"
CASES = [
    # name, prefix, size
    ("1 KiB pure echo", "", 1024),
    ("64 B + prefix", suite.PREFIX, 64),
]


def readable_copy(executable, directory):
    """The build with a symbol file valgrind can read: the DWARF of Native AOT's .dbg is more than it parses."""
    copy = directory / "EchoHost"
    shutil.copy(executable, copy)
    shutil.copy(executable.parent / "appsettings.json", directory)
    subprocess.run(["objcopy", "--strip-debug", str(executable.with_suffix(".dbg")), str(directory / "EchoHost.dbg")], check=True)
    subprocess.run(["objcopy", "--remove-section=.gnu_debuglink", str(copy)], check=True)
    subprocess.run(["objcopy", "--add-gnu-debuglink=EchoHost.dbg", str(copy)], check=True, cwd=directory)
    return copy


def count(command, port, prefix, size, seconds, out, toggle):
    callgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
    callgrind += ["--collect-atstart=no", f"--toggle-collect={toggle}"] if toggle else []
    # The GC reserves less address space than valgrind allows only when told a limit.
    environment = dict(os.environ, DOTNET_GCHeapHardLimit="C800000")
    server = subprocess.Popen(callgrind + command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        suite.wait_for_port(port, server, timeout=120)
        run = subprocess.run([str(NATIVE / "echo_load"), "--port", str(port), "--connections", "10", "--size", str(size),
                              "--prefix-bytes", str(len(prefix.encode())), "--seconds", str(seconds)],
                             capture_output=True, text=True, check=True)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
    requests = json.loads(run.stdout)["requestsPerSecond"] * seconds
    total = int(re.search(r"^summary: (\d+)", out.read_text(), re.M).group(1))
    return total / max(requests, 1), requests


def functions(out, requests):
    """Every function counted, with its own instructions per request, the most first."""
    annotated = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", str(out)],
                               capture_output=True, text=True).stdout
    rows = []
    for line in annotated.splitlines():
        match = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+\S*?:(\S+)", line)
        if match and "PROGRAM TOTALS" not in line:
            rows.append((int(match.group(1).replace(",", "")) / requests, match.group(2)))
    return rows


def write_order(path, results, build, executable):
    """
    The build's managed methods of every case, each once, by their busiest case's instructions per request: those
    Native AOT compiled into its __managedcode section, which it can lay out (the runtime's and libc's code it links).
    """
    managed = managed_methods(executable.with_suffix(".dbg"))
    busiest = {}
    for _, name, _, rows in results:
        if name == build:
            for per_request, function in rows:
                if function in managed:
                    busiest[function] = max(busiest.get(function, 0), per_request)
    ordered = sorted(busiest, key=lambda function: (-busiest[function], function))
    Path(path).write_text("".join(f"{function}\n" for function in ordered if busiest[function] >= 1))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--top", type=int, default=12, help="the functions with the most instructions of their own, per build")
    parser.add_argument("--order-file", metavar="PATH", help="write the first build's per-request functions here")
    parser.add_argument("builds", nargs="+", metavar="NAME=PATH")
    arguments = parser.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("instructions.py needs valgrind (apt-get install -y valgrind)")
    suite.build_native()

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        builds = {}
        for entry in arguments.builds:
            name, path = entry.split("=", 1)
            (scratch / name).mkdir()
            builds[name] = readable_copy(Path(path).resolve(), scratch / name)

        results = []
        for case, prefix, size in CASES:
            port = suite.free_port()
            c_command = suite.server_command("c-epoll", port, prefix)
            per_request, _ = count(c_command, port, prefix, size, arguments.seconds, scratch / f"c.{port}", None)
            results.append((case, "c-epoll", per_request, []))
            for name, executable in builds.items():
                port = suite.free_port()
                command = suite.server_command("echohost", port, prefix)
                command[0] = str(executable)
                command += ["--Transport:Kind=Linux", "--Transport:Threads=1"]
                out = scratch / f"{name}.{port}"
                per_request, requests = count(command, port, prefix, size, arguments.seconds, out, REACTOR_LOOP)
                results.append((case, name, per_request, functions(out, requests)))
                time.sleep(0.5)

    print("| case | server | instructions per request |")
    print("|---|---|---:|")
    for case, name, per_request, _ in results:
        print(f"| {case} | {name} | {per_request:,.0f} |")
    for case, name, _, rows in results:
        if rows:
            print(f"\n{case}, {name}: instructions per request of each function's own code")
            for per_request, function in rows[:arguments.top]:
                print(f"  {per_request:8,.0f}  {function}")
    if arguments.order_file:
        name, path = arguments.builds[0].split("=", 1)
        write_order(arguments.order_file, results, name, Path(path).resolve())


if __name__ == "__main__":
    main()
