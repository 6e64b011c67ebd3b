"""Setting aside never deletes or alters what Fincome holds; `rejects --retry` really retries.

The pinned Metronome account bills one customer in a custom pricing unit ("Cloud credits"):
its invoices are set aside unless `[mapping.pricing_units]` maps the unit. Before:

- removing that mapping after a sync deleted every line of those invoices from Fincome
  (empty invoice headers left behind), and a customer or customer plan rejected after it was
  pushed had its subscriptions deleted;
- `rejects --retry` after mapping the unit closed the rejects as "went through" and exited 0
  having sent nothing (the transform resolved them before the plan read them).

Now what Fincome holds under an open transform reject is frozen (kept as last pushed, said by
`status` and `rejects`) until an upstream change or a fix makes the record map again, and the
retry pushes exactly the records of the rejects it took before it began, reporting each.
Runs go through the real commands, in process, against the emulators.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from tests.fixtures.fincome import FincomeEmulator
from tests.fixtures.metronome import MetronomeEmulator
from tests.hostile.servers import Reply, Request, ScriptedServer, forward
from tests.reliability.sync_runs import pair_env

State = dict[str, dict[str, dict[str, Any]]]
FROZEN_NOTE = "frozen: Fincome keeps the version pushed at"
WIDE = {"COLUMNS": "400"}  # tables for people, wide enough to keep a reason on one line
runner = CliRunner()


@dataclass
class Run:
    exit_code: int
    report: dict[str, Any]
    seconds: float


@dataclass
class Account:
    """Both emulators, Metronome behind a proxy that can corrupt chosen records, and one
    data dir; `run` is a `billing-sync` command in this process."""

    metronome: MetronomeEmulator
    fincome: FincomeEmulator
    data_dir: Path
    monkeypatch: pytest.MonkeyPatch
    corrupted: set[str] = field(default_factory=set)  # ids served with junk custom_fields

    @property
    def unit(self) -> str:
        [unit] = [t["id"] for t in self.metronome.state()["credit_types"] if not t["is_currency"]]
        return str(unit)

    def map_unit(self, mapped: bool) -> None:
        if mapped:
            unit = {self.unit: {"currency": "USD", "factor": "0.01"}}
            self.monkeypatch.setenv("MAPPING__PRICING_UNITS", json.dumps(unit))
        else:
            self.monkeypatch.delenv("MAPPING__PRICING_UNITS", raising=False)

    def run(self, *args: str) -> Run:
        started = time.monotonic()
        result = runner.invoke(app, [*args, "--data-dir", str(self.data_dir), "--json"])
        assert "Traceback" not in result.output, result.output
        return Run(result.exit_code, json.loads(result.stdout), time.monotonic() - started)

    def text(self, *args: str) -> str:
        result = runner.invoke(app, [*args, "--data-dir", str(self.data_dir)], env=WIDE)
        return result.stdout

    def held(self) -> State:
        """What Fincome holds, without the emulator's own timestamps."""
        return {
            collection: {i: _without_stamps(r) for i, r in records.items()}
            for collection, records in self.fincome.state().items()
            if isinstance(records, dict)
        }

    def proxy(self, request: Request) -> Reply:
        answer = forward(request, self.metronome.url)
        if not self.corrupted or request.method != "GET" or answer.status != 200:
            return answer
        page = orjson.loads(answer.body)
        for record in page.get("data") or [] if isinstance(page, dict) else []:
            if isinstance(record, dict) and record.get("id") in self.corrupted:
                record["custom_fields"] = ["junk"]  # staged fine, mapped never
        return Reply(200, orjson.dumps(page), {"content-type": "application/json"})


@pytest.fixture
def account(
    metronome_api: MetronomeEmulator,
    fincome_api: FincomeEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Account]:
    account = Account(metronome_api, fincome_api, tmp_path / "data", monkeypatch)
    with ScriptedServer(account.proxy) as proxy:
        variables = pair_env(
            metronome_url=proxy.url,
            token=metronome_api.token,
            fincome_url=fincome_api.url,
            key=fincome_api.api_key,
        )
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        yield account


