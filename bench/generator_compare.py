#!/usr/bin/env python3
"""Is echoctl bench the bottleneck? It and the native generator (bench/native/echo_load.c) drive the native C
epoll server in turn, interleaved, same cases, median of the rounds.

    python3 bench/generator_compare.py [--rounds 5] [--seconds 3]

echoctl must reach at least 0.9x the native generator's request rate for its figures to describe the server.
Each run also reports the generator's CPU share: a generator at 100% of a core is the limit of that run.
"""
import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import native_compare as native  # noqa: E402  (CASES, load)
import run as suite  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=3)
    arguments = parser.parse_args()
    suite.publish()
    generators = ["echo_load", "echoctl"]
    servers = {prefix: suite.Server("c-epoll", prefix) for _, prefix, _, _ in native.CASES}
    samples = {}
    try:
        for round_number in range(arguments.rounds):
            for case, prefix, connections, size in native.CASES:
                for generator in generators[round_number % 2:] + generators[:round_number % 2]:
                    result = native.load(servers[prefix], connections, size, arguments.seconds, generator)
                    samples.setdefault((case, generator), []).append(result)
                    print(f"round {round_number + 1}/{arguments.rounds} {case:36} {generator:10} {result['requestsPerSecond']:>9,.0f}/s  "
                          f"generator CPU {result['generatorCpuShare']:.0%}", flush=True)
    finally:
        for server in servers.values():
            server.stop()

    print()
    print("| case | echo_load req/s | echoctl req/s | echoctl / echo_load |")
    print("|---|---:|---:|---:|")
    for case, _, _, _ in native.CASES:
        rates = [statistics.median(r["requestsPerSecond"] for r in samples[(case, g)]) for g in generators]
        print(f"| {case} | {rates[0]:,.0f} | {rates[1]:,.0f} | {rates[1] / rates[0]:.2f} |")


if __name__ == "__main__":
    main()
