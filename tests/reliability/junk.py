"""Junk: valid Metronome records broken the ways real payloads break.

`mutated(record)` takes a valid record and applies a few mutations at random places: a field
removed or nulled, a value of the wrong type (a string for a number, a list for an object, a
number for a string), junk text (emoji, right-to-left, combining marks, control characters),
unknown statuses and types, negative and huge numbers, NaN and Infinity (as strings and as
Decimals), more decimal places than any currency has, custom fields nested several levels
or hundreds of levels deep, amounts shifted so lines no longer add up, list items repeated.
Values are what a JSON parser with `parse_float=Decimal` can produce (`json_junk`); the
transform also gets floats and signalling NaNs (`staged_junk`), which no JSON can carry.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from pipelines.transform.inputs import StagedCatalog, StagedCustomer
from tests.reliability.plan_catalog import CREDITS, Record
from tests.reliability.strategies import Account, accounts

Path = tuple[str | int, ...]

WEIRD_TEXT = (
    "",
    " ",
    "🧾💸 invoice",
    "مرحبا بالعالم",  # right-to-left
    "\u202etxt.exe",  # right-to-left override
    "e\u0301\u0301\u0301",  # combining marks
    "zero\u200bwidth",
    "line\nbreak",
    "tab\tand\rreturn",
    "nul\x00byte",
    "ÅÄÖ ñ ß Ω≈ç√ 中文 日本語",
    "x" * 1000,
)
NUMBERISH: tuple[Any, ...] = (
    "NaN", "Infinity", "-Infinity", "nan", "1e30", "-1e30", "12.50", " 12 ", "1,000", "0x1F",
    Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), Decimal("1E+30"),
    Decimal("-1E+30"), Decimal("1E+28"), 10**30, -(10**30), 2**63, 2**64, -1, 0,
    Decimal("-0"), Decimal("1E-30"), Decimal("123.456789012345678901234567"),
    Decimal("0.0000001"), Decimal("1.5E+3"),
)  # fmt: skip
TIMESTAMPISH: tuple[Any, ...] = (
    "2024-02-30T00:00:00Z", "yesterday", "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00Z", "2024-03-01", "2024-03-01T00:00:00",
    "2024-03-01T00:00:00+05:30", "2024-03-01 00:00:00Z", "2024-03-01T00:00:00.123456789Z",
    "2024-W10", "20240301T000000Z", 1709251200, "2024-03-01T00:00:00Z\x00",
)  # fmt: skip
WORDISH: tuple[Any, ...] = (
    "PENDING", "draft", "Finalized", "void", "VOIDED", "FINALIZED ", "USAGE_CONSOLIDATED",
    "CORRECTION", "usd (cents)", "USD (cents)", "EUR", "XBT", "Cloud credits", "POSTPAID",
)  # fmt: skip

text = st.sampled_from(WEIRD_TEXT) | st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.sampled_from(NUMBERISH)
    | st.sampled_from(TIMESTAMPISH)
    | st.sampled_from(WORDISH)
    | text
)
nested = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=10,
)


def _nest(depth: int) -> Any:
    value: Any = "bottom"
    for level in range(depth):
        value = {"k": value} if level % 2 else [value]
    return value


# Beyond what any JSON library writes happily: orjson stops at 255 levels.
very_deep = st.integers(20, 400).map(_nest)
json_junk = json_scalars | nested | very_deep
# The transform reads staged values, but promises not to fail on anything.
staged_junk = json_junk | st.floats() | st.just(Decimal("sNaN")) | st.just(float("nan"))


def twisted(value: Any) -> list[Any]:
    """Values of the wrong type that still mean `value` to a person."""
    if isinstance(value, bool):
        return [str(value).lower(), int(value)]
    if _is_finite_number(value):
        return [str(value), [value], {"value": value}, value > 0, -value]
    if isinstance(value, Decimal | float):  # NaN, Infinity: comparing a signalling NaN raises
        return [str(value), [value], {"value": value}]
    if isinstance(value, str):
        return [len(value), Decimal("1.5"), [value], {"name": value}, value.upper()]
    if isinstance(value, dict):
        return [[value], list(value.values()), str(value), {}]
    if isinstance(value, list):
        return [dict(enumerate(value)), value[0] if value else None, str(value), {}]
    return [{}, "", 0]


def _is_finite_number(value: Any) -> bool:
    if isinstance(value, Decimal):
        return value.is_finite()
    return isinstance(value, int) and not isinstance(value, bool)


def _paths(value: Any, path: Path = ()) -> Iterator[Path]:
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, item in items:
        yield (*path, key)
        yield from _paths(item, (*path, key))


def _parent(record: Any, path: Path) -> Any:
    """The container holding `path`'s last step, or None when an earlier mutation removed it."""
    node = record
    for step in path[:-1]:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return None
    return node if isinstance(node, dict | list) else None


@st.composite
def mutated(draw: st.DrawFn, record: Any, junk: st.SearchStrategy[Any] = json_junk) -> Any:
    """A deep copy of `record` with 0 to 3 mutations (none in about a third of the draws)."""
    result = copy.deepcopy(record)
    if draw(st.integers(0, 15)) == 0:
        # the whole record replaced: a string, a list, a number (a staged row is never null)
        return draw(junk.filter(lambda value: value is not None))
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2, 3]))):
        paths = list(_paths(result))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _parent(result, path)
        if parent is None:
            continue
        _mutate_at(draw, parent, path[-1], junk)
    return result