def test_removing_a_pricing_unit_mapping_freezes_what_fincome_holds(account: Account) -> None:
    account.map_unit(True)
    assert account.run("sync").exit_code == 0
    pushed = account.held()
    account.map_unit(False)

    run = account.run("sync")

    assert run.exit_code == 3
    rejected = _rejected_invoices(run.report)
    assert len(rejected) == 7
    assert account.held() == pushed  # every line of those invoices, nothing deleted or changed
    assert _writes(run.report) == 0
    assert run.report["push"]["plan"]["invoices"]["frozen"] == len(rejected)
    lines = _lines_of(pushed, rejected)
    assert run.report["push"]["plan"]["invoice_line_items"]["frozen"] == len(lines) > 0
    _says_frozen(account, pushed, rejected)


def test_a_customer_or_customer_plan_rejected_after_its_push_keeps_its_subscriptions(
    account: Account,
) -> None:
    account.map_unit(True)
    assert account.run("sync").exit_code == 0
    pushed = account.held()
    customer, plan = _customer_and_plan_of_others(account.metronome, pushed)
    account.corrupted = {customer, plan}

    run = account.run("sync")

    assert run.exit_code == 3
    assert {(r["collection"], r["record_id"]) for r in run.report["rejects"]} == {
        ("customers", customer),
        ("customer_plans", plan),
    }
    held = account.held()
    for collection, records in pushed.items():  # nothing Fincome held was deleted or altered
        assert {i: held[collection].get(i) for i in records} == records, collection
    subscriptions = {i for i, s in pushed["subscriptions"].items() if s["customer_id"] == customer}
    assert subscriptions
    assert plan in held["subscriptions"]
    assert run.report["push"]["plan"]["subscriptions"]["frozen"] == len(subscriptions) + 1
    status = account.run("status").report["rejects"]["frozen"]
    assert {(r["collection"], r["record_id"]) for r in status} == {
        ("customers", customer),
        ("customer_plans", plan),
    }


def test_a_retry_after_mapping_the_unit_pushes_exactly_those_invoices(account: Account) -> None:
    account.map_unit(False)
    first = account.run("sync")
    assert first.exit_code == 3
    rejected = _rejected_invoices(first.report)
    before = account.held()
    account.map_unit(True)

    retry = account.run("rejects", "--retry")

    assert retry.exit_code == 0
    assert retry.report["rejects"] == []
    held = account.held()
    assert set(held["invoices"]) - set(before["invoices"]) == rejected
    new_lines = set(held["invoice_line_items"]) - set(before["invoice_line_items"])
    assert new_lines == _lines_of(held, rejected)
    assert new_lines
    retried = {r["record_id"]: r for r in retry.report["retried"]}
    assert set(retried) == rejected
    for invoice_id, record in retried.items():
        assert record["outcome"] == "sent"
        assert record["created"] == 1 + len(_lines_of(held, {invoice_id}))
        assert record["updated"] == 1  # the subscription its lines count for
        assert record["deleted"] == 0
        assert record["reason"] is None
    # the retry sent all a mapped sync would: the next one has nothing to do
    assert _writes(account.run("sync").report) == 0


