"""A test's module run as a process of its own (``python -m``), from the project's root: for
what must start fresh (nothing compiled or loaded by earlier tests) or may crash (a crash
ends that process, not the test run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_module(module: str) -> subprocess.CompletedProcess[str]:
    """``python -m module`` with its output captured as text (bounded: it must end)."""
    return subprocess.run(
        [sys.executable, "-m", module], capture_output=True, text=True, timeout=600, cwd=ROOT
    )
