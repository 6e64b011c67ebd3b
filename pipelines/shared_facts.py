"""Shared facts: what one shard knows that the account-wide records (customers, products,
prices) are built from, and how `push-shared` puts the facts of every shard together.

A shard maps its own customers like a whole-account run would, and keeps what the shared
records need: each admitted customer's row with its direct payer as parent (the root of a
payer chain may live in another shard), what its synced lines used of the catalog
(products with the newest line naming them, charges, plan period lengths) and the catalog
it read. Merging these is order-free (`CatalogUsage.merge`), so N shards give exactly the
rows one run over all customers gives: the same payer roots, the same products (ad-hoc
products and `metronome:adjustment` / `metronome:unlinked` included, as only invoices
reveal them), the same prices and period lengths.

The file (`<data dir>/shared-facts.json`, written by `extract --shard`) is JSON with
Decimals as exact numbers:

    {"format": 1, "shard": {"index": 0, "count": 3},
     "customers": {"<id>": <customer row, root_parent_id = direct payer>},
     "usage": {"products": {"<id>": [date, line id, name]},
               "charges": {"<id>": [currency code, product id]},
               "plan_months": {"<plan id>": {"<months>": count}}},
     "catalog": {"plans": {...}, "plan_charges": {...}, "credit_types": {...}}}
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import orjson

from destinations.fincome.rows import CustomerRow
from pipelines.config import ConfigError
from pipelines.datadir import DataDir
from pipelines.shards import SHARD_KEY, Shard
from pipelines.staging import Catalog, iter_customer_bundles, read_catalog
from pipelines.transform.catalog import CatalogUsage, ChargeUse, Recency, catalog_view
from pipelines.transform.engine import Account, Emitted, shared_rows
from pipelines.transform.options import MappingOptions

FACTS_FILE = "shared-facts.json"
FORMAT = 1
CATALOG_TABLES = ("plans", "plan_charges", "credit_types")


@dataclass(frozen=True)
class SharedFacts:
    shard: Shard
    customers: dict[str, CustomerRow]
    usage: CatalogUsage
    catalog: Catalog

    def to_json(self) -> bytes:
        usage = self.usage
        document = {
            "format": FORMAT,
            "shard": {"index": self.shard.index, "count": self.shard.count},
            "customers": self.customers,
            "usage": {
                "products": {
                    p: [r.date, r.line_id, name] for p, (r, name) in usage.products.items()
                },
                "charges": {c: [u.currency_code, u.product_id] for c, u in usage.charges.items()},
                "plan_months": {p: dict(months) for p, months in usage.plan_months.items()},
            },
            "catalog": {table: getattr(self.catalog, table) for table in CATALOG_TABLES},
        }
        return orjson.dumps(document, default=_exact_number, option=orjson.OPT_NON_STR_KEYS)

    @classmethod
    def from_json(cls, text: bytes | str) -> SharedFacts:
        document = json.loads(text, parse_float=Decimal)
        if document.get("format") != FORMAT:
            raise ValueError(f"shared facts of format {document.get('format')}, not {FORMAT}")
        usage = document["usage"]
        return cls(
            shard=Shard(document["shard"]["index"], document["shard"]["count"]),
            customers=document["customers"],
            usage=CatalogUsage(
                products={p: (Recency(d, i), n) for p, (d, i, n) in usage["products"].items()},
                charges={c: ChargeUse(cur, prod) for c, (cur, prod) in usage["charges"].items()},
                plan_months={
                    p: Counter({int(m): n for m, n in months.items()})
                    for p, months in usage["plan_months"].items()
                },
            ),
            catalog=Catalog(**{table: document["catalog"][table] for table in CATALOG_TABLES}),
        )


def _exact_number(value: Any) -> Any:
    if isinstance(value, Decimal) and value.is_finite():
        return orjson.Fragment(format(value, "f"))
    raise TypeError(f"{type(value).__name__} {value!r} is not JSON serializable")


def gather_facts(
    db: duckdb.DuckDBPyConnection, options: MappingOptions, shard: Shard
) -> SharedFacts:
    """Map the staged customers (rows and rejects are the push's business) to learn the facts."""
    catalog = read_catalog(db)
    account = Account()
    mapped = account.map_customers(
        catalog_view(catalog), iter_customer_bundles(db), options, datetime.now(UTC)
    )
    for _ in mapped:
        pass
    return SharedFacts(shard, account.customers, account.usage, catalog)


def record_shared_facts(data_dir: DataDir, options: MappingOptions, shard: Shard) -> Path:
    """Gather the shard's facts from its staging into `<data dir>/shared-facts.json`.

    Written atomically (a reader never sees half a file); returns the path.
    """
    with data_dir.connect() as db:
        facts = gather_facts(db, options, shard)
    path = data_dir.root / FACTS_FILE
    partial = path.with_suffix(".partial")
    partial.write_bytes(facts.to_json())
    partial.replace(path)
    return path


def merged_shared_rows(
    all_facts: Sequence[SharedFacts], options: MappingOptions
) -> Iterator[Emitted]:
    """The customers, products and prices of the whole account, from every shard's facts."""
    ordered = check_complete(all_facts)
    customers: dict[str, CustomerRow] = {}
    usage = CatalogUsage()
    catalog: dict[str, dict[str, Any]] = {table: {} for table in CATALOG_TABLES}
    for facts in ordered:
        customers.update(facts.customers)
        usage.merge(facts.usage)
        for table in CATALOG_TABLES:
            # the lowest shard's copy wins should the catalog change between shard extracts
            for record_id, record in getattr(facts.catalog, table).items():
                catalog[table].setdefault(record_id, record)
    view = catalog_view(Catalog(**catalog))
    return shared_rows(view, customers.values(), usage, options)


def check_complete(all_facts: Sequence[SharedFacts]) -> list[SharedFacts]:
    """The facts in shard order; exactly one per shard of one N, or a ConfigError."""
    counts = {facts.shard.count for facts in all_facts}
    if len(counts) != 1:
        found = ", ".join(sorted(str(facts.shard) for facts in all_facts)) or "none"
        raise ConfigError(SHARD_KEY, f"need the shared facts of all shards of one N (got {found})")
    count = counts.pop()
    indexes = sorted(facts.shard.index for facts in all_facts)
    if indexes != list(range(count)):
        missing = sorted(set(range(count)) - set(indexes))
        twice = sorted({i for i in indexes if indexes.count(i) > 1})
        raise ConfigError(
            SHARD_KEY,
            f"need the shared facts of shards 0..{count - 1} once each "
            f"(missing: {missing or 'none'}, given twice: {twice or 'none'})",
        )
    return sorted(all_facts, key=lambda facts: facts.shard.index)
