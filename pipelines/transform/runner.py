"""Run the transform over what is staged: `metronome_raw` in, the `fincome` tables out.

Reads staging through `pipelines.staging` (catalog first, then customers streamed in id
order), maps with `pipelines.transform.engine.transform`, spools the rows and replaces the
`fincome` tables in one transaction. Returns the rows written per collection, the
transform rejects and how many records were skipped as not revenue (also written to
`fincome.skipped_records`); storing the rejects (`pipelines.rejects.store_transform_rejects`)
is the caller's job.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from destinations.fincome.body import BodyError
from pipelines.staging import iter_customer_bundles, read_catalog
from pipelines.stopping import until_stopped
from pipelines.transform.bundle import Skipped
from pipelines.transform.catalog import catalog_view
from pipelines.transform.engine import Account, Emitted, transform
from pipelines.transform.options import MappingOptions
from pipelines.transform.rejects import TransformReject
from pipelines.transform.tables import DEFAULT_SCHEMA, DesiredStateWriter


@dataclass(frozen=True)
class TransformResult:
    counts: dict[str, int]  # rows written per Fincome collection
    rejects: list[TransformReject] = field(default_factory=list)  # packed: payloads as JSON
    skipped: int = 0  # records left out as not revenue (unbillable, consolidated invoices)


def run_transform(
    db: duckdb.DuckDBPyConnection,
    options: MappingOptions,
    as_of: datetime,
    *,
    schema: str = DEFAULT_SCHEMA,
    spool_dir: Path | None = None,
    with_shared: bool = True,
) -> TransformResult:
    """Rebuild the `fincome` schema from every staged customer (the desired state is whole).

    `spool_dir` holds the rows between mapping and loading (the data dir is a good place).
    `with_shared=False` (a shard) leaves the customers, products and prices tables empty:
    they need every shard's customers and are `push-shared`'s to write.
    """
    catalog = read_catalog(db)
    bundles = until_stopped(iter_customer_bundles(db), "the transform")
    if with_shared:
        items = transform(catalog, bundles, options, as_of)
    else:
        items = Account().map_customers(catalog_view(catalog), bundles, options, as_of)
    return write_desired_state(db, items, schema=schema, spool_dir=spool_dir)


def write_desired_state(
    db: duckdb.DuckDBPyConnection,
    items: Iterable[Emitted | TransformReject | Skipped],
    *,
    schema: str = DEFAULT_SCHEMA,
    spool_dir: Path | None = None,
) -> TransformResult:
    """Write the rows of a transform to the `fincome` tables; return counts and rejects."""
    rejects: list[TransformReject] = []
    with DesiredStateWriter(schema, spool_dir) as writer:
        for item in items:
            if isinstance(item, TransformReject):
                rejects.append(item.packed())  # not the refused record's dicts: its JSON
            elif isinstance(item, Skipped):
                writer.skipped.append((item.collection, item.record_id, item.reason))
            else:
                try:
                    writer.add(item.collection, item.row)
                except BodyError as exc:  # a value no request could carry: refused, not sent
                    row_id = str(item.row.get("id"))
                    rejects.append(
                        TransformReject(item.collection, row_id, str(exc), payload=item.row)
                    )
        writer.commit(db)
        return TransformResult(dict(writer.counts), rejects, len(writer.skipped))
