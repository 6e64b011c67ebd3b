"""Which records belong to which, in SQL: what the frozen rule and the retry's scope share.

A record belongs to itself, to the invoice or credit note it sits in, and to the customer it
is for. An invoice and its lines also belong to the subscription the lines name (whether it
renews, which subscription a line counts for, follow from it), and a subscription to the
invoices whose lines name it, since it summarises them (its monthly value comes from its
latest invoice). Ownership is one step, not a chain: an invoice of a subscription does not
belong to the subscription's other invoices. `owned_by(records)` has one row per
record and owner: `collection, id, owner_collection, owner_id`.

| record | owners besides itself |
|---|---|
| subscription | its customer; each invoice whose lines name it |
| invoice | its customer; each subscription its lines name |
| credit note | the invoice it corrects, that invoice's customer |
| invoice line | its invoice, that invoice's customer, the subscription it names |
| credit note line | its credit note, the corrected invoice, that invoice's customer |

The records come from the desired state (`desired_records`) or from the ledger
(`ledger_records`, the bodies Fincome acknowledged), so a record Fincome holds but the
transform no longer produces keeps its owners.

Rejects of the extract and of the transform name Metronome's collections, those of the push
Fincome's; `fincome_keys` turns a reject into the Fincome records it stands for (a Metronome
invoice is a Fincome invoice or credit note, a customer plan a subscription).
"""

from __future__ import annotations

from collections.abc import Collection

import duckdb

from destinations.fincome.schema import PUSH_ORDER

FincomeKey = tuple[str, str]  # (Fincome collection, id)

FINCOME_OF_METRONOME: dict[str, tuple[str, ...]] = {
    "customers": ("customers",),
    "customer_plans": ("subscriptions",),
    "invoices": ("invoices", "credit_notes"),
}
# SQL: the same pairs as a relation `(metronome, fincome)`
FINCOME_OF_METRONOME_SQL = "(VALUES {}) AS fincome_of(metronome, fincome)".format(
    ", ".join(f"('{m}', '{f}')" for m, names in FINCOME_OF_METRONOME.items() for f in names)
)

PARENT_COLLECTION = {
    "credit_notes": "invoices",
    "invoice_line_items": "invoices",
    "credit_note_line_items": "credit_notes",
}
# per desired table: the columns naming its customer, its parent and (lines) its subscription
_DESIRED_LINKS: dict[str, tuple[str | None, str | None, str | None]] = {
    "subscriptions": ("customer_id", None, None),
    "invoices": ("customer_id", None, None),
    "credit_notes": (None, "invoice_id", None),
    "invoice_line_items": (None, "invoice_id", "subscription_id"),
    "credit_note_line_items": (None, "credit_note_id", None),
}
NO_RECORDS = (
    "SELECT NULL::VARCHAR AS collection, NULL::VARCHAR AS id, NULL::VARCHAR AS customer_id, "
    "NULL::VARCHAR AS parent_id, NULL::VARCHAR AS subscription_id WHERE false"
)


def fincome_keys(stage: str, collection: str, record_id: str) -> list[FincomeKey]:
    """The Fincome records a reject stands for (none for Metronome's catalog tables)."""
    if stage == "push":
        return [(collection, record_id)]
    return [(name, record_id) for name in FINCOME_OF_METRONOME.get(collection, ())]


def desired_records(desired: str, present: Collection[str]) -> str:
    """SQL: `collection, id, customer_id, parent_id, subscription_id` of the desired state."""
    parts = []
    for spec in PUSH_ORDER:
        if spec.name in present:
            links = _DESIRED_LINKS.get(spec.name, (None, None, None))
            customer, parent, subscription = (column or "NULL" for column in links)
            parts.append(
                f"SELECT '{spec.name}' AS collection, id, {customer}::VARCHAR AS customer_id, "
                f"{parent}::VARCHAR AS parent_id, {subscription}::VARCHAR AS subscription_id "
                f"FROM {desired}.{spec.name}"
            )
    return " UNION ALL ".join(parts) or NO_RECORDS


def ledger_records(ledger: str) -> str:
    """SQL: the same columns for what the ledger `ledger` (a table) holds."""
    return f"""
        SELECT collection, id,
            CASE WHEN collection IN ('subscriptions', 'invoices')
                THEN json_extract_string(body, '$.customer_id') END AS customer_id,
            CASE WHEN collection = 'credit_notes'
                THEN json_extract_string(body, '$.invoice_id') ELSE parent_id END AS parent_id,
            CASE WHEN collection = 'invoice_line_items'
                THEN json_extract_string(body, '$.subscription_id') END AS subscription_id
        FROM {ledger}"""


