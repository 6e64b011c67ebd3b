"""The executor: waves in order, the ledger kept as steps land, refusals set aside, a fatal
error stops the run after what was on the wire is settled."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from destinations.fincome import AuthenticationFailed, FincomeClient
from destinations.fincome.executor import Executor
from destinations.fincome.ledger import LedgerEntry, LedgerStore
from destinations.fincome.waves import Step
from tests.unit.destinations.fake_fincome import FakeFincome, client_of


@pytest.fixture
def fake() -> FakeFincome:
    return FakeFincome()


@pytest.fixture
def client(fake: FakeFincome) -> Iterator[FincomeClient]:
    with client_of(fake, max_concurrency=4, max_attempts=1) as client:
        yield client


@pytest.fixture
def ledger() -> LedgerStore:
    return LedgerStore(duckdb.connect())


def _create(collection: str, item_id: str, *lines: str) -> Step:
    entry = LedgerEntry(collection, item_id, f"h-{item_id}", f'{{"id":"{item_id}"}}')
    held = tuple(
        LedgerEntry("invoice_line_items", line, f"h-{line}", f'{{"id":"{line}"}}', item_id)
        for line in lines
    )
    return Step("create", collection, item_id, f'{{"id":"{item_id}"}}'.encode(), (entry, *held))


def _held(ledger: LedgerStore) -> dict[tuple[str, str], str | None]:
    rows = ledger.db.execute("SELECT collection, id, parent_id FROM fincome_sync.ledger").fetchall()
    return {(c, i): parent for c, i, parent in rows}


def test_acknowledged_steps_are_recorded_with_their_embedded_lines(
    client: FincomeClient, ledger: LedgerStore
) -> None:
    report = Executor(client, ledger).run(
        [[_create("customers", "c1")], [_create("invoices", "i1", "i1:L0", "i1:L1")]]
    )
    assert _held(ledger) == {
        ("customers", "c1"): None,
        ("invoices", "i1"): None,
        ("invoice_line_items", "i1:L0"): "i1",
        ("invoice_line_items", "i1:L1"): "i1",
    }
    assert report.done["invoice_line_items"]["created"] == 2
    assert report.writes == 4


def test_a_wave_starts_once_the_one_before_is_answered(
    client: FincomeClient, ledger: LedgerStore, fake: FakeFincome
) -> None:
    parents = [_create("customers", f"p{n}") for n in range(20)]
    children = [_create("subscriptions", f"s{n}") for n in range(20)]
    Executor(client, ledger).run([parents, children])
    order = [item_id for _, _, item_id in fake.calls]
    assert {i[0] for i in order[:20]} == {"p"}
    assert {i[0] for i in order[20:]} == {"s"}


def test_a_refused_step_is_set_aside_and_the_others_land(
    client: FincomeClient, ledger: LedgerStore, fake: FakeFincome
) -> None:
    fake.refuse[("POST", "c2")] = 422
    steps = [_create("customers", f"c{n}") for n in range(1, 4)]
    report = Executor(client, ledger).run([steps])
    assert report.rejected == 1
    assert set(_held(ledger)) == {("customers", "c1"), ("customers", "c3")}
    [reject] = ledger.open_rejects()
    assert (reject["stage"], reject["record_id"]) == ("push", "c2")
    assert "refused" in reject["reason"]
    assert reject["payload"] == {"id": "c2"}


def test_a_step_that_lands_later_resolves_its_reject(
    client: FincomeClient, ledger: LedgerStore, fake: FakeFincome
) -> None:
    fake.refuse[("POST", "c1")] = 422
    Executor(client, ledger).run([[_create("customers", "c1")]])
    del fake.refuse[("POST", "c1")]
    Executor(client, ledger).run([[_create("customers", "c1")]])
    assert ledger.open_rejects() == []


def test_a_refused_key_stops_the_run_and_keeps_what_landed(
    client: FincomeClient, ledger: LedgerStore, fake: FakeFincome
) -> None:
    fake.refuse[("POST", "c3")] = 401
    first = [_create("customers", f"c{n}") for n in range(1, 3)]
    second = [_create("customers", f"c{n}") for n in range(3, 6)]
    later = [_create("subscriptions", "s1")]
    with pytest.raises(AuthenticationFailed):
        Executor(client, ledger).run([first, second, later])
    assert {("customers", "c1"), ("customers", "c2")} <= set(_held(ledger))
    assert ("subscriptions", "s1") not in _held(ledger)
    assert ("POST", "subscriptions", "s1") not in fake.calls


def test_a_delete_forgets_the_record_and_404_counts_as_gone(
    client: FincomeClient, ledger: LedgerStore, fake: FakeFincome
) -> None:
    ledger.record(
        [
            LedgerEntry("subscriptions", "s1", "h", "{}"),
            LedgerEntry("subscriptions", "s2", "h", "{}"),
        ]
    )
    fake.refuse[("DELETE", "s2")] = 404
    deletes = [Step("delete", "subscriptions", "s1"), Step("delete", "subscriptions", "s2")]
    report = Executor(client, ledger).run([deletes])
    assert _held(ledger) == {}
    assert report.done["subscriptions"]["deleted"] == 2
