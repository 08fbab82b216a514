"""How long loading and checking a standard takes: `python benchmarks/load_standard.py [FILE]`.

Prints the median and worst time of many loads of the shipped ST0396 (or FILE), each a full
read, parse and validation with no caching.
"""

from __future__ import annotations

import statistics
import sys
import time

from standard import load_standard, shipped_path


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else shipped_path("ST0396")
    times = []
    for _ in range(200):
        start = time.perf_counter()
        standard = load_standard(path)
        times.append((time.perf_counter() - start) * 1000)
    print(f"{standard.reference} ({len(standard)} criteria) from {path}")
    print(
        f"load + validate: median {statistics.median(times):.2f} ms, worst {max(times):.2f} ms over {len(times)} loads"
    )


if __name__ == "__main__":
    main()
