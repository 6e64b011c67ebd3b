"""The data dir's accounts checked against the ones configured (rules in `binding.py`).

Witnesses come from the data dir's DuckDB file: the ledger's records for Fincome, the staged
customers for Metronome; each is read by id with a quick read (`reader.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

import duckdb

from destinations.fincome import FincomeSettings
from destinations.fincome.schema import COLLECTIONS
from pipelines.datadir import DataDir
from pipelines.preflight.apis import fincome_reader, metronome_reader
from pipelines.preflight.binding import (
    WITNESSES,
    Account,
    Judgement,
    Verdict,
    WitnessRead,
    judge,
    read_bindings,
    write_bindings,
)
from pipelines.preflight.reader import QuickReader, Reached
from sources.metronome import MetronomeSettings
from sources.metronome.settings import CUSTOMERS_PATH

FINCOME_WITNESSES = f"""
    SELECT collection, id FROM fincome_sync.ledger
    ORDER BY collection = 'customers' DESC, pushed_at DESC, id LIMIT {WITNESSES}
"""
METRONOME_WITNESSES = f"""
    SELECT 'customers', id FROM metronome_raw.customers ORDER BY id LIMIT {WITNESSES}
"""


@dataclass(frozen=True)
class Configured:
    """An API's account as configured, with a quick reader of it and how to read a witness."""

    account: Account
    reader: QuickReader
    path_of: dict[str, str]  # collection -> its path (Fincome); Metronome: customers

    def read(self, witness: tuple[str, str]) -> bool | None:
        collection, record_id = witness
        # quoted as the clients quote an id: `inv_1:L0.S1` stays, a `/` stays in its segment
        answer = self.reader.get(f"{self.path_of[collection]}/{quote(record_id, safe=':@')}")
        if isinstance(answer, Reached) and answer.status in (200, 404):
            return answer.status == 200
        return None


@contextmanager
def configured_accounts(
    metronome: MetronomeSettings | None, fincome: FincomeSettings | None
) -> Iterator[dict[str, Configured]]:
    """The configured accounts by API, with their readers open for the block."""
    found: dict[str, Configured] = {}
    try:
        if metronome is not None:
            account = Account("metronome", metronome.base_url, metronome.api_token)
            found["metronome"] = Configured(
                account, metronome_reader(metronome), {"customers": CUSTOMERS_PATH}
            )
        if fincome is not None:
            paths = fincome.collection_paths()
            account = Account("fincome", fincome.base_url, fincome.api_key)
            found["fincome"] = Configured(
                account, fincome_reader(fincome), {name: paths.root(name) for name in COLLECTIONS}
            )
        yield found
    finally:
        for configured in found.values():
            configured.reader.close()


def witnesses(connection: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """What the data dir knows each API holds (empty lists when it holds nothing yet)."""
    found: dict[str, list[tuple[str, str]]] = {}
    for api, query in (("fincome", FINCOME_WITNESSES), ("metronome", METRONOME_WITNESSES)):
        try:
            rows = connection.execute(query).fetchall()
        except duckdb.CatalogException:  # the table is not there yet
            rows = []
        found[api] = [(str(collection), str(record_id)) for collection, record_id in rows]
    return found


def judged(
    data_dir: DataDir,
    accounts: dict[str, Configured],
    held: dict[str, list[tuple[str, str]]],
) -> dict[str, Verdict]:
    """Each configured account judged against the data dir's record of it."""
    recorded = read_bindings(data_dir.accounts_path)
    verdicts = {}
    for api, configured in accounts.items():
        read: WitnessRead = configured.read
        verdicts[api] = judge(recorded.get(api), configured.account, held.get(api, []), read)
    return verdicts


def bind(data_dir: DataDir, accounts: dict[str, Configured], apis: set[str]) -> None:
    """Record the configured account of each of `apis`, keeping the others' records."""
    bindings = read_bindings(data_dir.accounts_path)
    for api in apis:
        old = bindings.get(api)
        bindings[api] = accounts[api].account.recorded(old.salt if old else None)
    write_bindings(data_dir.accounts_path, bindings)


def to_rebind(verdicts: dict[str, Verdict]) -> set[str]:
    return {api for api, verdict in verdicts.items() if verdict.rebinds}


def refused(verdicts: dict[str, Verdict]) -> dict[str, Verdict]:
    """The accounts a run must not work against."""
    bad = (Judgement.OTHER, Judgement.UNDECIDED)
    return {api: verdict for api, verdict in verdicts.items() if verdict.judgement in bad}
