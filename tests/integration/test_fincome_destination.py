"""The `fincome` dlt destination against the Fincome emulator on loopback.

Each test runs real dlt pipelines (one run per collection, parents first) into a fresh
emulator, with the ledger in `tmp_path`, and checks what the emulator holds and received.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dlt
import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from destinations.fincome import LedgerStore, fincome
from destinations.fincome.body import canonical_body, embedded_rows
from destinations.fincome.schema import EMBEDDED_CHILD
from tests.fixtures.fincome import FincomeEmulator
from tests.unit.destinations.samples import Row, count_rows, graph, load_in_push_order

WRITES = ("POST", "PATCH", "DELETE")
MakePipeline = Callable[..., Any]


@pytest.fixture
def make_pipeline(fincome_api: FincomeEmulator, tmp_path: Path) -> MakePipeline:
    made = 0

    def make(**options: Any) -> Any:
        nonlocal made
        made += 1
        settings = {
            "base_url": fincome_api.url,
            "api_key": fincome_api.api_key,
            "requests_per_second": 0,  # no pacing: the tests measure nothing
            "ledger_path": str(tmp_path / "billing_sync.duckdb"),
            **options,
        }
        return dlt.pipeline(
            f"push_{made}",
            destination=fincome(**settings),
            pipelines_dir=str(tmp_path / "dlt"),
        )

    return make


def ledger(tmp_path: Path) -> LedgerStore:
    return LedgerStore.open(tmp_path / "billing_sync.duckdb")


def writes(fincome_api: FincomeEmulator) -> dict[str, int]:
    """Write calls the emulator received, by route."""
    by_route: dict[str, int] = fincome_api.requests()["by_route"]
    return {route: n for route, n in by_route.items() if route.startswith(WRITES)}


def expected_state(rows_by_collection: dict[str, list[Row]]) -> dict[str, dict[str, Row]]:
    """What the emulator should hold, as canonical bodies by collection and id."""
    state: dict[str, dict[str, Row]] = {}
    for name, rows in rows_by_collection.items():
        for row in rows:
            state.setdefault(name, {})[row["id"]] = canonical_body(name, row)
            child = EMBEDDED_CHILD.get(name)
            for line in (embedded_rows(name, row) or []) if child else []:
                state.setdefault(child.name, {})[line["id"]] = canonical_body(child.name, line)
    return state


def held(fincome_api: FincomeEmulator) -> dict[str, dict[str, Row]]:
    """What the emulator holds, as canonical bodies (its defaults and timestamps dropped)."""
    return {
        name: {record_id: canonical_body(name, record) for record_id, record in records.items()}
        for name, records in fincome_api.state().items()
        if records
    }


def test_a_small_graph_lands_exactly(
    fincome_api: FincomeEmulator, make_pipeline: MakePipeline, tmp_path: Path
) -> None:
    rows = graph()
    load_in_push_order(make_pipeline(), rows)
    assert held(fincome_api) == expected_state(rows)
    # one create per row; lines travel inside their invoice / credit note
    assert writes(fincome_api) == {
        f"POST /{name}": len(rows[name])
        for name in ("customers", "products", "prices", "subscriptions", "invoices", "credit_notes")
    }
    counts = (
        ledger(tmp_path)
        .db.execute("SELECT collection, count(*) FROM fincome_sync.ledger GROUP BY 1")
        .fetchall()
    )
    assert dict(counts) == count_rows(rows)


def test_a_second_run_sends_nothing(
    fincome_api: FincomeEmulator, make_pipeline: MakePipeline
) -> None:
    pipeline = make_pipeline()
    load_in_push_order(pipeline, graph())
    before = fincome_api.requests()["total"]
    load_in_push_order(pipeline, graph())
    assert fincome_api.requests()["total"] == before


def test_one_changed_row_sends_exactly_one_patch(
    fincome_api: FincomeEmulator, make_pipeline: MakePipeline
) -> None:
    rows = graph()
    pipeline = make_pipeline()
    load_in_push_order(pipeline, rows)
    first = writes(fincome_api)
    rows["invoices"][0]["status"] = "void"
    load_in_push_order(pipeline, rows)
    assert writes(fincome_api) == {**first, "PATCH /invoices/{id}": 1}
    assert fincome_api.state()["invoices"]["inv_1"]["status"] == "void"


def test_a_replay_without_ledger_creates_nothing_twice_and_errors_nothing(
    fincome_api: FincomeEmulator, make_pipeline: MakePipeline, tmp_path: Path
) -> None:
    rows = graph()
    pipeline = make_pipeline()
    load_in_push_order(pipeline, rows)
    store = ledger(tmp_path)
    store.db.execute("DELETE FROM fincome_sync.ledger")
    store.close()
    load_in_push_order(pipeline, rows)  # every create meets 409 and becomes an update
    assert held(fincome_api) == expected_state(rows)
    assert fincome_api.requests()["by_status"].get("409", 0) > 0
    assert ledger(tmp_path).open_rejects() == []


def test_a_package_replayed_after_a_failed_load_converges(
    fincome_api: FincomeEmulator, make_pipeline: MakePipeline, tmp_path: Path
) -> None:
    rows = {"products": [{"id": f"prod_{i}", "name": f"Product {i}"} for i in range(6)]}
    # the third create fails for good: the load stops after two acknowledged creates
    fincome_api.set_faults(
        rules=[{"method": "POST", "path_contains": "/products", "skip": 2, "times": 99}]
    )
    pipeline = make_pipeline(max_attempts=2, max_concurrency=1)
    with pytest.raises(PipelineStepFailed, match=r"the push of load \S+ stopped"):
        pipeline.run(rows["products"], table_name="products")
    assert pipeline.has_pending_data
    fincome_api.clear_faults()
    pipeline.run()  # dlt replays the pending package: what was acknowledged is not resent
    assert not pipeline.has_pending_data
    assert held(fincome_api) == expected_state(rows)
    assert ledger(tmp_path).open_rejects() == []


def test_a_refused_row_lands_in_rejects_fails_the_load_and_never_blocks(
    fincome_api: FincomeEmulator, make_pipeline: MakePipeline, tmp_path: Path
) -> None:
    customers = graph()["customers"]
    orphan = {"id": "cus_orphan", "name": "Orphan", "root_parent_id": "cus_missing"}
    pipeline = make_pipeline()
    with pytest.raises(PipelineStepFailed, match=r"1 record\(s\) of load \S+ refused"):
        pipeline.run([*customers, orphan], table_name="customers")
    assert set(fincome_api.state()["customers"]) == {"cus_parent", "cus_1"}
    [reject] = ledger(tmp_path).open_rejects()
    assert (reject["stage"], reject["collection"], reject["record_id"]) == (
        "push",
        "customers",
        "cus_orphan",
    )
    assert "root_parent_id" in reject["reason"]
    assert reject["detail"][0]["loc"] == ["body", "root_parent_id"]
    assert reject["payload"]["root_parent_id"] == "cus_missing"
    pipeline.run()  # finishes the package without sending anything again
    assert not pipeline.has_pending_data
    # given again, it is sent again and refused again; a fixed row resolves it
    with pytest.raises(PipelineStepFailed, match=r"1 record\(s\) of load \S+ refused"):
        pipeline.run([*customers, orphan], table_name="customers")
    pipeline.run()
    [again] = ledger(tmp_path).open_rejects()
    assert again["attempts"] == 2
    pipeline.run([{**orphan, "root_parent_id": "cus_parent"}], table_name="customers")
    assert ledger(tmp_path).open_rejects() == []
    assert "cus_orphan" in fincome_api.state()["customers"]


def test_a_429_with_retry_after_is_waited_out(
    fincome_api: FincomeEmulator, make_pipeline: MakePipeline
) -> None:
    fincome_api.capture_bodies()
    fincome_api.set_faults(
        rules=[{"kind": "throttle", "status": 429, "method": "POST", "retry_after": 0.2}]
    )
    rows = {"products": graph()["products"]}
    load_in_push_order(make_pipeline(), rows)
    log = fincome_api.requests()
    assert log["by_status"]["429"] == 1
    assert held(fincome_api) == expected_state(rows)
    [throttled] = [r for r in log["requests"] if r["status"] == 429]
    [retry] = [r for r in log["requests"] if r["body"] == throttled["body"] and r["status"] == 201]
    answered = throttled["started"] + throttled["duration_ms"] / 1000
    # a lower bound the client guarantees by sleeping, not a measure of speed
    assert retry["started"] - answered >= 0.19


def test_writes_applied_then_answered_500_converge_without_duplicates(
    fincome_api: FincomeEmulator, make_pipeline: MakePipeline, tmp_path: Path
) -> None:
    fincome_api.set_faults(
        rules=[
            {"kind": "applied_error", "method": "POST", "path_contains": "/invoices"},
            {"kind": "applied_error", "method": "POST", "path_contains": "/credit_notes"},
        ]
    )
    rows = graph()
    load_in_push_order(make_pipeline(), rows)
    by_status = fincome_api.requests()["by_status"]
    assert by_status["500"] == 2  # both creates were stored, then answered 500
    assert by_status["409"] >= 2  # their retries found them there
    assert held(fincome_api) == expected_state(rows)
    assert ledger(tmp_path).open_rejects() == []


def test_a_removed_line_and_a_deleted_row_are_deleted(
    fincome_api: FincomeEmulator, make_pipeline: MakePipeline, tmp_path: Path
) -> None:
    rows = graph()
    pipeline = make_pipeline()
    load_in_push_order(pipeline, rows)
    dropped = rows["invoices"][0]["invoice_line_items"].pop()
    rows["subscriptions"] = [{"id": "sub_1", "_deleted": True}]
    rows["credit_notes"] = [{"id": "cn_1", "_deleted": True}]
    load_in_push_order(pipeline, rows)
    state = fincome_api.state()
    assert dropped["id"] not in state["invoice_line_items"]
    assert "sub_1" not in state["subscriptions"]
    assert "cn_1" not in state["credit_notes"]
    assert state["credit_note_line_items"] == {}  # its lines went first, each once
    assert fincome_api.requests()["by_status"].get("404", 0) == 0
    held_lines = ledger(tmp_path).children("invoice_line_items", ["inv_1"])
    assert held_lines == {"inv_1": ["inv_1:L0"]}


def test_a_delete_the_seed_has_no_route_for_is_refused(
    fincome_api: FincomeEmulator, make_pipeline: MakePipeline, tmp_path: Path
) -> None:
    pipeline = make_pipeline()
    load_in_push_order(pipeline, {"customers": graph()["customers"]})
    with pytest.raises(PipelineStepFailed, match=r"1 record\(s\) of load \S+ refused"):
        pipeline.run([{"id": "cus_1", "_deleted": True}], table_name="customers")
    assert "cus_1" in fincome_api.state()["customers"]
    [reject] = ledger(tmp_path).open_rejects()
    assert reject["reason"] == "customers cannot be deleted: the Fincome API has no delete for it"


def test_the_api_key_never_appears_in_errors_logs_or_files(
    fincome_api: FincomeEmulator,
    make_pipeline: MakePipeline,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    wrong_key = "sk_wrong_but_still_secret_987"
    caplog.set_level(logging.DEBUG)
    fincome_api.set_faults(rules=[{"kind": "error", "status": 503, "method": "POST"}])
    load_in_push_order(make_pipeline(), {"products": graph()["products"]})
    with pytest.raises(PipelineStepFailed) as raised:
        make_pipeline(api_key=wrong_key).run(graph()["customers"], table_name="customers")
    shown = "".join(traceback.format_exception(raised.value))
    assert "Fincome refused the API key" in shown
    assert "destination.fincome.api_key" in shown
    written = [path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()]
    assert written  # the ledger, dlt's state, schemas and traces
    for secret in (wrong_key, fincome_api.api_key):
        assert secret not in shown
        assert secret not in caplog.text
        assert not any(secret.encode() in content for content in written)


def test_configuration_comes_from_the_environment(
    fincome_api: FincomeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESTINATION__FINCOME__BASE_URL", fincome_api.url)
    monkeypatch.setenv("DESTINATION__FINCOME__API_KEY", fincome_api.api_key)
    monkeypatch.setenv("DESTINATION__FINCOME__LEDGER_PATH", str(tmp_path / "env.duckdb"))
    monkeypatch.setenv("DESTINATION__FINCOME__REQUESTS_PER_SECOND", "0")
    pipeline = dlt.pipeline("from_env", destination=fincome(), pipelines_dir=str(tmp_path))
    pipeline.run(graph()["products"], table_name="products")
    assert set(fincome_api.state()["products"]) == {"prod_seats", "metronome:adjustment"}
    assert (tmp_path / "env.duckdb").exists()
