"""Progress: the extract counts customers read of those listed, the push counts rows Fincome
answered per collection, and bars are drawn only for a person at a terminal."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from rich.progress import Progress

from destinations.fincome import FincomeSettings
from pipelines.datadir import DataDir, resolve_data_dir
from pipelines.extract import ExtractOptions, run_extract
from pipelines.progress import Bars, progress_bars
from pipelines.push import run_push
from pipelines.shards import Shard
from pipelines.transform.options import MappingOptions
from sources.metronome import MetronomeSettings
from tests.fixtures.fincome import FincomeEmulator
from tests.fixtures.metronome import MetronomeEmulator


@pytest.fixture
def data_dir(tmp_path: Path) -> DataDir:
    return resolve_data_dir(tmp_path / "data")


@pytest.fixture
def metronome(metronome_api: MetronomeEmulator) -> MetronomeSettings:
    return MetronomeSettings(
        api_token=metronome_api.token, base_url=metronome_api.url, requests_per_second=0
    )


def bars_kept() -> tuple[Bars, Progress]:
    """Bars that draw nothing but keep their counts, to be read afterwards."""
    progress = Progress(disable=True)
    return Bars(progress), progress


def counts(progress: Progress) -> dict[str, tuple[float | None, float]]:
    return {task.description: (task.total, task.completed) for task in progress.tasks}


def test_the_extract_counts_each_customer_read_of_those_listed(
    data_dir: DataDir, metronome: MetronomeSettings
) -> None:
    bars, progress = bars_kept()
    run_extract(data_dir, metronome, bars=bars)
    assert counts(progress) == {"extract: customers read": (21, 21)}


def test_a_shard_lists_and_reads_only_its_customers(
    data_dir: DataDir, metronome: MetronomeSettings, metronome_api: MetronomeEmulator
) -> None:
    shard = Shard(1, 3)
    bars, progress = bars_kept()
    result = run_extract(data_dir, metronome, ExtractOptions(shard=shard), bars=bars)
    everyone = [
        c["id"] for c in metronome_api.customers() + metronome_api.customers(only_archived=True)
    ]
    owned = [customer_id for customer_id in everyone if shard.owns(customer_id)]
    assert 0 < len(owned) < len(everyone)
    assert result.tables["customers"] == len(owned)
    assert counts(progress) == {"extract: customers read": (len(owned), len(owned))}
    invoice_reads = metronome_api.requests()["by_route"]["GET /v1/customers/{id}/invoices"]
    assert invoice_reads == len(owned)  # the other shards' customers are never read


def test_the_push_counts_rows_fincome_answered_per_collection(
    data_dir: DataDir, metronome: MetronomeSettings, fincome_api: FincomeEmulator
) -> None:
    run_extract(data_dir, metronome)
    fincome = FincomeSettings(
        api_key=fincome_api.api_key, base_url=fincome_api.url, requests_per_second=None
    )
    bars, progress = bars_kept()
    result = run_push(data_dir, fincome, MappingOptions(), bars=bars)
    planned = {
        f"push {name}": (plan.writes, plan.writes)
        for name, plan in result.plan.collections.items()
        if plan.writes
    }
    assert counts(progress) == planned
    # rows, not requests: every invoice row is one create carrying its lines
    assert counts(progress)["push invoices"][1] == result.done["invoices"]["created"]


def test_bars_are_drawn_for_a_terminal_only() -> None:
    for terminal, enabled, drawn in (
        (True, True, True),
        (True, False, False),
        (False, True, False),
    ):
        screen = io.StringIO()
        console = Console(file=screen, force_terminal=terminal, width=80)
        with progress_bars(enabled=enabled, console=console) as bars:
            counter = bars.counter("push invoices", 4)
            counter.advance(2)
            counter.grow(1)
        assert ("push invoices" in screen.getvalue()) is drawn
