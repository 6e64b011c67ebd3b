"""The invoice-level facts every entity mapping needs, read once and validated.

A Metronome invoice is read into an `InvoiceHeader` (identity, status, type, dates, money
unit, plan or contract, external invoice, correction) before anything else is mapped, so a
malformed invoice is rejected for one clear reason before any of its lines are looked at.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pipelines.transform.inputs import Record
from pipelines.transform.values import (
    MappingError,
    custom_fields,
    optional_datetime,
    optional_identifier,
    optional_record,
    preview,
    text,
    to_decimal,
)

STATUSES = ("DRAFT", "FINALIZED", "VOID")
# Invoice types whose charges are not for a service period: their lines are one-off.
ONE_OFF_INVOICE_TYPES = frozenset({"SCHEDULED", "CREDIT_PURCHASE", "CORRECTION"})
CONSOLIDATED = "USAGE_CONSOLIDATED"
AVERAGE_MONTH = timedelta(days=365.25 / 12)
# `billable_status` (absent means billable, the SDK's default): whether Metronome sends the
# invoice to the customer's billing provider.
BILLABLE_STATUSES = {"billable": True, "unbillable": False}


@dataclass(frozen=True)
class Period:
    """A service period [start, end) with start strictly before end."""

    start: datetime
    end: datetime

    @property
    def months(self) -> int:
        """Whole months it spans, at least 1: 28..31 days is 1, a quarter 3, a year 12."""
        return max(1, round((self.end - self.start) / AVERAGE_MONTH))

    @property
    def calendar_months(self) -> Decimal:
        """Months as Fincome counts them: whole calendar months from `start` (same day,
        clamped to the month's end), plus the rest as a fraction of the following month.
        A month, a quarter and a year are exactly 1, 3 and 12; a week of March is 7/31."""
        whole = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month
        while _shifted(self.start, whole) > self.end:
            whole -= 1
        anchor, following = _shifted(self.start, whole), _shifted(self.start, whole + 1)
        rest = Decimal((self.end - anchor).total_seconds()) / Decimal(
            (following - anchor).total_seconds()
        )
        return whole + rest


def _shifted(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def period_of(start: datetime | None, end: datetime | None) -> Period | None:
    return Period(start, end) if start is not None and end is not None and start < end else None


@dataclass(frozen=True)
class InvoiceHeader:
    id: str
    status: str  # DRAFT | FINALIZED | VOID
    type: str  # upper case, "" when absent
    start: datetime | None
    period: Period | None
    issued_at: datetime | None
    date: datetime | None  # issued_at, else end_timestamp
    created_at: datetime | None
    total: Decimal
    credit_type: Any
    plan_id: str | None
    plan_name: str | None
    contract_id: str | None
    payer_id: str | None
    has_external_invoice: bool
    external_invoice_id: str | None
    external_status: str | None  # upper case
    corrected_invoice_id: str | None
    correction: Record  # the correction_record, {} when not a correction
    custom_fields: Record
    plan_custom_fields: Record
    contract_custom_fields: Record
    billable: bool

    @property
    def is_contract(self) -> bool:
        """A contract-era invoice: its line types follow the contract rules (lines.py)."""
        return self.contract_id is not None

    @property
    def is_correction(self) -> bool:
        return bool(self.correction) or self.type == "CORRECTION"

    @property
    def is_periodic(self) -> bool:
        """Whether its charges are for a service period (usage, fixed, seats, minimums)."""
        return not self.is_correction and self.type not in ONE_OFF_INVOICE_TYPES

    @property
    def service_start(self) -> datetime | None:
        return self.start or self.date


def read_header(invoice: Record, invoice_id: str) -> InvoiceHeader:
    """Validate the top of a Metronome invoice; `MappingError` says what is wrong."""
    status = (text(invoice.get("status")) or "").upper()
    if status not in STATUSES:
        shown = preview(invoice.get("status"))
        raise MappingError(f"unknown invoice status {shown} (expected DRAFT, FINALIZED or VOID)")
    start = optional_datetime(invoice.get("start_timestamp"), "start_timestamp")
    end = optional_datetime(invoice.get("end_timestamp"), "end_timestamp")
    external = optional_record(invoice.get("external_invoice"), "external_invoice")
    correction = optional_record(invoice.get("correction_record"), "correction_record")
    payer = optional_record(invoice.get("payer"), "payer")
    issued_at = optional_datetime(invoice.get("issued_at"), "issued_at")
    return InvoiceHeader(
        id=invoice_id,
        status=status,
        type=(text(invoice.get("type")) or "").upper(),
        start=start,
        period=period_of(start, end),
        issued_at=issued_at,
        date=issued_at or end,
        created_at=optional_datetime(invoice.get("created_at"), "created_at"),
        total=to_decimal(invoice.get("total"), "total"),
        credit_type=invoice.get("credit_type"),
        plan_id=optional_identifier(invoice.get("plan_id")),
        plan_name=text(invoice.get("plan_name")),
        contract_id=optional_identifier(invoice.get("contract_id")),
        payer_id=optional_identifier(payer.get("customer_id")),
        has_external_invoice=bool(external),
        external_invoice_id=optional_identifier(external.get("invoice_id")),
        external_status=(text(external.get("external_status")) or "").upper() or None,
        corrected_invoice_id=_corrected_invoice_id(correction),
        correction=correction,
        custom_fields=custom_fields(invoice.get("custom_fields"), "custom_fields"),
        plan_custom_fields=custom_fields(invoice.get("plan_custom_fields"), "plan_custom_fields"),
        contract_custom_fields=custom_fields(
            invoice.get("contract_custom_fields"), "contract_custom_fields"
        ),
        billable=_billable(invoice.get("billable_status")),
    )


def _billable(status: object) -> bool:
    """`billable_status` as text (the SPEC) or an object with a `value` (the SDK types it as
    an object); absent is billable. Any other value is a reject: never guessed."""
    if isinstance(status, dict):
        status = status.get("value")
    if status is None:
        return True
    billable = BILLABLE_STATUSES.get((text(status) or "").lower())
    if billable is None:
        raise MappingError(f"unknown billable_status {preview(status)} (billable or unbillable)")
    return billable


def _corrected_invoice_id(correction: Record) -> str | None:
    if not correction:
        return None
    corrected = optional_identifier(correction.get("corrected_invoice_id"))
    if corrected is None:
        raise MappingError("correction_record has no corrected_invoice_id")
    return corrected
