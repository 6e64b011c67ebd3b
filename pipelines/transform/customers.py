"""Fincome customers: one per staged Metronome customer, active or archived.

| Fincome field | from | rule |
|---|---|---|
| id | customer `id` | required |
| name | customer `name` | |
| email | customer `custom_fields` | key `[mapping] email_field` (default `email`) |
| country | customer `custom_fields` | key `[mapping] country_field` (default `country`) |
| zip_code | customer `custom_fields` | key `[mapping] zip_code_field` (default `zip_code`) |
| root_parent_id | invoice `payer.customer_id` | (1) |
| custom_properties | customer `custom_fields` | (2) |

(1) The payer named by the customer's newest synced invoice, when it is another customer,
    followed up to the topmost synced customer of the chain (Fincome wants the root); null
    when the payer is not synced or the chain loops.
(2) Plus `metronome_ingest_aliases` (comma-joined), `metronome_archived` (`true`/`false`)
    and `metronome_payer_customer_id` (the direct payer).

Rows are ordered parents first (customers without a parent, then the others), each by id, so
that a parent can be created before the children pointing at it.
"""

from __future__ import annotations

from collections.abc import Iterable

from destinations.fincome.rows import CustomerRow
from pipelines.transform.inputs import Record
from pipelines.transform.options import MappingOptions
from pipelines.transform.values import custom_fields, custom_properties, text


def customer_row(customer: Record, customer_id: str, options: MappingOptions) -> CustomerRow:
    """The customer without parent yet (`with_payer`, then `with_root_parents`)."""
    fields = custom_fields(customer.get("custom_fields"), "custom_fields")
    aliases = customer.get("ingest_aliases")
    alias_text = [text(a) for a in aliases] if isinstance(aliases, list | tuple) else []
    return {
        "id": customer_id,
        "root_parent_id": None,
        "name": text(customer.get("name")),
        "email": text(fields.get(options.email_field)),
        "country": text(fields.get(options.country_field)),
        "zip_code": text(fields.get(options.zip_code_field)),
        "custom_properties": custom_properties(
            fields,
            {
                "metronome_ingest_aliases": ",".join(a for a in alias_text if a) or None,
                "metronome_archived": customer.get("archived_at") is not None,
            },
        ),
    }


def with_payer(row: CustomerRow, payer_id: str | None) -> CustomerRow:
    """The customer with its direct payer (when another customer) as parent."""
    if payer_id is None or payer_id == row["id"]:
        return row
    properties = {**(row["custom_properties"] or {}), "metronome_payer_customer_id": payer_id}
    return {**row, "root_parent_id": payer_id, "custom_properties": properties}


def with_root_parents(rows: Iterable[CustomerRow]) -> list[CustomerRow]:
    """Point each customer at the root of its payer chain; parents first, then by id."""
    by_id = {row["id"]: row for row in rows}
    resolved: list[CustomerRow] = [
        {**row, "root_parent_id": _root(row["id"], by_id)} for row in by_id.values()
    ]
    return sorted(resolved, key=lambda row: (row["root_parent_id"] is not None, row["id"]))


def _root(customer_id: str, by_id: dict[str, CustomerRow]) -> str | None:
    seen = {customer_id}
    current = by_id[customer_id]["root_parent_id"]
    root = None
    while current is not None:
        if current in seen:
            return None
        if current not in by_id:
            return root
        seen.add(current)
        root = current
        current = by_id[current]["root_parent_id"]
    return root
