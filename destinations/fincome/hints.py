"""dlt column hints for Fincome-shaped tables, so dlt carries every value as it was given.

Without hints dlt infers a column's type from its first value: a string field whose first
value looks like a timestamp (`invoice_number = "2024-05-01"`) becomes a timestamp column, the
next values are parsed as dates or moved to a variant column, and Fincome would receive other
text than the row holds (and its hash would drift). Pass the hints with the rows:

    pipeline.run(rows, table_name="invoices", columns=column_hints("invoices"))
"""

from __future__ import annotations

from dlt.common.data_types import TDataType
from dlt.common.schema import TColumnSchema

from destinations.fincome.schema import FieldKind, collection
from destinations.fincome.staged_load import DELETED_FLAG

DLT_TYPES: dict[FieldKind, TDataType] = {
    "string": "text",
    "number": "decimal",
    "integer": "bigint",
    "datetime": "timestamp",
    "object": "json",
}


def column_hints(name: str) -> dict[str, TColumnSchema]:
    """dlt `columns=` hints for a collection: the seed's fields, embedded lines, `_deleted`."""
    spec = collection(name)
    hints: dict[str, TColumnSchema] = {
        f.name: {"data_type": DLT_TYPES[f.kind], "nullable": True} for f in spec.fields
    }
    if spec.embedded:
        hints[spec.embedded] = {"data_type": "json", "nullable": True}
    hints[DELETED_FLAG] = {"data_type": "bool", "nullable": True}
    return hints
