"""How `repair` judges what Fincome holds, and what the ledger learns from it.

Each record read back is judged against the desired state (`fincome.<collection>`: its
canonical `body`) and the ledger; the ledger is then made to say what Fincome holds:

| Fincome holds | desired | finding | the ledger row becomes |
|---|---|---|---|
| nothing (404) | yes | missing | none: the diff creates it |
| nothing (404) | no | (gone) | none: nothing left to delete |
| the fields we send, the same | yes | | the desired row (nothing to send) |
| other values | yes | differs | what Fincome holds: its hash cannot match, the diff updates |
| a record | no, deletable | extra | what Fincome holds, so the diff deletes it |
| a record | no, not deletable | | unchanged (the diff reports it stale) |

A document (invoice, credit note) read with its lines embedded settles its lines too: each
listed line is Fincome's copy; a desired or ledger line of the document that is not listed
is missing (so are the lines of a missing document). A document read without lines leaves
its lines to be read one by one. Corrections are committed a batch at a time with the ids
they checked (`RepairLedger`), so a repair that is killed resumes after the last batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, NamedTuple

import duckdb
import orjson

from destinations.fincome import LedgerEntry, LedgerStore
from destinations.fincome.body import BodyError, body_hash, canonical_body, to_json
from destinations.fincome.desired import DESIRED_SCHEMA
from destinations.fincome.diff import schema_tables
from destinations.fincome.schema import EMBEDDED_CHILD, Collection, collection
from destinations.fincome.waves import PARENT_COLUMN
from pipelines.readback import Held, differing_fields

Kind = Literal["missing", "differs", "extra"]
# the ledger hash of a copy no body of ours could hold (an amount edited to text): never
# the hash of a desired row, so the diff updates it
UNREADABLE = "unreadable"


@dataclass
class Tally:
    """One collection's repair: records read, what was found, what the push then sent."""

    read: int = 0
    missing: int = 0
    differing: int = 0
    extra: int = 0
    repaired: int = 0  # writes the push sent (pending upstream changes included)
    requests: int = 0  # reads and writes
    seconds: float = 0.0  # reading back and correcting the ledger

    def add(self, other: Tally) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def to_json(self) -> dict[str, int | float]:
        return {**asdict(self), "seconds": round(self.seconds, 3)}


@dataclass(frozen=True)
class Finding:
    collection: str
    id: str
    kind: Kind
    fields: tuple[str, ...] = ()  # the fields that differ

    def to_json(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "id": self.id,
            "finding": self.kind,
            "fields": list(self.fields),
        }


class Known(NamedTuple):
    """What we know of a record before reading it: its desired row and its ledger hash."""

    id: str
    wanted: Wanted | None
    pushed: str | None


class Wanted(NamedTuple):
    """A desired row as the push would send it."""

    row_hash: str
    body: str
    parent_id: str | None


@dataclass
class Batch:
    """Ledger corrections and the ids they checked, committed together."""

    entries: list[LedgerEntry] = field(default_factory=list)
    forgotten: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    checked: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


class RepairLedger:
    """The ledger as a repair corrects it, with the ids checked so far
    (`<ledger schema>.repair_checked`, kept unless `keep` is false: a dry run writes nothing)."""

    def __init__(self, ledger: LedgerStore, *, keep: bool) -> None:
        self.ledger = ledger
        self.keep = keep
        self.table = f"{ledger.schema}.repair_checked"
        self._seen: dict[str, set[str]] = defaultdict(set)  # judged by this run
        if keep:
            ledger.db.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} (collection VARCHAR NOT NULL, "
                "id VARCHAR NOT NULL, PRIMARY KEY (collection, id))"
            )
        self.resumed = self._count() if keep else 0

    def unchecked(self, name: str) -> list[str]:
        """Ids of the desired state and the ledger in `name` not checked yet, in id order."""
        desired = f"SELECT id FROM {DESIRED_SCHEMA}.{name} UNION " if self._has(name) else ""
        done = f"SELECT id FROM {self.table} WHERE collection = $c" if self.keep else None
        query = f"{desired}SELECT id FROM {self.ledger.schema}.ledger WHERE collection = $c"
        query = f"({query}) EXCEPT ({done})" if done else query
        rows = self.ledger.db.execute(f"{query} ORDER BY 1", {"c": name}).fetchall()
        return [row_id for (row_id,) in rows if row_id not in self._seen[name]]

    def seen(self, name: str, record_id: str) -> bool:
        return record_id in self._seen[name]

    def commit(self, batch: Batch) -> None:
        for name, ids in batch.checked.items():
            self._seen[name].update(ids)
        if not self.keep:
            return
        db = self.ledger.db
        db.begin()
        try:
            self.ledger.record(batch.entries)
            for name, ids in batch.forgotten.items():
                self.ledger.forget(name, ids)
            names = [name for name, ids in batch.checked.items() for _ in ids]
            checked = [i for ids in batch.checked.values() for i in ids]
            db.execute(
                f"INSERT OR IGNORE INTO {self.table} "
                "SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[])",
                [names, checked],
            )
            db.commit()
        except BaseException:
            db.rollback()
            raise

    def finish(self) -> None:
        """A repair completed: the next one checks everything again."""
        self.ledger.db.execute(f"DELETE FROM {self.table}")

    def _has(self, name: str) -> bool:
        return name in schema_tables(self.ledger.db, DESIRED_SCHEMA)

    def _count(self) -> int:
        [(count,)] = self.ledger.db.execute(f"SELECT count(*) FROM {self.table}").fetchall()
        return int(count)


