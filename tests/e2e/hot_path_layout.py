#!/usr/bin/env python3
"""Checks that the published host lays out the methods of src/EchoHost/HotPath.order together.

    python3 tests/e2e/hot_path_layout.py PUBLISHED/EchoHost.dbg src/EchoHost/HotPath.order

Every name in the order file must be a method in the build's managed code (a renamed one is silently placed
anywhere), and the methods must lie next to each other: their span no larger than their sizes plus alignment.
Prints what it found; exits 1 when either fails.
"""
import subprocess
import sys

ALIGNMENT = 32


def managed_methods(symbols):
    """The methods Native AOT compiled into the build's __managedcode section, by name: (address, size)."""
    table = subprocess.run(["objdump", "-t", str(symbols)], capture_output=True, text=True, check=True).stdout
    managed = {}
    for line in table.splitlines():
        fields = line.split()
        if " __managedcode\t" in line and len(fields) >= 6:
            managed[fields[-1]] = (int(fields[0], 16), int(fields[-2], 16))
    return managed


def main(symbols, order_file):
    managed = managed_methods(symbols)

    names = [line.strip() for line in open(order_file) if line.strip()]
    missing = [name for name in names if name not in managed]
    if missing:
        print(f"{len(missing)} of {len(names)} not in the build, regenerate with bench/instructions.py --order-file: "
              + ", ".join(missing[:3]))
        return 1

    start = min(managed[name][0] for name in names)
    end = max(managed[name][0] + managed[name][1] for name in names)
    size = sum(managed[name][1] for name in names)
    if end - start > size + ALIGNMENT * len(names):
        print(f"the {len(names)} methods ({size:,} B) are spread over {end - start:,} B: the order file was not applied")
        return 1

    print(f"{len(names)} methods, {size:,} B in {end - start:,} B")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
