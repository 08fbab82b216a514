"""How fast and how lean storing a large upload is: `python benchmarks/evidence_store.py [--size-mb 200] [--dir DIR]`.

Writes a file of random bytes behind a PDF header, then prints the best of three timings of
`sha256sum` and of `FileSystemStore.put` on it (streaming, hashing, type check, fsync and
rename into a fresh store each time) with their ratio, and the growth of the peak memory of a
fresh process during one put: its peak resident set size, and the peak of Python allocations
traced by tracemalloc. The aims (issue 4): put within 2x sha256sum, memory growth under 50 MB.
DIR (default: the system's temporary directory) should be on the disk the store will use.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from filestore import FileSystemStore

MB = 1 << 20


def make_file(path: Path, size_mb: int) -> None:
    with path.open("wb") as out:
        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        for _ in range(size_mb):
            out.write(os.urandom(MB))


def best_of(runs: int, action) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def put_into_fresh_store(source: Path, stores: Path) -> None:
    shutil.rmtree(stores, ignore_errors=True)
    with source.open("rb") as stream:
        FileSystemStore(stores).put(stream, "large upload.pdf", 1 << 40)


def measure_memory(source: Path, stores: Path) -> None:
    """Run in a fresh process: peak RSS (kB) before and after one put, then the traced allocation peak."""
    tiny = stores / "tiny.pdf"
    tiny.parent.mkdir(parents=True)
    tiny.write_bytes(b"%PDF-1.7\n" + bytes(1000))
    put_into_fresh_store(tiny, stores / "warm-up")  # imports and first-use allocations, without the large file
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    put_into_fresh_store(source, stores / "rss")
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    put_into_fresh_store(source, stores / "traced")
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps({"rss_before_kb": before, "rss_after_kb": after, "traced_peak_bytes": traced_peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--memory-child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        measure_memory(*args.memory_child)
        return

    with tempfile.TemporaryDirectory(dir=args.dir, prefix="evidence-bench-") as directory:
        work = Path(directory)
        source = work / "large.pdf"
        make_file(source, args.size_mb)
        size = source.stat().st_size
        sha256sum = best_of(3, lambda: subprocess.run(["sha256sum", str(source)], check=True, capture_output=True))
        put = best_of(3, lambda: put_into_fresh_store(source, work / "store"))
        shutil.rmtree(work / "store")
        child = subprocess.run(
            [sys.executable, __file__, "--memory-child", str(source), str(work / "memory")],
            check=True,
            capture_output=True,
            text=True,
        )
        memory = json.loads(child.stdout)

    growth_mb = (memory["rss_after_kb"] - memory["rss_before_kb"]) / 1024
    print(f"file: {size / MB:.0f} MB of random bytes behind a PDF header, in {args.dir or tempfile.gettempdir()}")
    print(f"sha256sum:            best of 3 {sha256sum:.3f} s ({size / MB / sha256sum:.0f} MB/s)")
    print(f"FileSystemStore.put:  best of 3 {put:.3f} s ({size / MB / put:.0f} MB/s)")
    print(f"ratio put/sha256sum:  {put / sha256sum:.2f} (aim: 2 or less)")
    print(
        f"peak memory growth during put, fresh process: {growth_mb:.1f} MB resident "
        f"(peak RSS {memory['rss_before_kb'] / 1024:.1f} -> {memory['rss_after_kb'] / 1024:.1f} MB), "
        f"{memory['traced_peak_bytes'] / MB:.1f} MB traced Python allocations (aim: under 50 MB)"
    )


if __name__ == "__main__":
    main()
