"""Shards: customers split deterministically over N data dirs, and what each data dir holds.

A customer belongs to shard `sha256(customer id, UTF-8) mod N`, the digest read as one
big-endian integer (`int(hashlib.sha256(id.encode()).hexdigest(), 16) % N`): the same on
every machine, Python version and run, unlike `hash()`. Shards are numbered from 0, like
Airflow's map indexes: `--shard 0/3`, `--shard 1/3`, `--shard 2/3`.

Every data dir has a scope, kept in `<data dir>/scope.json` from its first sharded or shared
run: `account` (the whole account, the default), `shard` (one shard's customers; pushes
their subscriptions, invoices, credit notes and lines) or `shared` (the customers, products
and prices every shard refers to, pushed by `push-shared`). A data dir keeps its scope: its
ledger only knows what that scope pushed, so reusing it for another scope would plan
deletes of records another data dir owns. Changing N means new shard data dirs (their first
push converges on what Fincome holds: a create of an existing id becomes an update).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from pipelines.config import ConfigError
from pipelines.datadir import DataDir

ScopeKind = Literal["account", "shard", "shared"]
SCOPE_FILE = "scope.json"
SHARD_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
SHARD_KEY = "--shard"  # what a scope error names: the option that sets it


def shard_of(customer_id: str, count: int) -> int:
    """The shard (0..count-1) that owns this customer."""
    digest = hashlib.sha256(customer_id.encode("utf-8")).digest()
    return int.from_bytes(digest, "big") % count


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index}/{self.count}: the index goes from 0 to N-1")

    def owns(self, customer_id: str) -> bool:
        return shard_of(customer_id, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """`"1/3"` -> Shard(1, 3); raises ValueError with a message a person can act on."""
    match = SHARD_PATTERN.match(text)
    if not match:
        raise ValueError(f"{text!r} is not I/N (e.g. 0/3: the first of three shards)")
    count = int(match.group(2))
    if count < 1:
        raise ValueError(f"{text!r}: N must be 1 or more")
    return Shard(int(match.group(1)), count)


@dataclass(frozen=True)
class Scope:
    """What one data dir holds: the account, one shard of it, or the shared records."""

    kind: ScopeKind
    shard: Shard | None = None

    @classmethod
    def of(cls, shard: Shard | None) -> Scope:
        return cls("account") if shard is None else cls("shard", shard)

    def describe(self) -> dict[str, Any]:
        """The `scope` object of `--json` outputs."""
        return {
            "kind": self.kind,
            "index": self.shard.index if self.shard else None,
            "count": self.shard.count if self.shard else None,
        }

    def __str__(self) -> str:
        return f"shard {self.shard}" if self.shard else self.kind


ACCOUNT = Scope("account")
SHARED = Scope("shared")


def read_scope(data_dir: DataDir) -> Scope | None:
    """The data dir's scope; None for a fresh one, `account` for one used before scopes."""
    path = data_dir.root / SCOPE_FILE
    if path.exists():
        saved = json.loads(path.read_text())
        shard = Shard(saved["index"], saved["count"]) if saved["kind"] == "shard" else None
        return Scope(saved["kind"], shard)
    return ACCOUNT if data_dir.duckdb_path.exists() else None


def claim_scope(data_dir: DataDir, wanted: Scope | None) -> Scope:
    """The scope this run works in: the data dir's own, which `wanted` must match.

    `wanted` None means "the account or the shard the data dir holds" (commands without
    `--shard`); a fresh data dir then works on the whole account. Only `push-shared` works
    in a shared data dir. Call it under the run lock.
    """
    held = read_scope(data_dir)
    differs = held is not None and wanted is not None and held != wanted
    if differs or (held == SHARED and wanted != SHARED):
        raise ConfigError(
            SHARD_KEY,
            f"{data_dir.root} holds {held}, not {wanted or 'a shard or the account'}: use one "
            "data dir per shard (and another for push-shared), or a fresh data dir after "
            "changing the shard count",
        )
    scope = held or wanted or ACCOUNT
    if held is None and scope != ACCOUNT:
        data_dir.root.mkdir(parents=True, exist_ok=True)
        (data_dir.root / SCOPE_FILE).write_text(json.dumps(scope.describe()) + "\n")
    return scope
