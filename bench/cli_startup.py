"""Command-line start-up: ``.venv/bin/python -m bench.cli_startup --runs 10``.

The median wall time of ``tifli --help`` and ``tifli --version`` (through the installed entry
point, as an operator types them), beside ``python -c pass`` — the interpreter's own start-up
— measured in the same run, interleaved so that the machine's load falls on all three alike.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

TIFLI = Path(sys.executable).parent / "tifli"
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "tifli --help": [str(TIFLI), "--help"],
    "tifli --version": [str(TIFLI), "--version"],
}


def _run_once(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for command in COMMANDS.values():
        _run_once(command)  # warm the file cache: every run after this one is alike
    for _ in range(args.runs):
        for name, command in COMMANDS.items():
            times[name].append(_run_once(command))
    baseline = statistics.median(times["python -c pass"])
    print(f"median of {args.runs} runs, interleaved")
    for name, runs in times.items():
        median = statistics.median(runs)
        print(
            f"  {name:<16} {median * 1000:7.0f} ms  (min {min(runs) * 1000:.0f}, "
            f"max {max(runs) * 1000:.0f}; {median / baseline:4.1f}× python -c pass)"
        )


if __name__ == "__main__":
    main()
