"""Run a reconciliation: read the three sources, compare them, time it."""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import duckdb

from destinations.fincome import FincomeClient, RequestRejected
from pipelines.reconcile.compare import find_differences, month_rows
from pipelines.reconcile.coverage import (
    FincomeSide,
    collection_path,
    read_chosen_views,
    read_the_rest,
)
from pipelines.reconcile.discovery import KINDS, Choice, discover
from pipelines.reconcile.documents import SOURCES, DocumentKind, Documents, Source
from pipelines.reconcile.fincome import MetricTotals, MonthCurrency, read_metrics
from pipelines.reconcile.ledger import read_ledger
from pipelines.reconcile.metronome import read_metronome
from pipelines.reconcile.result import Reconciliation
from pipelines.shards import Shard
from pipelines.transform.options import MappingOptions

STAGED_CUSTOMERS = "metronome_raw.customers"


def reconcile(
    db: duckdb.DuckDBPyConnection,
    client: FincomeClient,
    options: MappingOptions,
    *,
    shard: Shard | None = None,
    sample_size: int | None = None,
) -> Reconciliation:
    """Metronome staging vs the ledger vs Fincome, per document and per month and currency.

    Reads staging and the ledger from `db` (nothing is written) and Fincome through
    `client`'s read API: the views and metrics it offers (`discovery.py`), else its documents
    by id (all, or `sample_size` of each kind; `coverage.py`); `options` are the mapping's,
    so amounts convert as the transform's. A shard's data dir compares only the documents of
    the customers it owns; Fincome's metrics cover the whole account, so that cross-check is
    left to an unsharded reconcile.
    """
    started = time.monotonic()
    # Fincome answers from afar, page after page: staging and the ledger are read meanwhile
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fincome-read") as pool:
        found = pool.submit(_discover_and_read_views, client)
        metronome = read_metronome(db, options)
        ledger = read_ledger(db)
        choice, fincome = found.result()
    fincome = read_the_rest(client, fincome, _known(metronome.documents, ledger), sample_size)
    sources: dict[Source, Documents] = {
        "metronome": metronome.documents,
        "ledger": ledger,
        "fincome": fincome.documents,
    }
    if shard is not None:
        sources = {name: _owned(documents, shard) for name, documents in sources.items()}
    metrics = None if shard else _metrics(client, choice, sources, fincome)
    differences = find_differences(sources, fincome.unchecked)
    not_mappable = sorted(
        (n for n in metronome.not_mappable if shard is None or _owns(shard, n.customer_id)),
        key=lambda n: (n.month or "", n.invoice_id),
    )
    customers = {d.customer_id for d in differences} | {n.customer_id for n in not_mappable}
    return Reconciliation(
        months=month_rows(
            sources, metrics, fincome_complete=fincome.complete, metric_roles=choice.metrics
        ),
        differences=differences,
        not_mappable=not_mappable,
        documents={s: sum(d.counted for d in sources[s].values()) for s in SOURCES},
        metrics_checked=metrics is not None,
        choice=choice,
        reads=fincome.reads,
        read_paths={kind: collection_path(client, kind) for kind in KINDS},
        problems=fincome.problems,
        customer_names=customer_names(db, customers),
        requests=client.stats.snapshot(),
        duration_seconds=time.monotonic() - started,
    )


def customer_names(db: duckdb.DuckDBPyConnection, ids: Iterable[str | None]) -> dict[str, str]:
    """The staged Metronome names of these customers (those staging knows), by id."""
    wanted = sorted({i for i in ids if i})
    exists = db.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'metronome_raw' "
        "AND table_name = 'customers' AND column_name = 'name'"
    ).fetchone()
    if not wanted or not exists or not exists[0]:
        return {}
    rows = db.execute(
        f"SELECT id, name FROM {STAGED_CUSTOMERS} WHERE id IN (SELECT unnest(?))", [wanted]
    ).fetchall()
    return {str(i): str(name) for i, name in rows if name}


def _discover_and_read_views(client: FincomeClient) -> tuple[Choice, FincomeSide]:
    choice = discover(client)
    return choice, read_chosen_views(client, choice)


def _known(metronome: Documents, ledger: Documents) -> dict[DocumentKind, set[str]]:
    """The documents to read by id: those Metronome counts and those billing-sync pushed."""
    known: dict[DocumentKind, set[str]] = {kind: set() for kind in KINDS}
    for document in (*(d for d in metronome.values() if d.counted), *ledger.values()):
        known[document.kind].add(document.id)
    return known


def _metrics(
    client: FincomeClient, choice: Choice, sources: dict[Source, Documents], fincome: FincomeSide
) -> dict[MonthCurrency, MetricTotals] | None:
    counted = (d for documents in sources.values() for d in documents.values() if d.counted)
    months = sorted({d.month for d in counted if d.month})
    if not months or not choice.metrics:
        return None
    try:
        return read_metrics(client, months[0], months[-1], choice.metrics)
    except RequestRejected as exc:  # a metric that refuses our question is one not read
        fincome.problems.append(f"Fincome's metrics could not be read ({exc}); not cross-checked")
        return None


def _owned(documents: Documents, shard: Shard) -> Documents:
    return {key: d for key, d in documents.items() if _owns(shard, d.customer_id)}


def _owns(shard: Shard, customer_id: str | None) -> bool:
    return customer_id is not None and shard.owns(customer_id)
