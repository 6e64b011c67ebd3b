"""Which staged customers a transform maps again, and what it keeps of the others.

A customer's rows are a function of its bundle, the catalog, the mapping options, the
mapping's code and `as_of`. The first four make its fingerprint (`customer_fingerprints` of
staging, salted with `mapping_version`); `as_of` counts through the span of moments its rows
hold for (`moment.py`). A customer is mapped again when its fingerprint differs from the one
stored with its rows, when `as_of` left that span, or when it is new; a customer no longer
staged loses its rows. Everything is mapped again when nothing usable is stored, on request
(`--full-refresh`), or when ids collide across customers (below).

Customers are not quite independent: in id order, a customer's invoice or subscription id
that an earlier customer already took is rejected as a duplicate. Staging merges invoices,
customer plans and customers by id, so only odd data gets there; when it does (a stored
reject names an id another customer holds, or a customer mapped again loses an id to a kept
one), the run maps everything, in order, as a whole run would.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import import_module
from pathlib import Path

import duckdb
import orjson

from destinations.fincome.diff import schema_tables
from destinations.fincome.rows import CustomerRow
from pipelines.shards import Shard
from pipelines.shared_facts import SharedFacts
from pipelines.staging import Catalog, catalog_fingerprint, customer_fingerprints
from pipelines.transform.catalog import CatalogUsage
from pipelines.transform.moment import Span, holds
from pipelines.transform.options import MappingOptions
from pipelines.transform.rejects import TransformReject
from pipelines.transform.tables import CUSTOMERS_TABLE, OWNER, OWNERS_TABLE, REJECTS_TABLE

# the code a customer's rows come from: a change to any of it maps everything again
MAPPING_CODE = (
    "pipelines.transform",
    "pipelines.staging",
    "pipelines.shared_facts",
    "destinations.fincome.body",
    "destinations.fincome.desired",
    "destinations.fincome.rows",
    "destinations.fincome.schema",
)
# a reject of this collection names an id the Fincome collections hold (duplicates)
ID_SPACES = {"invoices": ("invoices", "credit_notes"), "customer_plans": ("subscriptions",)}
NO_CATALOG = Catalog({}, {}, {})


@dataclass(frozen=True)
class Plan:
    """What a run maps: `remap` None means every customer, written as a whole."""

    fingerprints: dict[str, str]  # staged customer -> fingerprint (mapping version included)
    remap: list[str] | None = None
    vanished: list[str] = field(default_factory=list)

    @property
    def replaced(self) -> list[str] | None:
        """The owners whose rows the commit replaces; None: every table."""
        return None if self.remap is None else [*self.remap, *self.vanished]


@dataclass
class Kept:
    """What a run keeps of the customers it does not map again."""

    customers: dict[str, CustomerRow] = field(default_factory=dict)  # admitted, direct payer
    usage: CatalogUsage = field(default_factory=CatalogUsage)
    rejects: list[TransformReject] = field(default_factory=list)
    ids: dict[str, set[str]] = field(default_factory=dict)  # reject collection -> ids held


def plan_remap(
    db: duckdb.DuckDBPyConnection,
    schema: str,
    options: MappingOptions,
    as_of: datetime,
    *,
    everything: bool = False,
) -> Plan:
    """Which customers to map again, from staging's fingerprints and what is stored."""
    version = mapping_version(options, catalog_fingerprint(db))
    fingerprints = {
        customer: hashlib.md5(f"{version}:{digest}".encode()).hexdigest()
        for customer, digest in customer_fingerprints(db).items()
    }
    stored = None if everything else _stored(db, schema)
    if stored is None:
        return Plan(fingerprints)
    remap = sorted(
        customer
        for customer, fingerprint in fingerprints.items()
        if customer not in stored
        or stored[customer][0] != fingerprint
        or not holds(stored[customer][1], as_of)
    )
    if len(remap) == len(fingerprints):
        return Plan(fingerprints)
    return Plan(fingerprints, remap, sorted(set(stored) - set(fingerprints)))


