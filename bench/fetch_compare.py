#!/usr/bin/env python3
"""echoctl fetch (defaults) next to the chapter's aiohttp downloader (example5) and curl -Z, on the same URLs.

    python3 bench/fetch_compare.py [--rounds 5]

Needs python3-aiohttp (the Debian package) and curl. Starts bench/baselines/fetch_origin.py on loopback and,
for each scenario (URLs x server delay x body size), runs the three clients in turn, the order rotating from
round to round, each into an empty folder. A run counts only when every file arrived whole. Reports the median
wall time of the whole process (start-up included, as a user waits for it), and the origin's CPU share, so a
reader can see whether the origin was the limit.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as suite  # noqa: E402  (publish, free_port, wait_for_port, TICKS)

SCENARIOS = [(200, 50, 10 * 1024), (20, 200, 100 * 1024), (1000, 20, 4 * 1024)]
CLIENTS = ["example5", "curl -Z", "echoctl fetch"]


def command(client, listing, folder, urls):
    if client == "example5":
        return [suite.DEBIAN_PYTHON, str(suite.REPO / "bench" / "baselines" / "example5_fetch.py"), str(listing), str(folder)]
    if client == "curl -Z":
        config = folder.with_suffix(".curl")
        config.write_text("".join(f'url = "{url}"\noutput = "{folder / name}"\n' for url, name in urls))
        return ["curl", "-sS", "-Z", "--parallel-max", "50", "--create-dirs", "-K", str(config)]
    return [str(suite.ECHOCTL), "fetch", "-i", str(listing), "--out", str(folder)]


def whole(folder, urls, size):
    return all((folder / name).is_file() and (folder / name).stat().st_size == size for _, name in urls)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    suite.publish()
    port = suite.free_port()
    origin = subprocess.Popen([suite.DEBIAN_PYTHON, str(suite.REPO / "bench" / "baselines" / "fetch_origin.py"), str(port)])
    suite.wait_for_port(port, origin)
    work = Path(tempfile.mkdtemp(prefix="fetch-bench-"))
    samples, origin_share = {}, {}
    try:
        for round_number in range(arguments.rounds):
            for count, delay, size in SCENARIOS:
                scenario = f"{count} x {delay} ms x {size // 1024} KiB"
                urls = [(f"http://127.0.0.1:{port}/{delay}/{size}/f{i}", f"f{i}") for i in range(count)]
                listing = work / "urls.txt"
                listing.write_text("".join(f"{url}\t{name}\n" for url, name in urls))
                order = CLIENTS[round_number % len(CLIENTS):] + CLIENTS[:round_number % len(CLIENTS)]
                for client in order:
                    folder = work / "out"
                    shutil.rmtree(folder, ignore_errors=True)
                    folder.mkdir()
                    origin_before = cpu_seconds(origin.pid)
                    started = time.perf_counter()
                    done = subprocess.run(command(client, listing, folder, urls), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                    seconds = time.perf_counter() - started
                    ok = done.returncode == 0 and whole(folder, urls, size)
                    share = (cpu_seconds(origin.pid) - origin_before) / seconds
                    print(f"round {round_number + 1}/{arguments.rounds} {scenario:24} {client:14} {seconds:6.3f} s  origin CPU {share:.0%}"
                          f"{'' if ok else '  FAILED: ' + done.stderr.strip()[-200:]}", flush=True)
                    if ok:
                        samples.setdefault((scenario, client), []).append(seconds)
                        origin_share.setdefault((scenario, client), []).append(share)
    finally:
        origin.terminate()
        origin.wait()
        shutil.rmtree(work, ignore_errors=True)

    print()
    print("| URLs x delay x size | " + " | ".join(CLIENTS) + " | echoctl / example5 | echoctl / curl -Z |")
    print("|---|" + "---:|" * (len(CLIENTS) + 2))
    for count, delay, size in SCENARIOS:
        scenario = f"{count} x {delay} ms x {size // 1024} KiB"
        medians = {c: statistics.median(samples[(scenario, c)]) if samples.get((scenario, c)) else None for c in CLIENTS}
        cells = [f"{medians[c]:.2f} s ({len(samples.get((scenario, c), []))} ok)" if medians[c] else "failed" for c in CLIENTS]
        ours = medians["echoctl fetch"]
        ratios = [f"{ours / medians[c]:.2f}" if ours and medians[c] else "-" for c in ("example5", "curl -Z")]
        print(f"| {scenario} | " + " | ".join(cells + ratios) + " |")


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / suite.TICKS


if __name__ == "__main__":
    main()
