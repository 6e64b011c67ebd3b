"""One record's story: what Metronome sent, what it became, what was pushed, what Fincome holds.

`story(db, client, kind, record_id)` gathers, for an invoice or a customer:
- Metronome: the staged record (`staging.iter_customer_bundles`: as the mapping reads it);
- mapped: the desired rows it became (`fincome.*`; an invoice's lines, a customer's records
  by collection through `fincome.mapped_rows`), and why the transform skipped it, if it did;
- the ledger: when each of those records was last pushed, and whether the ledger's copy is
  still the desired body (if not, the next push updates it);
- the open rejects of any stage naming them;
- Fincome: what it holds now, with ONE read through the client (an invoice or credit note
  is read with its lines), compared field by field with the desired body
  (`readback.differing_fields`).

Ids: Fincome's ids are Metronome's (a customer; an invoice, or the credit note a negative
correction becomes), so ID is either. A line id (`<invoice id>:<suffix>`) stands for its
invoice. A record Fincome holds that the data dir does not know is still shown (say after a
lost data dir); an id known to neither is `Unknown`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import duckdb
import orjson

from destinations.fincome import FincomeClient
from destinations.fincome.desired import DESIRED_SCHEMA
from destinations.fincome.diff import ledger_relation, schema_tables
from destinations.fincome.ledger import DEFAULT_SCHEMA as LEDGER_SCHEMA
from destinations.fincome.schema import EMBEDDED_CHILD, PUSH_ORDER, collection
from destinations.fincome.waves import PARENT_COLUMN
from pipelines.readback import differing_fields, read_one
from pipelines.staging import iter_customer_bundles

Kind = Literal["invoice", "customer"]
DOCUMENTS = ("invoices", "credit_notes")


class Unknown(LookupError):
    """Neither the data dir nor Fincome knows the id."""


@dataclass
class Record:
    """One Fincome record of the story, from its desired row to Fincome's copy."""

    collection: str
    id: str
    desired: dict[str, Any] | None = None  # the body the push sends
    pushed_at: datetime | None = None  # the ledger's last acknowledged write
    pushed_as_desired: bool | None = None  # the ledger's copy is the desired body
    held: dict[str, Any] | None = None  # Fincome's copy (None: it answered 404)
    read: bool = False  # Fincome's copy was read (a document's lines come with it)
    differs: list[str] = field(default_factory=list)  # fields Fincome holds differently

    def to_json(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "id": self.id,
            "desired": self.desired,
            "pushed_at": self.pushed_at.isoformat() if self.pushed_at else None,
            "pushed_as_desired": self.pushed_as_desired,
            "fincome": (self.held if self.read else "not read"),
            "differs": self.differs,
        }


@dataclass
class Story:
    kind: Kind
    id: str
    metronome: dict[str, Any] | None  # the staged record
    records: list[Record]  # the document and its lines, or the customer
    owned: dict[str, dict[str, int]] = field(default_factory=dict)  # customer: per collection
    skipped: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    read: str = ""  # the one read sent to Fincome, `GET <path>`
    requests: int = 0
    mapped: bool = True  # the desired state exists (a data dir only extracted has none yet)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "metronome": self.metronome,
            "records": [record.to_json() for record in self.records],
            "owned": self.owned,
            "skipped": self.skipped,
            "rejects": self.rejects,
            "fincome_read": self.read,
            "requests": self.requests,
            "mapped": self.mapped,
        }


def story(
    db: duckdb.DuckDBPyConnection, client: FincomeClient, kind: Kind, record_id: str
) -> Story:
    """The story of `record_id`; raises `Unknown` when no one knows it."""
    tables = _Tables(db)
    if kind == "invoice":
        found = _invoice(tables, _document_id(tables, record_id))
    else:
        found = _customer(tables, record_id)
    found.mapped = bool(tables.present[DESIRED_SCHEMA])
    _read_fincome(client, found)
    known = found.metronome or found.skipped or found.rejects
    if not (known or any(r.desired or r.pushed_at or r.held for r in found.records)):
        raise Unknown(f"no {kind} {record_id!r}: not staged, mapped, pushed or in Fincome")
    return found


