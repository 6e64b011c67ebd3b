"""Run the transform over what is staged: `metronome_raw` in, the `fincome` tables out.

Reads staging through `pipelines.staging` (catalog first, then customers streamed in id
order), maps with `pipelines.transform.engine`, spools the rows and writes the `fincome`
tables in one transaction. Only the customers whose staged records (or whose mapping) changed
since their rows were written are mapped again (`incremental.py`); the others keep their rows,
skipped records and rejects. What needs every customer (customers, products, prices) is built
again each run from the facts stored per customer. Returns the rows of the desired state per
collection, every transform reject (kept ones included) and how many records are skipped as
not revenue (`fincome.skipped_records`); storing the rejects
(`pipelines.rejects.store_transform_rejects`) is the caller's job.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import orjson

from destinations.fincome.body import BodyError
from destinations.fincome.rows import CustomerRow
from destinations.fincome.schema import PUSH_ORDER
from pipelines.staging import CustomerBundle, iter_customer_bundles, read_catalog
from pipelines.stopping import until_stopped
from pipelines.transform.bundle import Skipped
from pipelines.transform.catalog import CatalogView, catalog_view
from pipelines.transform.engine import Account, Emitted, shared_rows
from pipelines.transform.incremental import (
    Kept,
    Plan,
    collides,
    facts_json,
    kept_state,
    plan_remap,
    span_row,
)
from pipelines.transform.moment import WatchedMoment
from pipelines.transform.options import MappingOptions
from pipelines.transform.rejects import TransformReject
from pipelines.transform.tables import (
    CUSTOMERS_TABLE,
    DEFAULT_SCHEMA,
    REJECTS_TABLE,
    SKIPPED_TABLE,
    DesiredStateWriter,
)
from pipelines.transform.values import to_datetime


@dataclass(frozen=True)
class TransformResult:
    counts: dict[str, int]  # rows of the desired state per Fincome collection
    rejects: list[TransformReject] = field(default_factory=list)  # packed: payloads as JSON
    skipped: int = 0  # records left out as not revenue (unbillable, consolidated invoices)
    mapped: int = 0  # customers mapped by this run (the others kept their rows)


class _Collided(Exception):
    """A customer mapped again lost an id to a kept one: the run maps everything."""


def run_transform(
    db: duckdb.DuckDBPyConnection,
    options: MappingOptions,
    as_of: datetime,
    *,
    schema: str = DEFAULT_SCHEMA,
    spool_dir: Path | None = None,
    with_shared: bool = True,
    full_refresh: bool = False,
) -> TransformResult:
    """Bring the `fincome` schema up to what is staged (the desired state is whole).

    `spool_dir` holds the rows between mapping and loading (the data dir is a good place).
    `with_shared=False` (a shard) leaves the customers, products and prices tables empty:
    they need every shard's customers and are `push-shared`'s to write. `full_refresh` maps
    every customer again.
    """
    moment = to_datetime(as_of, "as_of")
    plan = plan_remap(db, schema, options, moment, everything=full_refresh)
    run = _Run(db, schema, catalog_view(read_catalog(db)), options, moment, with_shared)
    try:
        return run.write(plan, spool_dir)
    except _Collided:
        return run.write(Plan(plan.fingerprints), spool_dir)


@dataclass
class _Run:
    db: duckdb.DuckDBPyConnection
    schema: str
    view: CatalogView
    options: MappingOptions
    as_of: datetime
    with_shared: bool

    def write(self, plan: Plan, spool_dir: Path | None) -> TransformResult:
        kept = kept_state(self.db, self.schema, plan)
        state = _State(kept, dict(kept.customers), list(kept.rejects))
        taken = {space: set(ids) for space, ids in kept.ids.items()}
        with DesiredStateWriter(self.schema, spool_dir) as writer:
            bundles = until_stopped(iter_customer_bundles(self.db, plan.remap), "the transform")
            for bundle in bundles:
                account = Account(
                    customers=state.customers,  # shared: ids taken by earlier customers
                    invoice_ids=taken["invoices"],
                    subscription_ids=taken["customer_plans"],
                )
                self._map(writer, plan, state, account, bundle)
            if self.with_shared:
                shared = shared_rows(self.view, state.customers.values(), kept.usage, self.options)
                state.rejects.extend(_write(writer, shared, None))
            writer.commit(self.db, plan.replaced)
        counts, skipped = _totals(self.db, self.schema)
        return TransformResult(counts, state.rejects, skipped, state.mapped)

    def _map(
        self,
        writer: DesiredStateWriter,
        plan: Plan,
        state: _State,
        account: Account,
        bundle: CustomerBundle,
    ) -> None:
        """Map one customer; spool its rows, rejects, skipped records, fingerprint and facts."""
        owner = str(bundle.customer["id"])
        watched = WatchedMoment.of(self.as_of)
        before = len(state.customers)
        items = account.map_customers(self.view, [bundle], self.options, watched)
        for reject in _write(writer, items, owner):
            if plan.remap is not None and collides(reject, state.kept):
                raise _Collided(reject.record_id)
            state.rejects.append(reject)
        admitted = (
            next(reversed(state.customers.values())) if len(state.customers) > before else None
        )
        facts = facts_json(admitted, account.usage)
        span = watched.span()
        writer.add_own(CUSTOMERS_TABLE, span_row(plan.fingerprints[owner], span, facts), owner)
        state.kept.usage.merge(account.usage)
        state.mapped += 1


@dataclass
class _State:
    """A run's account-wide state: kept customers' facts, then each mapped one's."""

    kept: Kept  # its usage grows with every customer mapped
    customers: dict[str, CustomerRow]  # admitted customers with their direct payer
    rejects: list[TransformReject]
    mapped: int = 0


