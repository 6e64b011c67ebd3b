"""How repair judges what Fincome holds, and what the ledger becomes (the module's table)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from destinations.fincome import LedgerEntry, LedgerStore
from destinations.fincome.body import body_hash, canonical_body, to_json
from pipelines.repair_checks import Judge, RepairLedger, Tally

LINE = {
    "invoice_id": "i1",
    "type": "one_off",
    "amount_excluding_tax_after_discount": 10,
    "tax_amount": 0,
    "currency_code": "EUR",
}
DESIRED: dict[str, list[dict[str, Any]]] = {
    "customers": [{"id": f"c{i}", "name": f"C{i}"} for i in range(1, 5)],
    "invoices": [
        {"id": "i1", "customer_id": "c1", "date": "2026-04-01T00:00:00Z", "status": "paid"},
        {"id": "i2", "customer_id": "c1", "date": "2026-05-01T00:00:00Z", "status": "paid"},
    ],
    "invoice_line_items": [
        {**LINE, "id": "i1:L0"},
        {**LINE, "id": "i1:L1"},
        {**LINE, "id": "i2:L0", "invoice_id": "i2"},
    ],
}


def hashed(collection: str, row: dict[str, Any]) -> tuple[str, str]:
    body = canonical_body(collection, row)
    return body_hash(body), to_json(body).decode()


@pytest.fixture
def db() -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect() as db:
        db.execute("CREATE SCHEMA fincome")
        for name, rows in DESIRED.items():
            parent = ", invoice_id VARCHAR" if name == "invoice_line_items" else ""
            db.execute(
                f"CREATE TABLE fincome.{name} (id VARCHAR, row_hash VARCHAR, body VARCHAR{parent})"
            )
            for row in rows:
                values = [row["id"], *hashed(name, row)] + ([row["invoice_id"]] if parent else [])
                db.execute(
                    f"INSERT INTO fincome.{name} VALUES ({', '.join('?' * len(values))})", values
                )
        ledger = LedgerStore(db)
        pushed = [("customers", DESIRED["customers"][i]) for i in (0, 2, 3)]
        pushed += [("customers", {"id": "c5", "name": "gone upstream"})]
        pushed += [("customers", {"id": "c6", "name": "gone everywhere"})]
        pushed += [("invoice_line_items", r) for r in DESIRED["invoice_line_items"][:2]]
        ledger.record(
            LedgerEntry(name, row["id"], *hashed(name, row), row.get("invoice_id"))
            for name, row in pushed
        )
        yield db


def judged(db: duckdb.DuckDBPyConnection, *, keep: bool = True) -> tuple[Judge, RepairLedger]:
    ledger = RepairLedger(LedgerStore(db), keep=keep)
    tallies = {name: Tally() for name in ("customers", "invoices", "invoice_line_items")}
    judge = Judge(db, ledger, tallies)
    judge.settle(
        "customers",
        {
            "c1": {"id": "c1", "name": "C1", "created_at": "2026-04-01T00:00:00Z"},  # same
            "c2": {"id": "c2", "name": "C2"},  # same, but the ledger had lost it
            "c3": None,  # deleted by hand
            "c4": {"id": "c4", "name": "Renamed by hand"},
            "c5": {"id": "c5", "name": "gone upstream"},  # not desired, not deletable: stale
            "c6": None,  # not desired and gone
        },
    )
    held_line = {**LINE, "id": "i1:L0", "amount_excluding_tax_after_discount": "10.00"}
    judge.settle(
        "invoices",
        {
            "i1": {
                **DESIRED["invoices"][0],
                "invoice_line_items": [
                    held_line,
                    {**LINE, "id": "i1:old", "amount_excluding_tax_after_discount": 7},
                ],
            },
            "i2": None,
        },
    )
    return judge, ledger


def ledger_of(db: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    rows = db.execute("SELECT collection, id, row_hash FROM fincome_sync.ledger").fetchall()
    return {(c, i): h for c, i, h in rows}


def test_findings_and_counts(db: duckdb.DuckDBPyConnection) -> None:
    judge, _ = judged(db)
    found = {(f.collection, f.id): (f.kind, f.fields) for f in judge.findings}
    assert found == {
        ("customers", "c3"): ("missing", ()),
        ("customers", "c4"): ("differs", ("name",)),
        ("invoices", "i2"): ("missing", ()),
        ("invoice_line_items", "i1:L1"): ("missing", ()),  # not listed by its invoice
        ("invoice_line_items", "i2:L0"): ("missing", ()),  # its invoice is missing
        ("invoice_line_items", "i1:old"): ("extra", ()),
    }
    lines = judge.tallies["invoice_line_items"]
    assert (lines.read, lines.missing, lines.extra, lines.requests) == (4, 2, 1, 0)
    assert judge.tallies["customers"].read == 6


def test_the_ledger_says_what_fincome_holds(db: duckdb.DuckDBPyConnection) -> None:
    wanted = {
        (name, row["id"]): hashed(name, row)[0] for name, rows in DESIRED.items() for row in rows
    }
    judged(db)
    ledger = ledger_of(db)
    assert ledger["customers", "c1"] == wanted["customers", "c1"]
    assert ledger["customers", "c2"] == wanted["customers", "c2"]  # nothing to send
    assert ("customers", "c3") not in ledger  # the diff creates it
    assert ledger["customers", "c4"] not in (None, wanted["customers", "c4"])  # an update
    assert ("customers", "c5") in ledger  # stale: left as it was
    assert ("customers", "c6") not in ledger
    assert ledger["invoices", "i1"] == wanted["invoices", "i1"]
    assert ledger["invoice_line_items", "i1:L0"] == wanted["invoice_line_items", "i1:L0"]
    assert ("invoice_line_items", "i1:L1") not in ledger
    assert ("invoice_line_items", "i1:old") in ledger  # the diff deletes it


def test_checked_ids_are_kept_and_a_dry_run_writes_nothing(db: duckdb.DuckDBPyConnection) -> None:
    before = ledger_of(db)
    _, dry = judged(db, keep=False)
    assert ledger_of(db) == before
    assert "fincome_sync.repair_checked" not in {
        f"{s}.{t}"
        for s, t in db.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
        ).fetchall()
    }
    assert dry.unchecked("invoice_line_items") == []  # settled inside their invoices

    judged(db)
    again = RepairLedger(LedgerStore(db), keep=True)
    assert again.resumed == 6 + 2 + 4
    assert again.unchecked("customers") == []
    again.finish()
    everything = ["c1", "c2", "c3", "c4", "c5"]  # desired, or in the ledger
    assert RepairLedger(LedgerStore(db), keep=True).unchecked("customers") == everything


def test_a_document_read_without_its_lines_leaves_them_to_be_read(
    db: duckdb.DuckDBPyConnection,
) -> None:
    ledger = RepairLedger(LedgerStore(db), keep=True)
    judge = Judge(db, ledger, {name: Tally() for name in ("invoices", "invoice_line_items")})
    judge.settle("invoices", {"i1": dict(DESIRED["invoices"][0])})  # no `invoice_line_items`
    assert ledger.unchecked("invoice_line_items") == ["i1:L0", "i1:L1", "i2:L0"]

    judge.settle("invoice_line_items", {"i1:L0": {**LINE, "id": "i1:L0"}, "i1:L1": None})
    assert ledger.unchecked("invoice_line_items") == ["i2:L0"]
    assert judge.tallies["invoice_line_items"].missing == 1
