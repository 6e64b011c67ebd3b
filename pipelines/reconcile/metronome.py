"""The Metronome side: what Fincome should hold, read from staging with the mapping's own rules.

One SQL query reads the top of every staged invoice (not its lines: the totals need none of
them), then each invoice goes through the transform's functions: `read_header` (status, type,
dates, correction), `resolve_currency` + `Currency.round` (credit type -> currency, factor,
half-even to the minor unit: the total the transform's balanced lines add up to),
`invoice_status` and `is_credit_note`'s rule (a correction with a negative rounded total).

| staged invoice | becomes |
|---|---|
| FINALIZED, not a credit note | an invoice worth its rounded total, dated `issued_at` else `end_timestamp` |
| FINALIZED correction with a negative total | a credit note crediting minus its total, dated `issued_at` else `created_at` else `end_timestamp` |
| VOID, or FINALIZED but voided in the billing provider | status `void`: counts nothing |
| DRAFT | status `draft`: counts nothing (never sent) |
| skipped by the mapping as not revenue (`skip_reason`: unbillable, or USAGE_CONSOLIDATED with `consolidated_invoices = "skip"`) | status `skipped`: counts nothing |
| rejected by the mapping | status `not_mappable`, listed with the reason: counts nothing |

Rejected by the mapping means: the currency or the date cannot be resolved here, or the last
transform left an open reject for the invoice or its customer (lines that do not add up, a
credit note whose invoice is not synced...).
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import duckdb
import orjson

from pipelines.reconcile.documents import VOID, DocumentKind, Documents, Held, month_of
from pipelines.staging import read_catalog
from pipelines.transform.bundle import skip_reason
from pipelines.transform.header import InvoiceHeader, read_header
from pipelines.transform.invoices import invoice_status
from pipelines.transform.money import Currency, resolve_currency, sendable
from pipelines.transform.options import MappingOptions
from pipelines.transform.values import MappingError, decimal_text

STAGING = "metronome_raw"
# The header needs none of these, and they hold most of an invoice's bytes.
LINE_COLUMNS = frozenset(
    {"line_items", "invoice_adjustments", "constituent_invoices", "revenue_system_invoices"}
)


@dataclass(frozen=True)
class NotMappable:
    """A staged invoice the mapping cannot represent: why, and what it says in Metronome."""

    invoice_id: str
    customer_id: str | None
    status: str  # the Metronome status: FINALIZED or VOID
    month: str | None
    total: str  # in its credit type, as staged
    credit_type: str | None
    reason: str


@dataclass
class MetronomeSide:
    documents: Documents = field(default_factory=dict)
    not_mappable: list[NotMappable] = field(default_factory=list)


def read_metronome(db: duckdb.DuckDBPyConnection, options: MappingOptions) -> MetronomeSide:
    """Every staged invoice as the Fincome document it should be (or why it is none)."""
    side = MetronomeSide()
    columns = _header_columns(db)
    if not columns:
        return side
    rejected = _open_mapping_rejects(db)
    converter = _Converter(options, read_catalog(db).credit_types)
    select = ", ".join(
        # naive UTC: DuckDB builds a pytz zone for every aware value it returns, which
        # costs more than the rest of the read; the mapping reads naive values as UTC
        f'"{name}" AT TIME ZONE \'UTC\' AS "{name}"' if is_timestamp else f'"{name}"'
        for name, is_timestamp in columns.items()
    )
    cursor = db.execute(f"SELECT {select} FROM {STAGING}.invoices ORDER BY id")
    while batch := cursor.fetchmany(10_000):
        for values in batch:
            invoice = dict(zip(columns, values, strict=True))
            _admit(side, invoice, converter, options, rejected.reason(invoice))
    return side


def _admit(
    side: MetronomeSide,
    invoice: dict[str, Any],
    converter: _Converter,
    options: MappingOptions,
    rejected_because: str | None,
) -> None:
    invoice_id = str(invoice["id"])
    try:
        header = read_header(invoice, invoice_id)
    except MappingError as error:
        if str(invoice.get("status") or "").upper() != "DRAFT":  # drafts are checked once final
            side.not_mappable.append(_not_mappable(invoice, None, str(error)))
        return
    if header.status == "DRAFT":
        side.documents[invoice_id] = _uncounted(invoice, header, "draft")
        return
    if rejected_because is None and skip_reason(header, options) is not None:
        side.documents[invoice_id] = _uncounted(invoice, header, "skipped")
        return
    try:
        if rejected_because is not None:
            raise MappingError(rejected_because)
        side.documents[invoice_id] = _document(invoice, header, converter)
    except MappingError as error:
        side.not_mappable.append(_not_mappable(invoice, header, str(error)))
        side.documents[invoice_id] = _uncounted(invoice, header, "not_mappable")


def _document(invoice: dict[str, Any], header: InvoiceHeader, converter: _Converter) -> Held:
    currency = converter.currency(header.credit_type)
    total = currency.round(currency.convert(header.total))
    if not sendable(total):
        raise MappingError(f"amount {decimal_text(total)} {currency.code} is too large")
    customer_id = invoice.get("customer_id")
    if header.is_correction and total < 0:
        date = header.issued_at or header.created_at or header.date
        if date is None:
            raise MappingError("no credit note date: no issued_at, created_at or end_timestamp")
        status = "refunded" if header.external_status == "PAID" else "refund_due"
        if header.status == "VOID":
            status = VOID  # a voided correction no longer refunds anything
        return Held(
            "credit_note", header.id, customer_id, currency.code, month_of(date), -total,
            status, counted=status != VOID,
        )  # fmt: skip
    if header.date is None:
        raise MappingError("no invoice date: neither issued_at nor end_timestamp is set")
    status = invoice_status(header, total)
    return Held(
        "invoice", header.id, customer_id, currency.code, month_of(header.date), total,
        status, counted=status != VOID,
    )  # fmt: skip


def _uncounted(invoice: dict[str, Any], header: InvoiceHeader, state: str) -> Held:
    kind: DocumentKind = "credit_note" if header.is_correction and header.total < 0 else "invoice"
    return Held(
        kind, header.id, invoice.get("customer_id"), None, month_of(header.date),
        Decimal(0), state, counted=False,
    )  # fmt: skip


def _not_mappable(
    invoice: dict[str, Any], header: InvoiceHeader | None, reason: str
) -> NotMappable:
    total = invoice.get("total")
    return NotMappable(
        invoice_id=str(invoice["id"]),
        customer_id=invoice.get("customer_id"),
        status=str(invoice.get("status") or ""),
        month=month_of(header.date) if header else None,
        total=decimal_text(total) if isinstance(total, Decimal) else str(total),
        credit_type=_credit_type_name(invoice.get("credit_type")),
        reason=reason,
    )


class _Converter:
    """`resolve_currency` once per distinct credit type (a few for thousands of invoices)."""

    def __init__(self, options: MappingOptions, credit_types: Mapping[str, Any]) -> None:
        self.options = options
        self.credit_types = credit_types
        self._known: dict[str, Currency | MappingError] = {}

    def currency(self, credit_type: object) -> Currency:
        key = credit_type if isinstance(credit_type, str) else repr(credit_type)
        if key not in self._known:
            try:
                self._known[key] = resolve_currency(credit_type, self.options, self.credit_types)
            except MappingError as error:
                self._known[key] = error
        found = self._known[key]
        if isinstance(found, MappingError):
            raise found
        return found


def _header_columns(db: duckdb.DuckDBPyConnection) -> dict[str, bool]:
    """The staged invoice columns the header may read, each with whether it is a TIMESTAMPTZ."""
    rows = db.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = 'invoices' ORDER BY ordinal_position",
        [STAGING],
    ).fetchall()
    return {
        name: sql_type == "TIMESTAMP WITH TIME ZONE"
        for name, sql_type in rows
        if name not in LINE_COLUMNS and not name.startswith("_dlt_")
    }


@dataclass(frozen=True)
class _MappingRejects:
    """The last transform's open rejects of invoices and customers: reasons by id."""

    invoices: dict[str, str]
    customers: dict[str, str]

    def reason(self, invoice: Mapping[str, Any]) -> str | None:
        if invoice["id"] in self.invoices:
            return self.invoices[invoice["id"]]
        customer_reason = self.customers.get(invoice.get("customer_id") or "")
        return f"its customer was set aside: {customer_reason}" if customer_reason else None


def _open_mapping_rejects(db: duckdb.DuckDBPyConnection) -> _MappingRejects:
    exists = db.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'fincome_sync' AND table_name = 'rejects'"
    ).fetchone()
    rows = (
        db.execute(
            "SELECT collection, record_id, reason FROM fincome_sync.rejects "
            "WHERE stage = 'transform' AND resolved_at IS NULL"
        ).fetchall()
        if exists and exists[0]
        else []
    )
    by_collection: dict[str, dict[str, str]] = {"invoices": {}, "customers": {}}
    for collection, record_id, reason in rows:
        if collection in by_collection:
            by_collection[collection][record_id] = reason
    return _MappingRejects(by_collection["invoices"], by_collection["customers"])


def _credit_type_name(credit_type: object) -> str | None:
    try:
        parsed = orjson.loads(credit_type) if isinstance(credit_type, str) else credit_type
    except orjson.JSONDecodeError:
        return None
    name = parsed.get("name") if isinstance(parsed, dict) else None
    return name if isinstance(name, str) else None
