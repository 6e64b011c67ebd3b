"""The `fincome` dlt destination: any dlt pipeline can upsert Fincome-shaped rows with it.

    pipeline = dlt.pipeline("x", destination=fincome())
    pipeline.run(rows, table_name="customers")        # table name = Fincome collection
    # better: also pass columns=column_hints("customers") (see hints.py) so dlt never
    # retypes text that looks like a timestamp

Configuration comes from `[destination.fincome]` (env `DESTINATION__FINCOME__<KEY>`) or from
arguments to `fincome(...)`: `api_key` (secret), `base_url`, `api_key_header`,
`requests_per_second` (0 turns pacing off), `max_concurrency`, `timeout_seconds`,
`max_attempts`, `retry_budget_seconds`, `allow_insecure_http`, `paths` (collection path
overrides), `ledger_path`, `batch_size`.

Rows are in Fincome's shape, one table per collection (see `schema.py`): upserted by `id`;
`_deleted: true` deletes; invoices and credit notes may embed their lines as a list under
`invoice_line_items` / `credit_note_line_items`. The ledger (`fincome_sync.*` tables in the
DuckDB file `ledger_path`, by default `fincome_ledger.duckdb` in dlt's local directory, i.e.
the working directory unless DLT_LOCAL_DIR is set) remembers what Fincome acknowledged, so rows
it already holds are not sent again. Keep one ledger per Fincome account. The file stays open
while batches keep coming and is closed two seconds after the last one (`close_ledgers()`
closes it at once).

A `_deleted` row is always sent as a DELETE (a stale ledger must not keep a row alive in
Fincome; 404 counts as done); a credit note's lines the ledger knows are deleted first.

Parents go before children: dlt does not order load jobs by dependency, so load parent
collections in earlier runs (one `run` per collection in `schema.PUSH_ORDER`); a row whose
parent Fincome does not know comes back as a 422 and lands in the rejects, never blocking.
Within a batch, rows go out concurrently, except that a row waits for the rows of the same
batch it references (a customer's `root_parent_id`, a line's proration target); across
batches, give parents first (dlt keeps the order of the rows of a table).
Auth failures and errors left after every retry fail the load (the package stays pending; a
rerun converges because every write is an idempotent upsert).
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dlt
from dlt.common.destination.exceptions import DestinationTerminalException
from dlt.common.schema import TTableSchema
from dlt.common.typing import TDataItems

from destinations.fincome.client import FincomeClient
from destinations.fincome.errors import AuthenticationFailed, FincomeError
from destinations.fincome.ledger_pool import LedgerPool
from destinations.fincome.push import BatchPusher, BatchReport
from destinations.fincome.schema import collection
from destinations.fincome.settings import (
    CONFIG_SECTION,
    DEFAULT_API_KEY_HEADER,
    DEFAULT_BASE_URL,
    CollectionPaths,
    FincomeSettings,
)

DEFAULT_LEDGER_FILE = "fincome_ledger.duckdb"
DEFAULT_BATCH_SIZE = 200


class FincomePushFailed(DestinationTerminalException):
    """The load cannot go on: a refused key, a misconfiguration, or Fincome unreachable.

    Terminal, not transient: the client already spent its retry budget, and dlt's in-run
    retries would only multiply it. The package stays pending for the next run.
    """


@dlt.destination(
    name="fincome",
    batch_size=DEFAULT_BATCH_SIZE,
    loader_file_format="typed-jsonl",
    naming_convention="direct",  # column names are Fincome's field names, untouched
    max_table_nesting=0,  # embedded lines and custom_properties arrive as lists and dicts
    skip_dlt_columns_and_tables=True,
)
def fincome(
    items: TDataItems,
    table: TTableSchema,
    *,
    api_key: str = dlt.secrets.value,
    base_url: str = DEFAULT_BASE_URL,
    api_key_header: str = DEFAULT_API_KEY_HEADER,
    requests_per_second: float = 10.0,
    max_concurrency: int = 8,
    timeout_seconds: float = 60.0,
    max_attempts: int = 8,
    retry_budget_seconds: float = 120.0,
    allow_insecure_http: bool = False,
    paths: dict[str, str] | None = None,
    ledger_path: str | None = None,
) -> None:
    """Upsert one batch of rows of the collection named by the table."""
    try:
        settings = FincomeSettings(
            api_key=api_key,
            base_url=base_url,
            api_key_header=api_key_header,
            requests_per_second=requests_per_second or None,
            max_concurrency=max_concurrency,
            timeout_seconds=timeout_seconds,
            max_attempts=max_attempts,
            retry_budget_seconds=retry_budget_seconds,
            allow_insecure_http=allow_insecure_http,
            paths=CollectionPaths.from_mapping(paths),
        )
        client = shared_client(settings)
    except ValueError as exc:  # includes an unsafe base URL; the message names the key
        raise FincomePushFailed(f"bad Fincome configuration: {exc}") from exc
    push_batch(items, table, client=client, ledger_path=resolve_ledger_path(ledger_path))


def push_batch(
    items: TDataItems | str,
    table: TTableSchema,
    *,
    client: FincomeClient,
    ledger_path: Path,
) -> BatchReport:
    """Push one dlt batch; rows get back the keys dlt dropped because they were None."""
    if isinstance(items, str):
        raise FincomePushFailed("the fincome destination needs batch_size > 0 (rows, not files)")
    name = str(table["name"])
    try:
        spec = collection(name)
    except KeyError as exc:
        raise FincomePushFailed(f"table {name!r} is not a Fincome collection: {exc}") from None
    columns = table.get("columns", {})
    variants = _variant_bases(columns)
    plain = [name for name in columns if name not in variants]
    rows = [_restored(item, plain, variants) for item in items]
    try:
        with _ledgers.ledger(ledger_path) as ledger:
            report = BatchPusher(client, ledger).push(spec, rows)
    except AuthenticationFailed as exc:
        raise FincomePushFailed(
            f"Fincome refused the API key ({exc}); check {CONFIG_SECTION}.api_key and "
            f"{CONFIG_SECTION}.api_key_header"
        ) from exc
    except FincomeError as exc:
        raise FincomePushFailed(
            f"pushing {name} stopped: {exc}. What Fincome acknowledged is in the ledger; "
            "the next run continues from there"
        ) from exc
    _notify_batch_done(name, len(rows))
    return report


BatchListener = Callable[[str, int], None]  # (collection, rows Fincome answered)
_listeners: list[BatchListener] = []
_listeners_lock = threading.Lock()


@contextmanager
def batch_listener(listener: BatchListener) -> Iterator[None]:
    """Tell `listener` how many rows of which collection each batch finished, while inside.

    A batch is finished once Fincome answered every row of it and the ledger holds what
    it acknowledged: this counts rows done, not rows read. Called from dlt's load
    threads, so the listener must be thread-safe.
    """
    with _listeners_lock:
        _listeners.append(listener)
    try:
        yield
    finally:
        with _listeners_lock:
            _listeners.remove(listener)


def _notify_batch_done(collection: str, rows: int) -> None:
    with _listeners_lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(collection, rows)


def resolve_ledger_path(ledger_path: str | None) -> Path:
    if ledger_path:
        return Path(ledger_path).expanduser().resolve()
    return Path(dlt.current.run_context().local_dir).resolve() / DEFAULT_LEDGER_FILE


_clients: dict[FincomeSettings, FincomeClient] = {}
_clients_lock = threading.Lock()
_ledgers = LedgerPool()


def close_ledgers() -> None:
    """Close the ledger files now instead of a moment after the last batch."""
    _ledgers.close_all()


def shared_client(settings: FincomeSettings) -> FincomeClient:
    """One client per distinct settings for the whole process.

    Batches and parallel load jobs share it, so pacing (and what 429s taught it) carries
    from one batch to the next and `max_concurrency` bounds the whole process.
    """
    with _clients_lock:
        client = _clients.get(settings)
        if client is None:
            client = _clients[settings] = FincomeClient.from_settings(settings)
        return client


@atexit.register
def close_clients_and_ledgers() -> None:
    close_ledgers()
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


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


def _restored(
    item: Mapping[str, Any], columns: list[str], variants: Mapping[str, str]
) -> dict[str, Any]:
    """The row as it was sent to dlt: keys dropped for None are back, variants folded in."""
    row = {**dict.fromkeys(columns), **item}
    for variant, base in variants.items():
        value = row.pop(variant, None)
        if value is not None and row.get(base) is None:
            row[base] = value
    return row