class Judge:
    """Judges batches of records read back and commits what the ledger learns."""

    def __init__(
        self, db: duckdb.DuckDBPyConnection, ledger: RepairLedger, tallies: dict[str, Tally]
    ) -> None:
        self.db = db
        self.ledger = ledger
        self.tallies = tallies
        self.findings: list[Finding] = []

    def settle(self, name: str, answers: Mapping[str, Held]) -> None:
        """Judge `answers` (id -> Fincome's copy or None) of `name`, lines included."""
        spec = collection(name)
        batch = Batch()
        wanted = self._wanted(spec, ids=list(answers))
        pushed = self.ledger.ledger.hashes(name, list(answers))
        for record_id, held in answers.items():
            known = Known(record_id, wanted.get(record_id), pushed.get(record_id))
            self._judge(spec, known, held, batch)
        if spec.embedded is not None:
            self._settle_lines(spec, answers, batch)
        self.ledger.commit(batch)

    def _settle_lines(self, spec: Collection, answers: Mapping[str, Held], batch: Batch) -> None:
        assert spec.embedded is not None
        child = EMBEDDED_CHILD[spec.name]
        listed = {
            parent: held[spec.embedded]
            for parent, held in answers.items()
            if held is not None and isinstance(held.get(spec.embedded), list)
        }
        parents = [*listed, *(parent for parent, held in answers.items() if held is None)]
        if not parents:
            return
        held_lines = {
            line["id"]: line
            for lines in listed.values()
            for line in lines
            if isinstance(line, dict) and isinstance(line.get("id"), str)
        }
        wanted = self._wanted(child, ids=list(held_lines), parents=parents)
        under = self.ledger.ledger.children(child.name, parents)
        ids = {*wanted, *held_lines, *(i for lines in under.values() for i in lines)}
        ids = {i for i in ids if not self.ledger.seen(child.name, i)}
        pushed = self.ledger.ledger.hashes(child.name, sorted(ids))
        for line_id in sorted(ids):
            known = Known(line_id, wanted.get(line_id), pushed.get(line_id))
            self._judge(child, known, held_lines.get(line_id), batch)

    def _judge(self, spec: Collection, known: Known, held: Held, batch: Batch) -> None:
        name, record_id, wanted, pushed = spec.name, *known
        tally = self.tallies[name]
        tally.read += 1
        batch.checked[name].append(record_id)
        if held is None:
            if wanted is not None:
                tally.missing += 1
                self._found(name, record_id, "missing")
            if pushed is not None:
                batch.forgotten[name].append(record_id)
            return
        if wanted is not None:
            fields = differing_fields(name, wanted.body, held)
            if not fields:
                if pushed != wanted.row_hash:
                    entry = LedgerEntry(name, record_id, *wanted)
                    batch.entries.append(entry)
                return
            tally.differing += 1
            self._found(name, record_id, "differs", fields)
            batch.entries.append(held_entry(spec, record_id, held))
        elif spec.deletable:
            tally.extra += 1
            self._found(name, record_id, "extra")
            if pushed is None:
                batch.entries.append(held_entry(spec, record_id, held))

    def _found(self, name: str, record_id: str, kind: Kind, fields: Iterable[str] = ()) -> None:
        self.findings.append(Finding(name, record_id, kind, tuple(fields)))

    def _wanted(
        self, spec: Collection, *, ids: list[str], parents: list[str] | None = None
    ) -> dict[str, Wanted]:
        """Desired rows of `spec` by id, and those under `parents` (lines)."""
        if spec.name not in schema_tables(self.db, DESIRED_SCHEMA):
            return {}
        column = PARENT_COLUMN.get(spec.name)
        where = "id IN (SELECT unnest($ids::VARCHAR[]))"
        if parents and column:
            where += f" OR {column} IN (SELECT unnest($parents::VARCHAR[]))"
        rows = self.db.execute(
            f"SELECT id, row_hash, body, {column or 'NULL'} FROM {DESIRED_SCHEMA}.{spec.name} "
            f"WHERE {where}",
            {"ids": ids, **({"parents": parents} if parents and column else {})},
        ).fetchall()
        return {row_id: Wanted(row_hash, body, parent) for row_id, row_hash, body, parent in rows}


def held_entry(spec: Collection, record_id: str, held: Mapping[str, Any]) -> LedgerEntry:
    """A ledger row saying what Fincome holds: the fields we send, as we would send them."""
    column = PARENT_COLUMN.get(spec.name)
    parent = held.get(column) if column else None
    parent_id = parent if isinstance(parent, str) else None
    try:
        body = canonical_body(spec, held)
        return LedgerEntry(spec.name, record_id, body_hash(body), to_json(body).decode(), parent_id)
    except BodyError:  # the diff sums the ledger's amounts: keep none of a junk copy
        body_text = orjson.dumps({"id": record_id}).decode()
        return LedgerEntry(spec.name, record_id, UNREADABLE, body_text, parent_id)