def kept_state(db: duckdb.DuckDBPyConnection, schema: str, plan: Plan) -> Kept:
    """The facts, rejects and ids of every customer `plan` keeps."""
    kept = Kept(ids={collection: set() for collection in ID_SPACES})
    if plan.replaced is None:
        return kept
    keep = f"{OWNER} IS NOT NULL AND {OWNER} NOT IN (SELECT unnest(?::VARCHAR[]))"
    for (facts,) in db.execute(
        f"SELECT facts FROM {schema}.{CUSTOMERS_TABLE} WHERE {keep}", [plan.replaced]
    ).fetchall():
        customer = SharedFacts.from_json(facts)
        kept.customers.update(customer.customers)
        kept.usage.merge(customer.usage)
    for collection, record_id, reason, payload in db.execute(
        f"SELECT collection, record_id, reason, payload FROM {schema}.{REJECTS_TABLE} "
        f"WHERE {keep} ORDER BY {OWNER}",
        [plan.replaced],
    ).fetchall():
        held = None if payload is None else orjson.Fragment(payload)
        kept.rejects.append(TransformReject(collection, record_id, reason, payload=held))
    for space, collections in ID_SPACES.items():
        rows = db.execute(
            f"SELECT id FROM {schema}.{OWNERS_TABLE} WHERE {keep} "
            "AND collection IN (SELECT unnest(?::VARCHAR[]))",
            [plan.replaced, list(collections)],
        ).fetchall()
        kept.ids[space] = {record_id for (record_id,) in rows}
    return kept


def collides(reject: TransformReject, kept: Kept) -> bool:
    """Whether a customer mapped again lost an id to a kept customer (a duplicate)."""
    return reject.record_id in kept.ids.get(reject.collection, ())


def facts_json(customer: CustomerRow | None, usage: CatalogUsage) -> orjson.Fragment:
    """One customer's shared facts (`shared_facts.py`), as stored with its rows."""
    customers = {} if customer is None else {customer["id"]: customer}
    return orjson.Fragment(SharedFacts(Shard(0, 1), customers, usage, NO_CATALOG).to_json())


def span_row(fingerprint: str, span: Span, facts: orjson.Fragment) -> dict[str, object]:
    return {"fingerprint": fingerprint, "valid_from": span[0], "valid_to": span[1], "facts": facts}


def mapping_version(options: MappingOptions, catalog: str) -> str:
    """What every customer's rows depend on: the mapping's code, its options, the catalog."""
    return hashlib.md5(
        f"{_code_digest()}:{options.model_dump_json()}:{catalog}".encode()
    ).hexdigest()


@cache
def _code_digest() -> str:
    digest = hashlib.sha256()
    for name in MAPPING_CODE:
        module = import_module(name)
        location = Path(str(module.__file__))
        files = sorted(location.parent.glob("*.py")) if location.stem == "__init__" else [location]
        for path in files:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _stored(db: duckdb.DuckDBPyConnection, schema: str) -> dict[str, tuple[str, Span]] | None:
    """Stored fingerprint and span per customer; None when nothing usable is stored."""
    present = schema_tables(db, schema)
    if not {CUSTOMERS_TABLE, REJECTS_TABLE, OWNERS_TABLE} <= present or _collided(db, schema):
        return None
    rows = db.execute(
        f"SELECT {OWNER}, fingerprint, valid_from, valid_to FROM {schema}.{CUSTOMERS_TABLE}"
    ).fetchall()
    return {owner: (fingerprint, (first, last)) for owner, fingerprint, first, last in rows}


def _collided(db: duckdb.DuckDBPyConnection, schema: str) -> bool:
    """Whether a stored reject names an id another customer holds (a duplicate across
    customers: which one wins depends on the others, so none can be kept alone)."""
    spaces = " OR ".join(
        f"(r.collection = '{space}' AND o.collection IN {tuple(collections)!r})".replace(",)", ")")
        for space, collections in ID_SPACES.items()
    )
    [(found,)] = db.execute(
        f"SELECT count(*) FROM {schema}.{REJECTS_TABLE} r JOIN {schema}.{OWNERS_TABLE} o "
        f"ON o.id = r.record_id AND o.{OWNER} IS DISTINCT FROM r.{OWNER} WHERE {spaces}"
    ).fetchall()
    return bool(found)