class _Tables:
    """Reads of the data dir's tables that answer nothing when a table does not exist yet."""

    def __init__(self, db: duckdb.DuckDBPyConnection) -> None:
        self.db = db
        self.present = {
            schema: schema_tables(db, schema)
            for schema in ("metronome_raw", DESIRED_SCHEMA, LEDGER_SCHEMA)
        }

    def rows(self, schema: str, table: str, query: str, params: list[Any]) -> list[dict[str, Any]]:
        if table not in self.present[schema]:
            return []
        cursor = self.db.execute(query.replace("{table}", f"{schema}.{table}"), params)
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    def desired(self, name: str, where: str, params: list[Any]) -> list[dict[str, Any]]:
        query = f"SELECT id, row_hash, body FROM {{table}} WHERE {where} ORDER BY id"
        return self.rows(DESIRED_SCHEMA, name, query, params)

    def record(self, name: str, row: dict[str, Any]) -> Record:
        """A record from its desired row, with what the ledger says of it."""
        found = Record(name, row["id"], desired=orjson.loads(row["body"]) if row["body"] else None)
        query = "SELECT pushed_at, row_hash FROM {table} WHERE collection = ? AND id = ?"
        for pushed in self.rows(LEDGER_SCHEMA, "ledger", query, [name, row["id"]]):
            found.pushed_at = pushed["pushed_at"]
            found.pushed_as_desired = pushed["row_hash"] == row.get("row_hash")
        return found

    def open_rejects(self, ids: set[str]) -> list[dict[str, Any]]:
        """Open rejects of any stage naming one of `ids` or a line of one."""
        query = (
            "SELECT stage, collection, record_id, reason, first_seen, last_seen, attempts "
            "FROM {table} WHERE resolved_at IS NULL AND (record_id IN (SELECT unnest(?)) "
            "OR split_part(record_id, ':', 1) IN (SELECT unnest(?))) ORDER BY 1, 2, 3"
        )
        return [_plain(r) for r in self.rows(LEDGER_SCHEMA, "rejects", query, [list(ids)] * 2)]

    def skipped(self, where: str, params: list[Any]) -> list[dict[str, Any]]:
        query = f"SELECT collection, record_id, reason FROM {{table}} WHERE {where} ORDER BY 1, 2"
        return self.rows(DESIRED_SCHEMA, "skipped_records", query, params)

    def staged(self, customer_id: str) -> dict[str, Any] | None:
        if "customers" not in self.present["metronome_raw"]:
            return None
        bundle = next(iter_customer_bundles(self.db, [customer_id]), None)
        if bundle is None:
            return None
        return {
            "customer": bundle.customer,
            "invoices": bundle.invoices,
            "plans": bundle.plans,
            "contracts": bundle.contracts,
        }


def _document_id(tables: _Tables, asked: str) -> str:
    """The invoice id `asked` stands for: itself, or the invoice of a line id."""
    head, colon, _ = asked.partition(":")
    if not colon or tables.desired("invoices", "id = ?", [asked]):
        return asked
    return head


def _invoice(tables: _Tables, invoice_id: str) -> Story:
    query = "SELECT customer_id FROM {table} WHERE id = ?"
    owner = tables.rows("metronome_raw", "invoices", query, [invoice_id])
    staged = tables.staged(owner[0]["customer_id"]) if owner else None
    invoice = next((i for i in (staged or {}).get("invoices", []) if i["id"] == invoice_id), None)
    records: list[Record] = []
    for name in DOCUMENTS:
        rows = tables.desired(name, "id = ?", [invoice_id])
        lines = EMBEDDED_CHILD[name].name
        line_rows = tables.desired(lines, f"{PARENT_COLUMN[lines]} = ?", [invoice_id])
        records += [tables.record(name, row) for row in rows]
        records += [tables.record(lines, row) for row in line_rows]
    if not any(r.collection in DOCUMENTS for r in records):
        pushed = tables.rows(
            LEDGER_SCHEMA, "ledger", "SELECT collection FROM {table} WHERE id = ?", [invoice_id]
        )
        name = next((p["collection"] for p in pushed if p["collection"] in DOCUMENTS), "invoices")
        records.insert(0, tables.record(name, {"id": invoice_id, "body": None}))
    return Story(
        "invoice",
        invoice_id,
        invoice,
        records,
        skipped=tables.skipped("record_id = ?", [invoice_id]),
        rejects=tables.open_rejects({invoice_id}),
    )


