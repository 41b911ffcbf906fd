"""Throughput of drain3 on the same input file the Rust speed benchmark uses.

Without arguments beyond the input, drain3 runs its bare default configuration (no masking).
With `--masking`, it runs with the masking instructions of drain3's own example configuration
(examples/drain3.ini: IDs, IPs, hex sequences, hex numbers, numbers), the comparable setting,
since Sentinel's miner always masks variables. Prints `drain3_lines_per_sec <value>`."""

import sys
import time

from drain3 import TemplateMiner
from drain3.masking import MaskingInstruction
from drain3.template_miner_config import TemplateMinerConfig

# drain3's examples/drain3.ini [MASKING] section.
EXAMPLE_MASKING = [
    (r"((?<=[^A-Za-z0-9])|^)(([0-9a-f]{2,}:){3,}([0-9a-f]{2,}))((?=[^A-Za-z0-9])|$)", "ID"),
    (r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)", "IP"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9a-f]{6,} ?){3,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9A-F]{4} ?){4,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)(0x[a-f0-9A-F]+)((?=[^A-Za-z0-9])|$)", "HEX"),
    (r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)", "NUM"),
    (r"(?<=executed cmd )(\".+?\")", "CMD"),
]


def main() -> None:
    path = sys.argv[1]
    masking = "--masking" in sys.argv[2:]
    with open(path, encoding="utf-8", errors="replace") as handle:
        lines = handle.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    config = TemplateMinerConfig()
    if masking:
        config.masking_instructions = [MaskingInstruction(p, m) for p, m in EXAMPLE_MASKING]
    miner = TemplateMiner(config=config)
    start = time.perf_counter()
    for line in lines:
        miner.add_log_message(line)
    elapsed = time.perf_counter() - start
    clusters = len(miner.drain.clusters)
    print(f"drain3_lines {len(lines)} clusters {clusters} seconds {elapsed:.3f}")
    print(f"drain3_lines_per_sec {len(lines) / elapsed:.1f}")


if __name__ == "__main__":
    main()
