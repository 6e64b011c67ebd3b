"""One invoice or credit note as one source holds it, and the helpers all three sources share.

Every source (Metronome staging, the ledger, Fincome read back) is read into `Held` documents
keyed by id: a Fincome invoice or credit note id is the Metronome invoice id it comes from,
so one id names the same document everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation, localcontext
from typing import Literal

from pipelines.transform.currencies import minor_unit_exponent
from pipelines.transform.money import MONEY_CONTEXT

DocumentKind = Literal["invoice", "credit_note"]
Source = Literal["metronome", "ledger", "fincome"]
SOURCES: tuple[Source, ...] = ("metronome", "ledger", "fincome")
VOID = "void"


@dataclass(frozen=True, slots=True)
class Held:
    """An invoice or credit note in one source.

    `amount` is what the document is worth as Fincome counts it: an invoice's total (the sum
    of its lines), or a credit note's credited amount (a positive magnitude, whichever sign its
    lines carry). `status` is the Fincome status (`paid`, `open`, `void`, `refunded`...); on
    the Metronome side it is the status Fincome should hold, or why it holds none (`draft`,
    `not_mappable`, `skipped`). Only `counted` documents add to the totals.
    """

    kind: DocumentKind
    id: str
    customer_id: str | None
    currency: str | None  # None: a document without lines (nothing says its currency)
    month: str | None  # YYYY-MM of its date in UTC
    amount: Decimal
    status: str
    counted: bool

    @property
    def net(self) -> Decimal:
        """What it adds to the month's net: invoices add, credit notes take away."""
        return self.amount if self.kind == "invoice" else -self.amount


Documents = dict[str, Held]


def month_of(moment: datetime | str | None) -> str | None:
    """`2026-04` for any date-time in April 2026 UTC (naive ones are UTC), None without one."""
    if moment is None:
        return None
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m")


def to_amount(value: object) -> Decimal:
    """An amount read back from JSON or SQL (int, Decimal, numeric text); None is zero."""
    if value is None:
        return Decimal(0)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | str) and not isinstance(value, bool):
        try:
            return Decimal(value)
        except InvalidOperation:
            pass
    raise ValueError(f"not an amount: {value!r}")


def money_text(amount: Decimal, currency: str | None) -> str:
    """Exact decimal text, to the currency's minor unit when that loses nothing.

    `1234.5` USD is `1234.50`, JPY `500`; an amount finer than the minor unit keeps all its
    digits (so a rounding problem shows instead of being rounded away).
    """
    exponent = minor_unit_exponent(currency or "")
    with localcontext(MONEY_CONTEXT):  # wide enough that no amount fails to quantize
        if exponent is not None:
            quantized = amount.quantize(Decimal(1).scaleb(-exponent))
            if quantized == amount:
                return f"{quantized:f}"
        normalized = amount.normalize()
    return f"{normalized:f}" if normalized else "0"