def _customer(tables: _Tables, customer_id: str) -> Story:
    staged = tables.staged(customer_id)
    rows = tables.desired("customers", "id = ?", [customer_id])
    record = tables.record("customers", rows[0] if rows else {"id": customer_id, "body": None})
    query = "SELECT collection, id FROM {table} WHERE mapped_from = ?"
    owned_ids = tables.rows(DESIRED_SCHEMA, "mapped_rows", query, [customer_id])
    ids = {customer_id, *(r["id"] for r in owned_ids)}
    ids |= {i["id"] for i in (staged or {}).get("invoices", [])}
    return Story(
        "customer",
        customer_id,
        staged["customer"] if staged else None,
        [record],
        owned=_owned(tables, customer_id),
        skipped=tables.skipped("mapped_from = ?", [customer_id]),
        rejects=tables.open_rejects(ids),
    )


def _owned(tables: _Tables, customer_id: str) -> dict[str, dict[str, int]]:
    """Per collection, the customer's desired records, those pushed, those pushed as desired."""
    query = (
        "SELECT m.collection, m.id, l.row_hash AS pushed, d.row_hash AS wanted FROM {table} m "
        f"LEFT JOIN {ledger_relation(tables.db)} l ON l.collection = m.collection AND l.id = m.id "
        f"LEFT JOIN ({_hashes(tables)}) d ON d.collection = m.collection AND d.id = m.id "
        "WHERE m.mapped_from = ?"
    )
    counts: dict[str, Counter[str]] = {}
    for row in tables.rows(DESIRED_SCHEMA, "mapped_rows", query, [customer_id]):
        count = counts.setdefault(row["collection"], Counter())
        count["desired"] += 1
        count["pushed"] += row["pushed"] is not None
        count["as_desired"] += row["pushed"] is not None and row["pushed"] == row["wanted"]
    order = [spec.name for spec in PUSH_ORDER]
    return {name: dict(counts[name]) for name in sorted(counts, key=order.index)}


def _hashes(tables: _Tables) -> str:
    parts = [
        f"SELECT '{name}' AS collection, id, row_hash FROM {DESIRED_SCHEMA}.{name}"
        for name in (spec.name for spec in PUSH_ORDER)
        if name in tables.present[DESIRED_SCHEMA]
    ]
    return " UNION ALL ".join(parts) or "SELECT NULL AS collection, NULL AS id, NULL AS row_hash"


def _read_fincome(client: FincomeClient, found: Story) -> None:
    """The one read: the document (its lines come with it) or the customer."""
    head = found.records[0]
    before = client.stats.attempts
    held = read_one(client, head.collection, head.id)
    found.read = f"GET {client.paths.item(head.collection, head.id)}"
    found.requests = client.stats.attempts - before
    _compare(head, held)
    spec = collection(head.collection)
    if held is None and spec.embedded:
        listed: Any = []  # a document Fincome lacks has no lines there either
    else:
        listed = held.get(spec.embedded) if held and spec.embedded else None
    if not isinstance(listed, list):
        return  # not read: this Fincome does not list a document's lines
    lines = {line.get("id"): line for line in listed if isinstance(line, dict)}
    for record in found.records[1:]:
        _compare(record, lines.pop(record.id, None))
    for line_id, line in lines.items():  # held by Fincome, not desired
        extra = Record(EMBEDDED_CHILD[head.collection].name, str(line_id))
        _compare(extra, line)
        found.records.append(extra)


def _compare(record: Record, held: dict[str, Any] | None) -> None:
    record.read, record.held = True, held
    if held is not None and record.desired is not None:
        record.differs = differing_fields(record.collection, record.desired, held)


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}
