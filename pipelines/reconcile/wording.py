"""Plain-language wording shared by the terminal, the JSON and the HTML report."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from pipelines.reconcile.compare import Difference, DifferenceKind
from pipelines.reconcile.documents import Held, money_text

if TYPE_CHECKING:  # result.py words its differences with this module
    from pipelines.reconcile.result import Reconciliation

SOURCE_LABELS = {"metronome": "Metronome", "ledger": "Pushed (ledger)", "fincome": "Fincome"}
KIND_LABELS: dict[DifferenceKind, str] = {
    "unknown_to_metronome": "Unknown to Metronome",
    "missing_in_ledger": "Not pushed yet",
    "missing_in_fincome": "Missing in Fincome",
    "status_differs": "Status differs",
    "amount_differs": "Amount differs",
    "month_differs": "Month differs",
}
DOCUMENT_LABELS = {"invoice": "invoice", "credit_note": "credit note"}
DOCUMENTS = "invoices and credit notes"


def month_label(month: str | None) -> str:
    """`2026-04` -> `Apr 2026`; `-` for no month."""
    if not month:
        return "-"
    return datetime.strptime(month, "%Y-%m").strftime("%b %Y")


def grouped_amount(amount: Decimal, currency: str | None) -> str:
    """`1234567.5` USD -> `1,234,567.50`: exact, to the minor unit, grouped for reading."""
    text = money_text(amount, currency)
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, fraction = digits.partition(".")
    return f"{sign}{int(whole):,}" + (f".{fraction}" if fraction else "")


def amount_text(amount: Decimal, currency: str | None) -> str:
    """`1,234,567.50 USD`."""
    grouped = grouped_amount(amount, currency)
    return f"{grouped} {currency}" if currency else grouped


def held_text(held: Held | None) -> str:
    """`1,200.00 USD, paid`, a state such as `draft`, or `absent`."""
    if held is None:
        return "absent"
    status = held.status.replace("_", " ")
    if not held.counted and not held.amount:
        return status
    amount = amount_text(held.amount, held.currency)
    return f"{amount}, {status}" if status else amount


def explain(difference: Difference) -> str:
    """One sentence a finance reader can act on."""
    metronome, ledger, fincome = (difference.held[s] for s in ("metronome", "ledger", "fincome"))
    what = DOCUMENT_LABELS[difference.document]
    kind = difference.kind
    if kind == "unknown_to_metronome":
        holder = "Fincome" if fincome is not None else "The ledger"
        return f"{holder} has this {what} ({held_text(fincome or ledger)}) but Metronome does not."
    if kind == "missing_in_ledger":
        return (
            f"Metronome has this {what} ({held_text(metronome)}) but billing-sync has not "
            "pushed it to Fincome."
        )
    if kind == "missing_in_fincome":
        return (
            f"billing-sync pushed this {what} ({held_text(ledger)}) but Fincome does not have it."
        )
    if kind == "month_differs":
        months = ", ".join(
            f"{SOURCE_LABELS[source]} {held.month}"
            for source, held in difference.held.items()
            if held is not None
        )
        return f"The {what} is dated in different months: {months}."
    noun = "status" if kind == "status_differs" else "amount"
    return (
        f"The {noun} of this {what} differs: "
        + "; ".join(
            f"{SOURCE_LABELS[source]} {held_text(held)}" for source, held in difference.held.items()
        )
        + "."
    )


def summary_sentences(result: Reconciliation) -> list[str]:
    """What a reader needs first, in plain words: does it agree, and if not, where."""
    months = len({row.month for row in result.months})
    currencies = len({row.currency for row in result.months})
    documents = result.documents["metronome"]
    sentences = []
    if result.agrees:
        sentences.append(
            f"Everything agrees: for each of {_count(months, 'month')} in "
            f"{_count(currencies, 'currency', 'currencies')}, Metronome's "
            f"{_count(documents, 'invoice and credit note', DOCUMENTS)} add up "
            "to the same amounts as what billing-sync pushed and what Fincome holds."
        )
    elif result.differences:
        count = len(result.differences)
        differing = _count(count, "invoice or credit note", DOCUMENTS)
        sentences.append(
            f"Something differs: {differing} {'does' if count == 1 else 'do'} not match, in "
            f"{len({row.month for row in result.months_differing})} of {_count(months, 'month')} "
            f"({_months_named(result)}). Each is listed below with what Metronome, "
            "billing-sync and Fincome say about it."
        )
    if any(not row.metrics_agree for row in result.months):
        count = sum(not row.metrics_agree for row in result.months)
        sentences.append(
            f"Fincome's own monthly totals (its invoiced and revenue metrics) disagree with its "
            f"invoices and credit notes in {_count(count, 'month')}."
        )
    if result.not_mappable:
        count = len(result.not_mappable)
        sentences.append(
            f"{_count(count, 'Metronome invoice')} cannot be converted for Fincome (for example "
            "a custom pricing unit without a conversion rate); "
            f"{'it is' if count == 1 else 'they are'} left out of every total and listed at the "
            "end."
        )
    return sentences


def _count(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number:,} {singular if number == 1 else plural or singular + 's'}"


def _months_named(result: Reconciliation, shown: int = 6) -> str:
    named = [f"{month_label(row.month)} {row.currency}" for row in result.months_differing]
    more = f" and {len(named) - shown} more" if len(named) > shown else ""
    return ", ".join(named[:shown]) + more
