"""The `fincome` dlt destination: rows of any dlt pipeline, pushed by the one push path.

    pipeline = dlt.pipeline("x", destination=fincome())
    pipeline.run([customers, invoices, ...])   # table name = Fincome collection, any order
    # pass columns=column_hints(collection) with each table (hints.py), so dlt never retypes
    # text that looks like a timestamp

A thin adapter: load jobs do nothing by themselves; once dlt has every file of a load,
`complete_load` reads them all, stages the rows as desired state (`staged_load.py`) and sends
what the ledger lacks through the same diff, waves and executor as billing-sync's push. So
whatever order the tables and batches come in, one run lands the whole graph, parents first.
The client and the ledger live for that one load; nothing is shared between loads.

Settings: `FincomeSettings` (`settings.py`), from `[destination.fincome]`, env
`DESTINATION__FINCOME__<KEY>`, or keyword arguments to `fincome(...)`. The ledger
(`fincome_sync.ledger` / `rejects`) is the DuckDB file `ledger_path`, by default
`fincome_ledger.duckdb` in the pipeline's working folder (`<pipelines_dir>/<pipeline name>/`,
dlt's local state of that pipeline: never the current directory). Keep one ledger per
Fincome account; a pipeline dropped (or in dev_mode) starts a new ledger, whose first run
sends every row again, which Fincome's 409 turns into updates (no duplicate).

How a load ends:
- every record went through (or needed nothing): the load succeeds;
- Fincome refused some (422, another non-auth 4xx) or a row could not become a request:
  they are in `fincome_sync.rejects` with their reasons, everything else landed, and the load
  fails with `FincomeRecordsRefused` naming how many and where. Like any failed dlt load its
  package stays pending; the next `run` finishes it without sending anything again (the
  refusals are recorded, not retried), so it never blocks later runs. Send the records
  again (fixed) to retry them; one that goes through resolves its reject;
- a refused key, retries spent, a table that is not a collection: `FincomePushFailed`. The
  package stays pending and the next run pushes it again: what Fincome acknowledged is in the
  ledger, so only the rest is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import dlt
from dlt.common.configuration.container import Container
from dlt.common.destination import Destination, DestinationCapabilitiesContext
from dlt.common.destination.client import JobClientBase, LoadJob
from dlt.common.destination.exceptions import DestinationTerminalException
from dlt.common.destination.typing import PreparedTableSchema
from dlt.common.schema import Schema
from dlt.common.schema.utils import is_dlt_table_or_column
from dlt.common.storages.load_package import (
    LoadPackageStateInjectableContext,
    commit_load_package_state,
    destination_state,
)
from dlt.destinations.file_batching import JsonlFileBatchIterator
from dlt.destinations.job_impl import FinalizedLoadJob

from destinations.fincome.client import FincomeClient
from destinations.fincome.errors import AuthenticationFailed, FincomeError
from destinations.fincome.ledger import LedgerStore
from destinations.fincome.schema import COLLECTIONS
from destinations.fincome.settings import CONFIG_SECTION, FincomeSettings
from destinations.fincome.staged_load import StagedLoad

if TYPE_CHECKING:
    from dlt.common.storages.load_package import PackageStorage

log = logging.getLogger(__name__)
DEFAULT_LEDGER_FILE = "fincome_ledger.duckdb"
REFUSED_KEY = "fincome_refused"  # in the package's state: its push ran, this many refused
READ_BATCH = 1000


class FincomePushFailed(DestinationTerminalException):
    """The load stopped: a refused key, a misconfiguration, or Fincome unreachable.

    Terminal, not transient: the client already spent its retry budget, and dlt's in-run
    retries would only multiply it. The package stays pending for the next run.
    """


class FincomeRecordsRefused(DestinationTerminalException):
    """The load landed except for records now in `fincome_sync.rejects`."""


class fincome(Destination[FincomeSettings, "FincomeLoadClient"]):  # dlt's style
    """`fincome(**settings)`: any field of `FincomeSettings`, overriding the configuration."""

    spec = FincomeSettings

    def _raw_capabilities(self) -> DestinationCapabilitiesContext:
        caps = DestinationCapabilitiesContext.generic_capabilities("typed-jsonl")
        caps.supported_loader_file_formats = ["typed-jsonl"]
        caps.naming_convention = "direct"  # column names are Fincome's field names, untouched
        caps.max_table_nesting = 0  # embedded lines and custom_properties stay lists and dicts
        caps.supports_ddl_transactions = False
        caps.supports_transactions = False
        return caps

    @property
    def client_class(self) -> type[FincomeLoadClient]:
        return FincomeLoadClient


class FincomeLoadClient(JobClientBase):
    """dlt's job client for one schema; the push happens when a load completes."""

    config: FincomeSettings

    def __init__(
        self, schema: Schema, config: FincomeSettings, capabilities: DestinationCapabilitiesContext
    ) -> None:
        super().__init__(schema, config, capabilities)
        self.config = config

    def initialize_storage(self, truncate_tables: Any = None) -> None:
        pass

    def is_storage_initialized(self) -> bool:
        return True

    def drop_storage(self) -> None:
        pass

    def create_load_job(
        self, table: PreparedTableSchema, file_path: str, load_id: str, restore: bool = False
    ) -> LoadJob:
        """Nothing to do per file: `complete_load` reads them all, once every one is in."""
        return FinalizedLoadJob(file_path)

    def complete_load(self, load_id: str) -> None:
        state = destination_state()
        if REFUSED_KEY in state:
            log.warning(
                "load %s: pushed before, %s record(s) refused then are in %s.rejects",
                load_id, state[REFUSED_KEY], "fincome_sync",
            )  # fmt: skip
            return
        files = _collection_files(load_id, self.schema)
        path = ledger_path(self.config)
        refused = self._push(load_id, files, path)
        if refused:
            state[REFUSED_KEY] = refused
            commit_load_package_state()
            raise FincomeRecordsRefused(
                f"{refused} record(s) of load {load_id} refused, by Fincome or as unsendable: "
                f"see fincome_sync.rejects (stage 'push') in {path}; everything else landed. "
                "They are not sent again until a later run gives them again"
            )

    def _push(self, load_id: str, files: list[tuple[str, str]], path: Path) -> int:
        """Stage the load's rows, push them, and return how many records were refused."""
        ledger = LedgerStore.open(path)
        staged = StagedLoad(ledger, "fincome_load_" + load_id.replace(".", "_"))
        try:
            for table, file in files:
                columns = self.schema.get_table(table)["columns"]
                for batch in JsonlFileBatchIterator(file, READ_BATCH, 0):
                    staged.add(table, restored_rows(batch, columns))
            with FincomeClient(self.config) as client:
                report = staged.push(client)
        except AuthenticationFailed as exc:
            raise FincomePushFailed(
                f"Fincome refused the API key ({exc}); check {CONFIG_SECTION}.api_key and "
                f"{CONFIG_SECTION}.api_key_header"
            ) from exc
        except FincomeError as exc:
            raise FincomePushFailed(
                f"the push of load {load_id} stopped: {exc}. What Fincome acknowledged is in "
                "the ledger; the next run continues from there"
            ) from exc
        finally:
            staged.drop()
            ledger.close()
        log.info("fincome load %s: %s", load_id, dict(report.done))
        return report.rejected + len(staged.refused)

    def __enter__(self) -> FincomeLoadClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        pass


