"""The desired state's tables: what Fincome should hold, one table per collection.

Decided here once, for every writer of desired state (the transform's, the dlt adapter's) and
for the diff that reads it:

| column | what |
|---|---|
| the seed's create fields | typed by kind (`SQL_TYPES`): money and ownership are SQL on them |
| `row_hash` | `body.body_hash` of the canonical create body, compared with the ledger's |
| `body` | that body as the JSON Fincome receives (`body.to_json`), built once: sent as it is |

Invoices and credit notes hold no embedded lines: their lines are rows of their own tables,
and the diff embeds them into a create.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from destinations.fincome.body import body_hash, canonical_body, to_json
from destinations.fincome.schema import Collection, FieldKind

DESIRED_SCHEMA = "fincome"
SQL_TYPES: dict[FieldKind, str] = {
    "string": "VARCHAR",
    "number": "DECIMAL(38,9)",
    "integer": "BIGINT",
    "datetime": "TIMESTAMP WITH TIME ZONE",
    "object": "JSON",
}


def column_types(collection: Collection) -> dict[str, str]:
    """Column name -> SQL type: the seed's fields in order, then `row_hash` and `body`."""
    columns = {spec.name: SQL_TYPES[spec.kind] for spec in collection.fields}
    return {**columns, "row_hash": "VARCHAR", "body": "VARCHAR"}


def desired_row(collection: Collection, row: Mapping[str, Any]) -> dict[str, Any]:
    """The row with its `row_hash` and ready `body`.

    Raises `body.BodyError` for a value its field cannot carry (an amount no JSON number
    holds exactly): the record is refused before anything is sent.
    """
    body = canonical_body(collection, row)
    return {**row, "row_hash": body_hash(body), "body": to_json(body).decode()}
