"""Plain-language wording shared by the terminal, the JSON and the HTML report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from pipelines.reconcile.compare import Difference, DifferenceKind
from pipelines.reconcile.documents import Held, Source, money_text

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


def held_text(held: Held | None, *, read: bool = True) -> str:
    """`1,200.00 USD, paid`, a state such as `draft`, `absent`, or `not read`."""
    if held is None:
        return "absent" if read else "not read"
    status = held.status.replace("_", " ")
    if not held.counted and not held.amount:
        return status
    amount = amount_text(held.amount, held.currency)
    return f"{amount}, {status}" if status else amount


def source_text(difference: Difference, source: Source) -> str:
    """What one source holds of a differing document (Fincome's may not have been read)."""
    return held_text(
        difference.held[source], read=source != "fincome" or difference.fincome_checked
    )


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
            f"{SOURCE_LABELS[source]} {source_text(difference, source)}"
            for source in difference.held
        )
        + "."
    )


def summary_sentences(result: Reconciliation) -> list[str]:
    """What a reader needs first, in plain words: the headline, then what was left out."""
    sentences = [headline(result)]
    if any(not row.metrics_agree for row in result.months):
        count = sum(not row.metrics_agree for row in result.months)
        sentences.append(
            f"Fincome's own monthly totals (its invoiced and revenue metrics) disagree with "
            f"{'its invoices and credit notes' if result.reads_complete else 'Metronome'} in "
            f"{count_of(count, 'month')}."
        )
    if result.not_mappable:
        count = len(result.not_mappable)
        customers = _customers_named([n.customer_id for n in result.not_mappable], result)
        sentences.append(
            f"{count_of(count, 'Metronome invoice')} of {customers} cannot be converted for "
            "Fincome (for example a custom pricing unit without a conversion rate); "
            f"{'it is' if count == 1 else 'they are'} left out of every total and listed at the "
            "end."
        )
    # how each kind of document was read is listed apart (`used`): here only what was not done
    return sentences + not_checked(result, with_invoices=False, with_reads=False)


def headline(result: Reconciliation) -> str:
    """The one sentence that says whether everything agrees, and never more than was checked."""
    months = len({row.month for row in result.months})
    if result.differences:
        count = len(result.differences)
        differing = count_of(count, "invoice or credit note", DOCUMENTS)
        return (
            f"Something differs: {differing} {'does' if count == 1 else 'do'} not match, in "
            f"{len({row.month for row in result.months_differing})} of {count_of(months, 'month')} "
            f"({_months_named(result)}), for "
            f"{_customers_named([d.customer_id for d in result.differences], result)}. Each is "
            "listed below with what Metronome, billing-sync and Fincome say about it."
        )
    if not result.agrees:
        return (
            f"Something differs: the totals of {count_of(len(result.months_differing), 'month')} "
            f"of {months} do not add up the same ({_months_named(result)})."
        )
    currencies = len({row.currency for row in result.months})
    documents = result.documents["metronome"]
    in_currencies = count_of(currencies, "currency", "currencies")
    counted = count_of(documents, "invoice and credit note", DOCUMENTS)
    compared = (
        f"for each of {count_of(months, 'month')} in {in_currencies}, Metronome's {counted} add "
        "up to the same amounts as what billing-sync pushed"
    )
    if result.complete:
        return f"Everything agrees: {compared} and what Fincome holds."
    gaps = []
    if result.not_mappable:
        gaps.append(f"{count_of(len(result.not_mappable), 'invoice')} left out of every total")
    if not result.reads_complete:
        gaps.append("Fincome's documents not all read")
    held = " and what Fincome holds" if result.reads_complete else ""
    return f"What was compared agrees ({compared}{held}), but not everything: {'; '.join(gaps)}."


def not_checked(
    result: Reconciliation, *, with_invoices: bool = True, with_reads: bool = True
) -> list[str]:
    """What reconcile could not check, one sentence each."""
    sentences = [
        read.describe(result.read_paths.get(kind, "")) + "."
        for kind, read in result.reads.items()
        if read.how != "view" and with_reads
    ]
    choice = result.choice
    if choice is not None and not choice.metrics:
        offered = ", ".join(choice.metrics_offered)
        sentences.append(
            "Fincome's own totals were not cross-checked: "
            + (
                f"none of its metrics ({offered}) is known to mean invoiced or revenue per "
                "month and currency."
                if offered
                else "it lists no metrics."
            )
        )
    sentences += [f"{problem}." for problem in result.problems]
    if with_invoices and result.not_mappable:
        count = count_of(len(result.not_mappable), "Metronome invoice")
        sentences.append(f"{count} left out of every total (not mappable).")
    return sentences


def used(result: Reconciliation) -> list[str]:
    """Which views and metrics of Fincome reconcile used (and for what)."""
    lines = [read.describe(result.read_paths.get(kind, "")) for kind, read in result.reads.items()]
    choice = result.choice
    if choice is not None and choice.metrics:
        lines.append(
            "cross-checked with the metrics "
            + ", ".join(f"`{slug}` ({role})" for role, slug in choice.metrics.items())
        )
    return lines


def customer_text(customer_id: str | None, names: Mapping[str, str]) -> str:
    """`Acme Corp (3f6b...full id)`: the name Metronome gives, and the whole id."""
    if not customer_id:
        return "a customer not named"
    name = names.get(customer_id)
    return f"{name} ({customer_id})" if name else customer_id


def _customers_named(ids: Sequence[str | None], result: Reconciliation, shown: int = 3) -> str:
    unique = sorted({i for i in ids if i}, key=lambda i: (result.customer_names.get(i, i), i))
    if not unique:
        return "customers not named"
    named = [customer_text(i, result.customer_names) for i in unique[:shown]]
    more = len(unique) - shown
    tail = f" and {count_of(more, 'more customer')}" if more > 0 else ""
    return ", ".join(named) + tail


def count_of(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number:,} {singular if number == 1 else plural or singular + 's'}"


def _months_named(result: Reconciliation, shown: int = 6) -> str:
    named = [f"{month_label(row.month)} {row.currency}" for row in result.months_differing]
    more = f" and {len(named) - shown} more" if len(named) > shown else ""
    return ", ".join(named[:shown]) + more