def ledger_path(settings: FincomeSettings) -> Path:
    """`ledger_path`, or `fincome_ledger.duckdb` in the running pipeline's working folder."""
    if settings.ledger_path:
        return Path(settings.ledger_path).expanduser().resolve()
    return Path(dlt.current.pipeline().working_dir).resolve() / DEFAULT_LEDGER_FILE


def _collection_files(load_id: str, schema: Schema) -> list[tuple[str, str]]:
    """(collection, file path) of every job of the load, in a stable order; a table that is
    not a Fincome collection refuses the load before anything is sent."""
    storage: PackageStorage = Container()[LoadPackageStateInjectableContext].storage
    files = []
    for job in storage.get_load_package_jobs(load_id)["completed_jobs"]:
        table = job.table_name
        if is_dlt_table_or_column(table, schema._dlt_tables_prefix):
            continue
        if table not in COLLECTIONS:
            known = ", ".join(COLLECTIONS)
            raise FincomePushFailed(f"table {table!r} is not a Fincome collection (known: {known})")
        relative = storage.get_job_file_path(load_id, "completed_jobs", job.file_name())
        files.append((table, storage.storage.make_full_path(relative)))
    return sorted(files)


def restored_rows(
    batch: list[dict[str, Any]], columns: Mapping[str, Any]
) -> Iterator[dict[str, Any]]:
    """The rows as they were given to dlt: keys dropped for None are back, values dlt moved
    to a variant column folded into their column."""
    variants = _variant_bases(columns)
    plain = [name for name in columns if name not in variants]
    for item in batch:
        row = {**dict.fromkeys(plain), **item}
        for variant, base in variants.items():
            value = row.pop(variant, None)
            if value is not None and row.get(base) is None:
                row[base] = value
        yield row


def _variant_bases(columns: Mapping[str, Any]) -> dict[str, str]:
    """Variant column -> the column it stands in for (`amount▶v_text` -> `amount`).

    dlt moves a value it cannot coerce to the column's type into a variant column; folding it
    back lets the body check refuse it with a reason instead of Fincome receiving a null.
    """
    bases: dict[str, str] = {}
    for name, column in columns.items():
        if column.get("variant"):
            base = name[: name.rfind("v_")].rstrip("▶_")
            if base in columns:
                bases[name] = base
    return bases
