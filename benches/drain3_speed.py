"""Throughput of drain3 (default configuration) on the same input file the
Rust speed benchmark uses. Prints one line: `drain3_lines_per_sec <value>`."""

import sys
import time

from drain3 import TemplateMiner


def main() -> None:
    path = sys.argv[1]
    with open(path, encoding="utf-8", errors="replace") as handle:
        lines = handle.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    miner = TemplateMiner()
    start = time.perf_counter()
    for line in lines:
        miner.add_log_message(line)
    elapsed = time.perf_counter() - start
    clusters = len(miner.drain.clusters)
    print(f"drain3_lines {len(lines)} clusters {clusters} seconds {elapsed:.3f}")
    print(f"drain3_lines_per_sec {len(lines) / elapsed:.1f}")


if __name__ == "__main__":
    main()
