"""The source against a server that speaks Metronome's wire format but is not our emulator.

A few hand-written records behind bearer auth and opaque cursors, with the liberties the
API documents: `next_page` missing on the last page, millisecond timestamps, fields our
emulator never sends. The source runs as any dlt user would run it: token from the
environment, its own pipeline.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import dlt
import duckdb
import pytest
from dlt.pipeline.exceptions import PipelineStepFailed
from starlette.requests import Request

from pipelines.staging import iter_customer_bundles
from sandbox.common.server import serve_in_thread
from sources.metronome import metronome_source
from sources.metronome.client import MetronomeAuthError
from tests.fixtures.foreign import TOKEN, build_foreign_metronome


@pytest.fixture
def foreign(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, list[Request]]]:
    seen: list[Request] = []
    with serve_in_thread(build_foreign_metronome(seen)) as server:
        monkeypatch.setenv("SOURCES__METRONOME__BASE_URL", server.url)
        monkeypatch.setenv("SOURCES__METRONOME__API_TOKEN", TOKEN)
        monkeypatch.setenv("SOURCES__METRONOME__REQUESTS_PER_SECOND", "0")
        monkeypatch.setenv("SOURCES__METRONOME__PAGE_SIZE", "1")
        yield server.url, seen


def pipeline(tmp_path: Path) -> dlt.Pipeline:
    return dlt.pipeline(
        "foreign_metronome",
        destination=dlt.destinations.duckdb(str(tmp_path / "foreign.duckdb")),
        dataset_name="metronome_raw",
        pipelines_dir=str(tmp_path / "dlt"),
    )


def test_a_foreign_server_is_extracted_whole(
    foreign: tuple[str, list[Request]], tmp_path: Path
) -> None:
    _, seen = foreign
    info = pipeline(tmp_path).run(metronome_source())
    info.raise_on_failed_jobs()

    bundles = {b.customer["id"]: b for b in iter_customer_bundles(tmp_path / "foreign.duckdb")}
    assert list(bundles) == ["cus-a", "cus-b", "cus-z"]
    assert bundles["cus-a"].customer["loyalty_tier"] == "gold"  # unknown fields are kept
    assert bundles["cus-z"].customer["archived_at"] == "2025-03-01T00:00:00Z"
    assert [i["id"] for i in bundles["cus-a"].invoices] == ["inv-1", "inv-2"]
    assert bundles["cus-a"].invoices[0]["total"] == Decimal("100.1")
    assert bundles["cus-a"].invoices[0]["tax_breakdown"] == {"vat": "0.2"}
    assert bundles["cus-b"].invoices[0]["status"] == "VOID"
    assert bundles["cus-z"].plans[0]["customer_id"] == "cus-z"
    with duckdb.connect(str(tmp_path / "foreign.duckdb")) as connection:
        charges = connection.execute(
            "SELECT id, plan_id FROM metronome_raw.plan_charges"
        ).fetchall()
    assert charges == [("chg-1", "plan-1")]
    assert any(r.query_params.get("next_page") for r in seen)  # pages of one were followed


def test_the_next_run_asks_only_for_recent_periods(
    foreign: tuple[str, list[Request]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, seen = foreign
    pipeline(tmp_path).run(metronome_source()).raise_on_failed_jobs()
    seen.clear()

    monkeypatch.setenv("SOURCES__METRONOME__LOOKBACK_DAYS", "10")
    pipeline(tmp_path).run(metronome_source()).raise_on_failed_jobs()

    windows = {
        r.path_params["cid"]: r.query_params.get("starting_on")
        for r in seen
        if r.url.path.endswith("/invoices")
    }
    # cus-a still has a February draft; the others end in January (minus 10 days)
    assert windows == {
        "cus-a": "2025-01-22T00:00:00Z",
        "cus-b": "2024-12-22T00:00:00Z",
        "cus-z": "2024-12-22T00:00:00Z",
    }


def test_a_refused_token_stops_the_run(
    foreign: tuple[str, list[Request]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCES__METRONOME__API_TOKEN", "wrong")
    with pytest.raises(PipelineStepFailed) as failed:
        pipeline(tmp_path).run(metronome_source())
    cause: BaseException | None = failed.value
    while cause is not None and not isinstance(cause, MetronomeAuthError):
        cause = cause.__cause__
    assert isinstance(cause, MetronomeAuthError)
    assert "wrong" not in str(failed.value)
