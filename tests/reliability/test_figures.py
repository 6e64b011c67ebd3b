"""The figures tally behind the reliability summary line."""

from __future__ import annotations

import pytest

from tests.reliability.conftest import STANDARD_FIGURES, ReliabilityFigures


def test_standard_figures_always_show_and_others_follow_by_name() -> None:
    figures = ReliabilityFigures()
    figures.add("zebra_runs", 2)
    figures.add("records_fuzzed", 5)
    figures.add("records_fuzzed")
    figures.add("apple_runs")

    assert list(figures.snapshot()) == [*STANDARD_FIGURES, "apple_runs", "zebra_runs"]
    assert figures.snapshot()["records_fuzzed"] == 6
    assert figures.summary_line() == (
        "reliability figures: records fuzzed=6, faults injected=0, kill trials=0, "
        "secret leaks=0, apple runs=1, zebra runs=2"
    )


def test_figures_only_grow() -> None:
    with pytest.raises(ValueError, match="only grow"):
        ReliabilityFigures().add("secret_leaks", -1)
