"""`run_extract`: pull Metronome into `metronome_raw` with dlt, and record what was set aside.

The dlt pipeline `metronome_extract` loads into `<data dir>/billing_sync.duckdb` (dataset
`metronome_raw`) and keeps its working folder in `<data dir>/dlt`; both paths are absolute.
A package left pending by an interrupted run is loaded first: it is a complete extract
whose cursor state dlt already committed, so dropping it would lose those rows until a full
refresh. Records the source could not stage go to `fincome_sync.rejects` (stage `extract`)
after the load, in the same DuckDB file (`extract_rejects.py`). A record read again exactly
as it is staged is left out of the load (`unchanged_records.py`): an unchanged re-run reads
every customer's window and stages nothing. The caller holds the data-dir run lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as clock_time
from typing import Any

import dlt
from dlt.common.pipeline import LoadInfo
from dlt.common.typing import TLoaderFileFormat
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.pipeline.exceptions import PipelineStepFailed

from destinations.fincome.ledger import LedgerStore
from httpkit import RequestStats
from pipelines.config import ConfigError, env_key
from pipelines.datadir import DataDir
from pipelines.extract_rejects import RejectCollector, record_rejects
from pipelines.heap import arrow_allocates_with_malloc, release_freed_memory
from pipelines.progress import Bars, Counter, no_bars
from pipelines.shards import Shard
from pipelines.unchanged_records import StagedFingerprints, skip_unchanged
from sources.metronome import ExtractProgress, ExtractReject, MetronomeSettings, metronome_source
from sources.metronome.client import MetronomeAuthError, MetronomeError, MetronomeSetupError
from sources.metronome.customer_reads import UNREAD

PIPELINE_NAME = "metronome_extract"
DATASET = "metronome_raw"
# dlt's default for DuckDB is SQL (INSERT ... VALUES), which DuckDB must parse: on the L
# benchmark account the load took 26 s, against 9 s from Parquet (benchmarks/notes.md).
STAGING_FILE_FORMAT: TLoaderFileFormat = "parquet"
# One load job at a time: DuckDB writes one table at a time anyway, and each job holds its
# file's rows in memory (with SQL files, dlt's default of 20 jobs peaked a quarter higher).
LOAD_WORKERS = 1
TABLES = (
    "customers",
    "customer_plans",
    "contracts",
    "plans",
    "plan_charges",
    "credit_types",
    "invoices",
)

log = logging.getLogger(__name__)


class ExtractFailed(Exception):
    """The extract stopped; the message says why in one line (no secret in it)."""


@dataclass(frozen=True)
class ExtractOptions:
    """What to read: everything changed (default), everything, or one billing window."""

    full_refresh: bool = False
    backfill_start: date | None = None
    backfill_end: date | None = None  # exclusive: Metronome's `ending_before`
    customer_ids: tuple[str, ...] | None = None
    shard: Shard | None = None  # only the customers of this shard

    def describe(self) -> dict[str, Any]:
        return {
            "shard": str(self.shard) if self.shard else None,
            "full_refresh": self.full_refresh,
            "backfill": (
                {"start": str(self.backfill_start), "end": str(self.backfill_end)}
                if self.backfill_start
                else None
            ),
            "customers": list(self.customer_ids) if self.customer_ids is not None else None,
        }


@dataclass(frozen=True)
class ExtractResult:
    tables: dict[str, int]  # rows staged by this run per table (merged by id)
    unchanged: dict[str, int]  # records read again exactly as staged, so not staged again
    rejects: tuple[ExtractReject, ...]
    requests: dict[str, Any]  # httpkit.RequestStats.snapshot(): attempts, retries, ...
    duration_seconds: float
    load_ids: tuple[str, ...]
    resumed_packages: int  # pending packages of an interrupted run, loaded first
    options: ExtractOptions = field(default_factory=ExtractOptions)
    unknown_customers: tuple[str, ...] = ()  # asked for with --customer, unknown to Metronome

    def to_json(self) -> dict[str, Any]:
        return {
            "tables": self.tables,
            "unchanged": self.unchanged,
            "rejects": [
                {"collection": r.collection, "record_id": r.record_id, "reason": r.reason}
                for r in self.rejects
            ],
            "requests": self.requests,
            "duration_seconds": self.duration_seconds,
            "load_ids": list(self.load_ids),
            "resumed_packages": self.resumed_packages,
            "options": self.options.describe(),
            "unknown_customers": list(self.unknown_customers),
        }


def extract_pipeline(data_dir: DataDir) -> dlt.Pipeline:
    data_dir.ensure().discard_interrupted_writes(PIPELINE_NAME)
    return dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        destination=dlt.destinations.duckdb(
            DuckDbCredentials(
                str(data_dir.duckdb_path), global_config={"memory_limit": data_dir.memory_setting}
            ),
        ),
        dataset_name=DATASET,
        pipelines_dir=str(data_dir.dlt_dir),
    )


def run_extract(
    data_dir: DataDir,
    settings: MetronomeSettings,
    options: ExtractOptions | None = None,
    *,
    bars: Bars | None = None,
) -> ExtractResult:
    """Extract per `options` into the data dir; raises `ExtractFailed` or `ConfigError`.

    `bars` gets one counter: customers whose invoices are read, out of those listed so far.
    """
    options = options or ExtractOptions()
    started = time.monotonic()
    stats = RequestStats()
    rejects = RejectCollector()
    customers = _CustomerCounter((bars or no_bars()).counter("extract: customers read"))
    try:
        pipeline = extract_pipeline(data_dir)
        arrow_allocates_with_malloc()
        resumed = _finish_pending(pipeline, data_dir)
        staged = StagedFingerprints() if options.full_refresh else _staged_fingerprints(data_dir)
        source = metronome_source(
            settings.resolve(),  # as given: dlt reads no configuration over settings built by hand
            full_refresh=options.full_refresh,
            backfill_start=_midnight(options.backfill_start),
            backfill_end=_midnight(options.backfill_end),
            customer_ids=options.customer_ids,
            keep_customer=options.shard.owns if options.shard else None,
            on_reject=rejects.add,
            on_progress=customers.observe,
            request_stats=stats,
        )
        unchanged = skip_unchanged(source, staged)  # read again as staged: not loaded again
        # one extract thread per concurrent customer read; dlt keeps at most
        # max_parallel_items reads queued, so it must not be the tighter bound
        workers = settings.max_concurrency
        pipeline.extract(
            source,
            workers=workers,
            max_parallel_items=max(20, 2 * workers),
            loader_file_format=STAGING_FILE_FORMAT,
        )
        normalized = pipeline.normalize()
        release_freed_memory()  # the normalize's buffers, before the load's peak (the merge)
        loaded = _load(pipeline, data_dir)
    except PipelineStepFailed as exc:
        raise _explain(exc) from exc
    release_freed_memory()
    load_ids = tuple(loaded.loads_ids)
    read_whole = customers.read_whole(rejects.all())
    record_rejects(data_dir, rejects.all(), load_ids, read_whole, dataset=DATASET, tables=TABLES)
    unknown = tuple(sorted(set(options.customer_ids or ()) - customers.listed()))
    if unknown:
        log.warning("no such Metronome customer: %s", ", ".join(unknown))
    counts, skipped = normalized.row_counts, unchanged.by_table()
    return ExtractResult(
        tables={table: counts.get(table, 0) for table in TABLES},
        unchanged={table: skipped.get(table, 0) for table in TABLES},
        rejects=rejects.all(),
        requests=stats.snapshot(),
        duration_seconds=round(time.monotonic() - started, 3),
        load_ids=load_ids,
        resumed_packages=resumed,
        options=options,
        unknown_customers=unknown,
    )


class _CustomerCounter:
    """Counts customers on the progress bar and remembers which were listed (those asked
    for and never listed are unknown to Metronome) and whose invoices were read."""

    def __init__(self, bar: Counter) -> None:
        self._bar = bar
        self._listed: set[str] = set()
        self._read: set[str] = set()
        self._lock = threading.Lock()

    def observe(self, event: ExtractProgress) -> None:
        if event.event == "listed":
            self._bar.grow()
            with self._lock:
                self._listed.add(event.customer_id)
            return
        self._bar.advance()
        if event.event == "read":
            with self._lock:
                self._read.add(event.customer_id)

    def listed(self) -> set[str]:
        with self._lock:
            return set(self._listed)

    def read_whole(self, rejects: Sequence[ExtractReject]) -> set[str]:
        """Customers whose lists were all read this run (none of them failed)."""
        unread = {r.record_id for r in rejects if r.collection == UNREAD}
        with self._lock:
            return self._read - unread


def _finish_pending(pipeline: dlt.Pipeline, data_dir: DataDir) -> int:
    pending = len(pipeline.list_extracted_load_packages()) + len(
        pipeline.list_normalized_load_packages()
    )
    if pending:
        log.warning("loading %d package(s) left pending by an interrupted run", pending)
        pipeline.normalize()
        # a run killed before dlt saved its schema left none to load with (dlt's load would
        # return nothing): this run's extract saves it, and its load takes these along
        if pipeline.default_schema_name:
            _load(pipeline, data_dir)
    return pending


def _load(pipeline: dlt.Pipeline, data_dir: DataDir) -> LoadInfo:
    """dlt's load, with the DuckDB file held open throughout.

    dlt closes its connection after each load job, and closing a file's last connection
    checkpoints and shuts the database: on the L benchmark account the load spent 45% of its
    time closing and reopening it (8.8 s, 5.8 s held open). Connections to one file in one
    process share its database, so one held here keeps it open between jobs.
    """
    with closing(data_dir.connect()):
        loaded = pipeline.load(workers=LOAD_WORKERS)
    loaded.raise_on_failed_jobs()
    return loaded


def _staged_fingerprints(data_dir: DataDir) -> StagedFingerprints:
    """What is staged, by fingerprint; records with an open extract reject left out, so that
    staging them resolves it."""
    with data_dir.connect() as connection:
        open_rejects = LedgerStore(connection).open_reject_keys(stage="extract")
        return StagedFingerprints.read(connection, DATASET, TABLES, open_rejects)


def _midnight(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, clock_time(0), tzinfo=UTC)


def _explain(failure: PipelineStepFailed) -> Exception:
    """The cause as a one-line error; a token Metronome refuses, or a TLS handshake or header
    no retry can fix, is a configuration error naming its variable."""
    chain: list[BaseException] = []
    cause: BaseException | None = failure
    while cause is not None and cause not in chain:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    for link in chain:
        if isinstance(link, MetronomeAuthError):
            return ConfigError(
                env_key("sources.metronome.api_token"), f"refused by Metronome ({link})"
            )
        if isinstance(link, MetronomeSetupError):  # e.g. https to a plain-http port
            return ConfigError(link.key, " ".join(str(link).split()))
    reason = next((link for link in chain if isinstance(link, MetronomeError)), chain[-1])
    text = " ".join(str(reason).split())[:300]
    if not isinstance(reason, MetronomeError):
        text = f"{type(reason).__name__}: {text}"
    return ExtractFailed(f"{failure.step} step failed: {text}")
