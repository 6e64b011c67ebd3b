"""The data dir: where one installation keeps its DuckDB file, dlt folders and run lock.

    <data dir>/billing_sync.duckdb   every schema (metronome_raw, fincome, fincome_sync)
    <data dir>/dlt/                  dlt pipelines_dir of every pipeline
    <data dir>/billing-sync.lock     held for the whole run
    <data dir>/reports/              reconcile reports
    <data dir>/accounts.json         the Metronome and Fincome accounts it belongs to
                                     (`pipelines/preflight/binding.py`)

Paths are always absolute: dlt, Airflow and cron may change the working directory, and a
relative DuckDB path would then point somewhere else.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

from pipelines.config import ConfigError, load_duckdb_memory_limit

log = logging.getLogger(__name__)

DATA_DIR_ENV = "BILLING_SYNC_DATA_DIR"
DEFAULT_DATA_DIR = "./data"
# DuckDB's buffer pool may grow to 80% of the machine's memory: it cached the staged and
# desired-state tables as they were written and read, so a run's resident size grew with the
# account (the extract of 2,000 customers x 24 months peaked at 738 MB). Capped, DuckDB spills
# to `<file>.tmp` instead, in the same time. Not everything spills: the push reads invoices'
# lines page by page for that reason, but at 64 MB that account's sync (extract, then push in
# one process) still ran out, in the push plan. 128 MB passes it; a larger account may need
# more, which `[data_dir] duckdb_memory_limit` gives (benchmarks/report.md, Memory).
DUCKDB_MEMORY_LIMIT = 128 * 2**20  # bytes
# The push's load needs a fraction of that: see `DataDir.lower_cap`.
LOAD_CAP_SHARE = 0.5
# dlt saves a file by writing it as `<16 hex digits>` in the same folder, then renaming it
# (`FileStorage.save_atomic`). A kill between the two leaves the temp file, and dlt takes
# every file in a pipeline's `schemas` folder for a schema: aborting the killed run's package
# then failed on `<hex>.schema.json` (found by the kill test).
DLT_TEMP_FILE = re.compile(r"[0-9a-f]{16}")


class RunLockHeld(Exception):
    """Another run holds this data dir's lock."""

    def __init__(self, lock_path: Path) -> None:
        super().__init__(f"another billing-sync run holds {lock_path}; try again when it ends")
        self.lock_path = lock_path


@dataclass(frozen=True)
class DataDir:
    root: Path
    memory_limit: int = DUCKDB_MEMORY_LIMIT  # DuckDB's cap, in bytes

    @property
    def duckdb_path(self) -> Path:
        return self.root / "billing_sync.duckdb"

    @property
    def dlt_dir(self) -> Path:
        return self.root / "dlt"

    @property
    def lock_path(self) -> Path:
        return self.root / "billing-sync.lock"

    @property
    def accounts_path(self) -> Path:
        return self.root / "accounts.json"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A connection to the data dir's DuckDB file, its memory capped.

        The cap is set, not passed to `connect`: DuckDB refuses a second connection to an
        open file with another configuration, and dlt's own connections pass none.
        """
        connection = duckdb.connect(str(self.duckdb_path))
        connection.execute(f"SET memory_limit = '{self.memory_setting}'")
        return connection

    @property
    def memory_setting(self) -> str:
        """The cap as DuckDB's `memory_limit` setting takes it."""
        return f"{self.memory_limit}B"

    @contextmanager
    def lower_cap(
        self, connection: duckdb.DuckDBPyConnection, share: float = LOAD_CAP_SHARE
    ) -> Iterator[None]:
        """DuckDB capped at `share` of the cap inside the block, at the full cap after it.

        For the push's load: it appends to the ledger and reads back one batch's worth at a
        time, but DuckDB keeps the blocks it wrote cached up to the cap, and on 2,000
        customers x 24 months that cache (about 100 MB) set the sync's peak. The cap is the
        database's, so it holds for every connection to the file in this process.
        """
        connection.execute(f"SET memory_limit = '{int(self.memory_limit * share)}B'")
        try:
            yield
        finally:
            connection.execute(f"SET memory_limit = '{self.memory_setting}'")

    def discard_interrupted_writes(self, pipeline_name: str) -> list[Path]:
        """Delete the temp files a killed run left in a dlt pipeline's own folders (its
        working folder and `schemas`) and return them. Only under the run lock: another
        run's save in progress would look the same."""
        working = self.dlt_dir / pipeline_name
        left = [
            path
            for folder in (working, working / "schemas")
            if folder.is_dir()
            for path in folder.iterdir()
            if path.is_file() and DLT_TEMP_FILE.fullmatch(path.name)
        ]
        for path in left:
            path.unlink()
        if left:
            log.warning("removed %d file(s) dlt left half-written in %s", len(left), working)
        return left

    def ensure(self) -> DataDir:
        """Create the folders (not the DuckDB file) and return self."""
        self.dlt_dir.mkdir(parents=True, exist_ok=True)
        self.reports_dir.mkdir(exist_ok=True)
        return self


def resolve_data_dir(option: str | os.PathLike[str] | None = None) -> DataDir:
    """`--data-dir` when given, else $BILLING_SYNC_DATA_DIR, else ./data; made absolute.

    The folder is created if missing and must take a new file: a file in its place, or a
    folder that cannot be created or written, is a `ConfigError` naming the option or the
    variable before any work (it was a raw `OSError` once the run had started). Its DuckDB
    cap is `[data_dir] duckdb_memory_limit`, a `ConfigError` when unusable.
    """
    from_env = os.environ.get(DATA_DIR_ENV)
    chosen = option if option else from_env or DEFAULT_DATA_DIR
    limit = load_duckdb_memory_limit(DUCKDB_MEMORY_LIMIT)
    root = Path(chosen).expanduser().absolute()
    if problem := unusable_folder_problem(root):
        default = "" if option or from_env else f" (the default, {DEFAULT_DATA_DIR})"
        raise ConfigError("--data-dir" if option else DATA_DIR_ENV, problem + default)
    return DataDir(root, limit)


def unusable_folder_problem(root: Path) -> str | None:
    """Why a run could not keep its files in `root`, or None. Tried, not judged from the
    permission bits: root ignores those, and a read-only mount only shows when written."""
    try:
        if root.exists() and not root.is_dir():
            return f"{root} is a file, not a folder"
    except OSError as exc:
        return f"cannot look at {root} ({_reason(exc)})"
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot create {root} ({_reason(exc)})"
    try:
        with tempfile.TemporaryFile(dir=root):
            pass
    except OSError as exc:
        return f"cannot write in {root} ({_reason(exc)})"
    return None


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


@contextmanager
def run_lock(data_dir: DataDir) -> Iterator[None]:
    """Hold the data dir's run lock, or raise `RunLockHeld` at once without waiting.

    It is an OS lock (flock): the kernel drops it when its process dies, so a crashed run
    never blocks the next one. The lock file is kept, since unlinking it on release would
    let two runs lock two different files of the same name.
    """
    data_dir.root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(
        data_dir.lock_path, blocking=False, fallback_to_soft=False, preserve_lock_file=True
    )
    try:
        lock.acquire()
    except Timeout:
        raise RunLockHeld(data_dir.lock_path) from None
    try:
        yield
    finally:
        lock.release()