def owned_by(records: str) -> str:
    """SQL: `collection, id, owner_collection, owner_id`, a row per owner of each record.

    One pass over the records: a row may repeat (whoever reads it joins it to a few owners
    and keeps distinct records), so a ledger of ~200k rows streams through in a few tenths
    of a second.
    """
    parents = ", ".join(f"('{child}', '{parent}')" for child, parent in PARENT_COLLECTION.items())
    headers = "SELECT * FROM r WHERE collection IN ('invoices', 'credit_notes')"
    named = "CASE WHEN r.collection = 'invoice_line_items' THEN r.subscription_id END"
    customer = "coalesce(r.customer_id, p.customer_id, g.customer_id)"
    pairs = ", ".join(
        _pair(*pair)
        for pair in (
            ("r.collection", "r.id", "r.collection", "r.id"),
            ("r.collection", "r.id", "'customers'", customer),
            ("r.collection", "r.id", "pc.parent", "r.parent_id"),
            ("r.collection", "r.id", "'invoices'", "g.id"),  # a credit note line's invoice
            ("r.collection", "r.id", "'subscriptions'", named),
            ("'invoices'", "r.parent_id", "'subscriptions'", named),
            ("'subscriptions'", named, "'invoices'", "r.parent_id"),
        )
    )
    return f"""
        WITH r AS ({records})
        SELECT o.collection, o.id, o.owner_collection, o.owner_id FROM (
            SELECT unnest([{pairs}]) AS o
            FROM r
            LEFT JOIN (VALUES {parents}) AS pc(child, parent) ON pc.child = r.collection
            LEFT JOIN ({headers}) AS p ON p.collection = pc.parent AND p.id = r.parent_id
            LEFT JOIN ({headers}) AS g ON p.collection = 'credit_notes'
                AND g.collection = 'invoices' AND g.id = p.parent_id
        )
        WHERE o.id IS NOT NULL AND o.owner_collection IS NOT NULL AND o.owner_id IS NOT NULL"""


def _pair(collection: str, record_id: str, owner_collection: str, owner_id: str) -> str:
    return (
        f"{{'collection': {collection}, 'id': {record_id}, "
        f"'owner_collection': {owner_collection}, 'owner_id': {owner_id}}}"
    )


def parent_references(desired: str, present: Collection[str]) -> str:
    """SQL: `collection, id, parent_collection, parent_id` for every reference the desired
    rows make to a record Fincome must hold first (the seed's parents)."""
    parts = [
        f"SELECT '{spec.name}' AS collection, id, '{target}' AS parent_collection, "
        f"{column}::VARCHAR AS parent_id FROM {desired}.{spec.name} WHERE {column} IS NOT NULL"
        for spec in PUSH_ORDER
        if spec.name in present
        for column, target in spec.parents
    ]
    return " UNION ALL ".join(parts) or (
        "SELECT NULL::VARCHAR AS collection, NULL::VARCHAR AS id, "
        "NULL::VARCHAR AS parent_collection, NULL::VARCHAR AS parent_id WHERE false"
    )


RETRY_SCOPE_TABLE = "retry_scope"


def create_retry_scope(
    db: duckdb.DuckDBPyConnection,
    keys: Collection[FincomeKey],
    *,
    desired: str,
    present: Collection[str],
    ledger: str,
) -> str:
    """A temp table of the records a retry of `keys` pushes; its name.

    Those are the records `keys` own, whether desired or held by Fincome (a line gone
    upstream is deleted), and the parents they need that Fincome does not hold yet (a price
    only the retried invoices use), so no retried record is refused for a missing parent.
    """
    db.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {RETRY_SCOPE_TABLE} AS
        WITH RECURSIVE
        wanted AS (
            SELECT unnest($collections::VARCHAR[]) AS collection, unnest($ids::VARCHAR[]) AS id
        ),
        owned AS (
            SELECT o.collection, o.id FROM ({owned_by(desired_records(desired, present))}) o
            JOIN wanted w ON w.collection = o.owner_collection AND w.id = o.owner_id
            UNION
            SELECT o.collection, o.id FROM ({owned_by(ledger_records(ledger))}) o
            JOIN wanted w ON w.collection = o.owner_collection AND w.id = o.owner_id
        ),
        missing AS MATERIALIZED (  -- references to what Fincome does not hold: few
            SELECT refs.* FROM ({parent_references(desired, present)}) refs
            ANTI JOIN {ledger} l
                ON l.collection = refs.parent_collection AND l.id = refs.parent_id
        ),
        needed(collection, id) AS (
            SELECT collection, id FROM owned
            UNION
            SELECT missing.parent_collection, missing.parent_id FROM missing
            JOIN needed ON needed.collection = missing.collection AND needed.id = missing.id
        )
        SELECT DISTINCT collection, id FROM needed
        """,
        {"collections": [c for c, _ in keys], "ids": [i for _, i in keys]},
    )
    return RETRY_SCOPE_TABLE