def write_desired_state(
    db: duckdb.DuckDBPyConnection,
    items: Iterable[Emitted | TransformReject | Skipped],
    *,
    schema: str = DEFAULT_SCHEMA,
    spool_dir: Path | None = None,
) -> TransformResult:
    """Replace the `fincome` tables with the rows of a transform; return counts and rejects.

    The rows have no owner (shared ones, `push-shared`'s), so the next `run_transform` maps
    every customer."""
    with DesiredStateWriter(schema, spool_dir) as writer:
        rejects = list(_write(writer, items, None))
        writer.commit(db)
        return TransformResult(dict(writer.counts), rejects, writer.skipped)


def _write(
    writer: DesiredStateWriter,
    items: Iterable[Emitted | TransformReject | Skipped],
    owner: str | None,
) -> Iterable[TransformReject]:
    """Spool the rows and skipped records of `owner`; yield its rejects (stored too)."""
    for item in items:
        if isinstance(item, Skipped):
            writer.add_own(SKIPPED_TABLE, vars(item), owner)
            continue
        reject = item if isinstance(item, TransformReject) else _added(writer, item, owner)
        if reject is None:
            continue
        packed = reject.packed()  # not the refused record's dicts: its JSON
        if owner is not None:
            writer.add_own(REJECTS_TABLE, _reject_row(packed), owner)
        yield packed


def _added(writer: DesiredStateWriter, item: Emitted, owner: str | None) -> TransformReject | None:
    try:
        writer.add(item.collection, item.row, owner)
    except BodyError as exc:  # a value no request could carry: refused, not sent
        return TransformReject(item.collection, str(item.row.get("id")), str(exc), payload=item.row)
    return None


def _reject_row(reject: TransformReject) -> dict[str, object]:
    payload = reject.payload if isinstance(reject.payload, orjson.Fragment) else None
    return {
        "collection": reject.collection,
        "record_id": reject.record_id,
        "reason": reject.reason,
        "payload": payload,
    }


def _totals(db: duckdb.DuckDBPyConnection, schema: str) -> tuple[dict[str, int], int]:
    """Rows per collection in the desired state, and the records skipped as not revenue."""
    tables = [spec.name for spec in PUSH_ORDER] + [SKIPPED_TABLE]
    query = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM {schema}.{t}" for t in tables)
    counts = dict(db.execute(query).fetchall())
    skipped = counts.pop(SKIPPED_TABLE)
    return counts, skipped