def test_a_retry_keeps_what_still_fails_open_with_its_new_reason(account: Account) -> None:
    account.map_unit(False)
    rejected = _rejected_invoices(account.run("sync").report)
    junk = min(rejected)
    account.metronome.patch(junk, custom_fields=["junk"])  # refused for another reason too
    # a full refresh stages it whatever its age; still refused for the pricing unit first:
    # set aside before, nothing new (exit 3 is for records newly set aside)
    assert account.run("sync", "--full-refresh").exit_code == 0
    account.map_unit(True)

    retry = account.run("rejects", "--retry")

    assert retry.exit_code == 3
    [still] = retry.report["rejects"]
    assert (still["collection"], still["record_id"]) == ("invoices", junk)
    assert "custom_fields" in still["reason"]
    outcomes = {r["record_id"]: (r["outcome"], r["reason"]) for r in retry.report["retried"]}
    assert outcomes.pop(junk) == ("rejected", still["reason"])
    assert set(outcomes) == rejected - {junk}
    assert all(outcome == ("sent", None) for outcome in outcomes.values())
    assert set(account.held()["invoices"]) >= rejected - {junk}
    assert junk not in account.held()["invoices"]


def test_only_an_upstream_void_changes_a_frozen_invoice(account: Account) -> None:
    account.map_unit(True)
    assert account.run("sync").exit_code == 0
    account.map_unit(False)
    assert account.run("sync").exit_code == 3
    frozen = account.held()
    voided = max(_rejected_invoices(account.run("rejects").report))
    account.metronome.patch(voided, status="VOID")

    still_unmapped = account.run("sync", "--full-refresh")
    assert still_unmapped.exit_code == 0  # the same rejects as before: nothing new
    assert account.held() == frozen  # still rejected: still frozen, void or not
    account.map_unit(True)
    mapped = account.run("sync", "--full-refresh")

    assert mapped.exit_code == 0
    held = account.held()
    assert held["invoices"][voided] == {**frozen["invoices"][voided], "status": "void"}
    assert mapped.report["push"]["done"]["invoices"] == {"created": 0, "updated": 1, "deleted": 0}
    assert held["invoice_line_items"] == frozen["invoice_line_items"]  # its lines kept
    assert {c: len(r) for c, r in held.items()} == {c: len(r) for c, r in frozen.items()}


def _says_frozen(account: Account, pushed: State, rejected: set[str]) -> None:
    """`status` and `rejects` name each rejected invoice Fincome holds, as frozen."""
    status = account.run("status").report
    frozen = {r["record_id"]: r["frozen_records"] for r in status["rejects"]["frozen"]}
    # the invoice, its lines and the subscription they count for
    assert frozen == {i: 2 + len(_lines_of(pushed, {i})) for i in rejected}
    assert status["entities"]["invoice_line_items"]["frozen"] == len(_lines_of(pushed, rejected))
    listed = account.run("rejects").report["rejects"]
    assert all(r["frozen_since"] and r["frozen_records"] > 1 for r in listed)
    assert FROZEN_NOTE in account.text("status")
    assert FROZEN_NOTE in account.text("rejects")


def _rejected_invoices(report: dict[str, Any]) -> set[str]:
    return {r["record_id"] for r in report["rejects"] if r["collection"] == "invoices"}


def _lines_of(state: State, invoices: set[str]) -> set[str]:
    return {i for i, line in state["invoice_line_items"].items() if line["invoice_id"] in invoices}


def _writes(report: dict[str, Any]) -> int:
    done = report["push"]["done"]
    return sum(sum(ops.values()) for ops in done.values())


def _customer_and_plan_of_others(metronome: MetronomeEmulator, pushed: State) -> tuple[str, str]:
    """A customer with subscriptions and invoices that pays for nobody else, and a customer
    plan of another such customer (both pushed)."""
    plans = {p["id"] for listed in metronome.state()["customer_plans"].values() for p in listed}
    parents = {c["root_parent_id"] for c in pushed["customers"].values()}
    billed = {i["customer_id"] for i in pushed["invoices"].values()}
    owners = sorted(
        {s["customer_id"] for i, s in pushed["subscriptions"].items() if i in plans}
        & billed - parents
    )
    customer, other = owners[0], owners[1]
    plan = min(i for i, s in pushed["subscriptions"].items() if s["customer_id"] == other)
    return customer, plan


def _without_stamps(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("created_at", "updated_at")}
