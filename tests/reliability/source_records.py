"""Hypothesis strategies for what Metronome's list endpoints answer, record by record.

Each of the six staged collections gets a valid record (the shapes of `strategies.py`), then
the mutations of `junk.py`, plus what only raw JSON can carry and the transform never sees
after staging: lone surrogates (`"\\ud800"` is valid JSON), text starting with the private-use
characters dlt reserves for its typed values, and unknown top-level fields, some named like
a known field in another case (`Total`) or like dlt's own columns.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from pipelines.transform.options import MappingOptions
from tests.reliability.junk import json_junk, mutated
from tests.reliability.plan_catalog import CHARGES, CREDITS, FIAT, PLANS, Record
from tests.reliability.strategies import customer_plans, customer_records, invoices

# Text that only staging chokes on: not UTF-8, dlt's own type markers, and text that dlt's
# type detection takes for a timestamp (one beyond the calendar in UTC, too).
RAW_TEXT = (
    "\ud800", "lone \udfff surrogate", "\uf026123", "\uf0272024-03-01T00:00:00Z", "\uf02a",
    "2024-03-01T00:00:00Z", "0001-01-01T00:00:00+14:00",
)  # fmt: skip
NEW_FIELDS = ("brand_new_field", "billingProvider", "🧾", "")
# Named so that dlt would stage them in the column of a known field, or of its own.
CLASHING_FIELDS = ("Total", "ID", "Customer ID", "status ", "custom-fields", "_dlt_id")
raw_junk = json_junk | st.sampled_from(RAW_TEXT)


def _with_raw_text(value: Any) -> st.SearchStrategy[Any]:
    return mutated(value, raw_junk)


@st.composite
def unknown_fields(draw: st.DrawFn) -> Record:
    """Fields a newer API might send; now and then one that would clash once staged."""
    names = draw(st.lists(st.sampled_from(NEW_FIELDS), max_size=2, unique=True))
    if draw(st.integers(0, 3)) == 0:
        names.append(draw(st.sampled_from(CLASHING_FIELDS)))
    return {name: draw(raw_junk) for name in names}


def valid_records(collection: str) -> st.SearchStrategy[Any]:
    options = MappingOptions()
    if collection == "customers":
        return customer_records("cus-0")
    if collection == "customer_plans":
        return customer_plans("cus-0", 0)
    if collection == "plans":
        return st.sampled_from(sorted(PLANS.values(), key=str))
    if collection == "plan_charges":
        return st.sampled_from(sorted(CHARGES.values(), key=str))
    if collection == "credit_types":
        return st.sampled_from([*FIAT, CREDITS]).map(
            lambda unit: {**unit, "is_currency": unit is not CREDITS}
        )
    return invoices("cus-0", 0, options)


COLLECTIONS = ("customers", "customer_plans", "plans", "plan_charges", "credit_types", "invoices")


@st.composite
def source_records(draw: st.DrawFn) -> tuple[str, Any]:
    """One record of one collection: valid, mutated, maybe with unknown fields."""
    collection = draw(st.sampled_from(COLLECTIONS))
    record = draw(_with_raw_text(draw(valid_records(collection))))
    if isinstance(record, dict):
        record = draw(with_raw_text_field(record))
        if draw(st.booleans()):
            record = {**record, **draw(unknown_fields())}
    return collection, record


@st.composite
def with_raw_text_field(draw: st.DrawFn, record: Record) -> Record:
    """Now and then one top-level text field (an id, a name, a status) holds raw text, such
    as a timestamp (a customer named "2024-03-01T00:00:00Z")."""
    texts = sorted(name for name, value in record.items() if isinstance(value, str))
    if not texts or draw(st.booleans()):
        return record
    return {**record, draw(st.sampled_from(texts)): draw(st.sampled_from(RAW_TEXT))}


@st.composite
def junk_invoices(draw: st.DrawFn, customer_id: str, number: int) -> Record:
    """An invoice of that customer for the Metronome emulator to serve: a JSON object, with
    the unique id `junk-<number>` unless the mutations took the id away."""
    invoice = draw(invoices(customer_id, number, MappingOptions()))
    mutated_invoice = draw(_with_raw_text({**invoice, "id": f"junk-{number}"}))
    if not isinstance(mutated_invoice, dict):
        return {"customer_id": customer_id, "junk": mutated_invoice}
    return {**draw(with_raw_text_field(mutated_invoice)), **draw(unknown_fields())}
