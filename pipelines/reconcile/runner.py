"""Run a reconciliation: read the three sources, compare them, time it."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import duckdb

from destinations.fincome import FincomeClient
from pipelines.reconcile.compare import find_differences, month_rows
from pipelines.reconcile.documents import SOURCES, Documents, Source
from pipelines.reconcile.fincome import read_documents, read_metrics
from pipelines.reconcile.ledger import read_ledger
from pipelines.reconcile.metronome import read_metronome
from pipelines.reconcile.result import Reconciliation
from pipelines.shards import Shard
from pipelines.transform.options import MappingOptions


def reconcile(
    db: duckdb.DuckDBPyConnection,
    client: FincomeClient,
    options: MappingOptions,
    *,
    shard: Shard | None = None,
) -> Reconciliation:
    """Metronome staging vs the ledger vs Fincome, per document and per month and currency.

    Reads staging and the ledger from `db` (nothing is written) and Fincome through
    `client`'s read API; `options` are the mapping's, so amounts convert as the transform's.
    A shard's data dir compares only the documents of the customers it owns; Fincome's
    metrics cover the whole account, so that cross-check is left to an unsharded reconcile.
    """
    started = time.monotonic()
    # Fincome answers from afar, page after page: staging and the ledger are read meanwhile
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fincome-read") as pool:
        fincome = pool.submit(read_documents, client)
        metronome = read_metronome(db, options)
        sources: dict[Source, Documents] = {
            "metronome": metronome.documents,
            "ledger": read_ledger(db),
            "fincome": fincome.result(),
        }
    if shard is not None:
        sources = {name: _owned(documents, shard) for name, documents in sources.items()}
    months = sorted(
        {
            d.month
            for documents in sources.values()
            for d in documents.values()
            if d.counted and d.month
        }
    )
    metrics = read_metrics(client, months[0], months[-1]) if months and not shard else None
    return Reconciliation(
        months=month_rows(sources, metrics),
        differences=find_differences(sources),
        not_mappable=sorted(
            (n for n in metronome.not_mappable if shard is None or _owns(shard, n.customer_id)),
            key=lambda n: (n.month or "", n.invoice_id),
        ),
        documents={s: sum(d.counted for d in sources[s].values()) for s in SOURCES},
        metrics_checked=metrics is not None,
        requests=client.stats.snapshot(),
        duration_seconds=time.monotonic() - started,
    )


def _owned(documents: Documents, shard: Shard) -> Documents:
    return {key: d for key, d in documents.items() if _owns(shard, d.customer_id)}


def _owns(shard: Shard, customer_id: str | None) -> bool:
    return customer_id is not None and shard.owns(customer_id)
