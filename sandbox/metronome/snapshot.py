"""What `/_emulator/state` and `/_emulator/summary` answer: everything stored, or counts."""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson

from sandbox.metronome.contract_wire import contract_to_api
from sandbox.metronome.store import MetronomeStore
from sandbox.metronome.wire import iso, to_json


def dump(store: MetronomeStore) -> orjson.Fragment:
    """The whole state as one JSON document, reusing each object's serialised bytes."""
    catalog = store.account.catalog
    state = {
        "settings": _settings(store),
        "credit_types": [unit.to_api() for unit in catalog.credit_types],
        "plans": [
            {**plan.detail(), "charges": [charge.to_api() for charge in plan.charges]}
            for plan in catalog.plans.values()
        ],
        "customers": [orjson.Fragment(entry.json) for entry in store.customers],
        "customer_plans": {
            entry.detail["id"]: [orjson.Fragment(plan) for plan in entry.plans]
            for entry in store.customers
        },
        "contracts": [contract_to_api(contract, store.now) for contract in store.contracts()],
        "invoices": [orjson.Fragment(stored.json()) for stored in store.book],
        "regenerated": store.replacements,
    }
    return orjson.Fragment(to_json(state))


def summary(store: MetronomeStore) -> dict[str, Any]:
    archived = sum(1 for entry in store.customers if entry.detail.get("archived_at"))
    statuses: Counter[str] = Counter()
    types: Counter[str] = Counter()
    units: Counter[str] = Counter()
    for stored in store.book:
        statuses[stored.status] += 1
        types[str(stored.body.get("type"))] += 1
        credit_type = stored.body.get("credit_type")
        units[str(credit_type.get("name") if isinstance(credit_type, dict) else None)] += 1
    return {
        "settings": _settings(store),
        "customers": {"active": len(store.customers) - archived, "archived": archived},
        "customer_plans": sum(1 for _ in store.subscriptions()),
        "contracts": sum(1 for _ in store.contracts()),
        "plans": len(store.account.catalog.plans),
        "invoices": {
            "total": len(store.book),
            "by_status": dict(sorted(statuses.items())),
            "by_type": dict(sorted(types.items())),
            "by_credit_type": dict(sorted(units.items())),
        },
    }


def _settings(store: MetronomeStore) -> dict[str, Any]:
    settings = store.settings
    return {
        "seed": settings.seed,
        "customers": settings.customers,
        "contract_customers": settings.contract_customers,
        "months": settings.months,
        "generated_at": iso(settings.now),
        "now": iso(store.now),
        "default_sort": store.default_sort,
    }