def _mutate_at(draw: st.DrawFn, parent: Any, key: Any, junk: st.SearchStrategy[Any]) -> None:
    value = parent[key]
    operation = draw(st.sampled_from(["remove", "null", "junk", "twist", "shift", "repeat"]))
    if operation == "remove" and isinstance(parent, dict):
        del parent[key]
    elif operation == "null":
        parent[key] = None
    elif operation == "twist":
        parent[key] = draw(st.sampled_from(twisted(value)))
    elif operation == "shift" and _is_finite_number(value):
        # an amount that no longer adds up, or with more places than any currency has
        parent[key] = value + draw(st.sampled_from([Decimal(1), Decimal(-100), Decimal("0.0001")]))
    elif operation == "repeat" and isinstance(parent, list):
        parent.append(copy.deepcopy(value))
    else:
        parent[key] = draw(junk)


@st.composite
def junk_accounts(draw: st.DrawFn) -> Account:
    """A valid account with broken records, repeated ids and an unmapped pricing unit."""
    account = draw(accounts())
    bundles = [
        StagedCustomer(
            draw(mutated(bundle.customer, staged_junk)),
            [draw(mutated(plan, staged_junk)) for plan in bundle.plans],
            [draw(mutated(invoice, staged_junk)) for invoice in bundle.invoices],
        )
        for bundle in account.customers
    ]
    catalog = StagedCatalog(
        plans=draw(mutated(dict(account.catalog.plans), staged_junk)),
        plan_charges=draw(mutated(dict(account.catalog.plan_charges), staged_junk)),
        credit_types=draw(mutated(dict(account.catalog.credit_types), staged_junk)),
    )
    return Account(catalog, draw(with_account_junk(bundles)), account.options)


Bundles = list[StagedCustomer]


@st.composite
def with_account_junk(draw: st.DrawFn, bundles: Bundles) -> Bundles:
    """Up to three of: an invoice id used twice, a customer plan id on two customers, a
    customer listed twice, an invoice in a pricing unit the options do not map, a correction
    of an invoice that is not there (or is another customer's)."""
    bundles = list(bundles)
    for _ in range(draw(st.integers(0, 3))):
        target = draw(st.integers(0, len(bundles) - 1))
        damage = draw(st.sampled_from(sorted(ACCOUNT_JUNK)))
        bundles = ACCOUNT_JUNK[damage](draw, bundles, target)
    return bundles


def _repeated_invoice(draw: st.DrawFn, bundles: Bundles, target: int) -> Bundles:
    every = [raw for bundle in bundles for raw in bundle.invoices]
    if every:
        copied = copy.deepcopy(draw(st.sampled_from(every)))
        bundles[target] = replace(bundles[target], invoices=[*bundles[target].invoices, copied])
    return bundles


def _repeated_plan(draw: st.DrawFn, bundles: Bundles, target: int) -> Bundles:
    every = [plan for bundle in bundles for plan in bundle.plans]
    if every:
        copied = copy.deepcopy(draw(st.sampled_from(every)))
        bundles[target] = replace(bundles[target], plans=[*bundles[target].plans, copied])
    return bundles


def _repeated_customer(draw: st.DrawFn, bundles: Bundles, target: int) -> Bundles:
    bundle = bundles[target]
    if isinstance(bundle.customer, dict):
        renamed = {**bundle.customer, "name": "Same id, other name"}
        bundles.append(replace(copy.deepcopy(bundle), customer=renamed))
    return bundles


def _unmapped_unit(draw: st.DrawFn, bundles: Bundles, target: int) -> Bundles:
    unit = draw(st.sampled_from([CREDITS, {"id": "ct-xbt", "name": "XBT"}]))
    return _change_first_invoice(bundles, target, lambda raw: {**raw, "credit_type": unit})


def _orphan_correction(draw: st.DrawFn, bundles: Bundles, target: int) -> Bundles:
    others = [raw.get("id") for b in bundles for raw in b.invoices if isinstance(raw, dict)]
    corrected = draw(st.sampled_from([*others, "gone"]) | text)

    def refund(raw: Record) -> Record:
        line = {
            "name": "Refund",
            "type": "usage",
            "total": -100,
            "credit_type": raw.get("credit_type"),
        }
        return {**raw, "status": "FINALIZED", "line_items": [line], "invoice_adjustments": [],
                "total": -100, "correction_record": {"corrected_invoice_id": corrected,
                                                    "reason": "r", "memo": "m"}}  # fmt: skip

    return _change_first_invoice(bundles, target, refund)


def _change_first_invoice(
    bundles: Bundles, target: int, change: Callable[[Record], Record]
) -> Bundles:
    invoices = list(bundles[target].invoices)
    if invoices and isinstance(invoices[0], dict):
        bundles[target] = replace(bundles[target], invoices=[change(invoices[0]), *invoices[1:]])
    return bundles


ACCOUNT_JUNK: dict[str, Callable[[st.DrawFn, Bundles, int], Bundles]] = {
    "repeated invoice": _repeated_invoice,
    "repeated plan": _repeated_plan,
    "repeated customer": _repeated_customer,
    "unmapped unit": _unmapped_unit,
    "orphan correction": _orphan_correction,
}
