"""What one run of the ring covered: endpoints called, records validated per model, problems.

The ring's tests each add a `Census` to the session's ledger; `conftest.py` prints the total
at the end of the run and writes it as JSON (`conformance-counts.json` in pytest's base temp
dir): the counts for a closing note come from the run that proved them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Census:
    """Counts of one account (or of the whole ring, once merged)."""

    requests_by_route: Counter[str] = field(default_factory=Counter)  # the emulator's log
    records_by_model: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def validated(self, model: type, problems: list[str]) -> None:
        """One record of `model` checked, with what was wrong with it."""
        self.records_by_model[model_name(model)] += 1
        self.problems += problems

    def merge(self, other: Census) -> None:
        self.requests_by_route.update(other.requests_by_route)
        self.records_by_model.update(other.records_by_model)
        self.problems += other.problems

    def to_json(self) -> dict[str, Any]:
        api_routes = {r: n for r, n in self.requests_by_route.items() if "/_emulator" not in r}
        return {
            "endpoints": len(api_routes),
            "requests_by_route": dict(sorted(api_routes.items())),
            "records_by_model": dict(sorted(self.records_by_model.items())),
            "records": sum(self.records_by_model.values()),
            "errors": len(self.problems),
        }


def model_name(model: type) -> str:
    """`v1.customers.PlanListResponse`: the SDK reuses class names across modules."""
    package = model.__module__.removeprefix("metronome.types.").rpartition(".")[0]
    return f"{package}.{model.__name__}" if package else model.__name__


@dataclass
class Ledger:
    """Every census of the run, by account."""

    accounts: dict[str, Census] = field(default_factory=dict)

    def add(self, account: str, census: Census) -> None:
        self.accounts.setdefault(account, Census()).merge(census)

    def to_json(self) -> dict[str, Any]:
        total = Census()
        for census in self.accounts.values():
            total.merge(census)
        by_account = {name: census.to_json() for name, census in sorted(self.accounts.items())}
        return {"total": total.to_json(), "accounts": by_account}
