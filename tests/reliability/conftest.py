"""The reliability suite's figures: what it injected, tried and found, printed after the run.

The issue asks for the suite to be "green in CI, with its figures printed". Every test under
`tests/reliability/` may add to one session-wide tally through the `reliability_figures`
fixture; pytest prints it as one block at the end of the run:

    reliability figures: records fuzzed=1234, faults injected=0, kill trials=0, secret leaks=0

API (for the fault, kill and secret tests still to come):

    def test_something(reliability_figures: ReliabilityFigures) -> None:
        reliability_figures.add("faults_injected", 12)   # any snake_case name; counts add up
        reliability_figures.add("kill_trials")           # default: 1

The names in `STANDARD_FIGURES` are always printed (0 when nothing added to them), so CI logs
show the leak count even when no leak test ran; any other name is printed after them. Set
the environment variable `RELIABILITY_FIGURES_FILE` to a path to also get the figures as one
JSON object there, e.g. `{"records_fuzzed": 1234, "faults_injected": 0, ...}`. (Not a
`BILLING_SYNC_*` variable: `tests/conftest.py` strips those to isolate the tests.)
Hypothesis tests run their body once per example: add inside the body, so the figure counts
what was actually pushed through, shrinking included.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from pathlib import Path

import pytest

FIGURES_FILE_VARIABLE = "RELIABILITY_FIGURES_FILE"
STANDARD_FIGURES = ("records_fuzzed", "faults_injected", "kill_trials", "secret_leaks")


class ReliabilityFigures:
    """A thread-safe tally of named counts, one per test session."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, name: str, count: int = 1) -> None:
        if count < 0:
            raise ValueError(f"figures only grow: {name} += {count}")
        with self._lock:
            self._counts[name] += count

    def snapshot(self) -> dict[str, int]:
        """Standard figures first (0 when untouched), then the others by name."""
        with self._lock:
            others = sorted(set(self._counts) - set(STANDARD_FIGURES))
            return {name: self._counts[name] for name in (*STANDARD_FIGURES, *others)}

    def summary_line(self) -> str:
        shown = ", ".join(
            f"{name.replace('_', ' ')}={count}" for name, count in self.snapshot().items()
        )
        return f"reliability figures: {shown}"


# Hooks cannot take fixtures: the fixture and the summary hook share this one instance.
FIGURES = ReliabilityFigures()


@pytest.fixture(scope="session")
def reliability_figures() -> ReliabilityFigures:
    return FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.write_sep("-", "reliability")
    terminalreporter.write_line(FIGURES.summary_line())
    target = os.environ.get(FIGURES_FILE_VARIABLE)
    if target:
        Path(target).write_text(json.dumps(FIGURES.snapshot(), indent=2) + "\n")
