"""The accounts a benchmark runs on, the emulators serving them, and the ideal request counts.

Sizes S, M and L come from the Metronome emulator's deterministic generator; `quick` is a
tiny account for the CI smoke test. Both emulators run in their own processes (their own
core when the machine has one free), started fresh for each size.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from sandbox import DEFAULT_FINCOME_API_KEY, DEFAULT_METRONOME_TOKEN
from sandbox.common.server import spawned

METRONOME_TOKEN = DEFAULT_METRONOME_TOKEN
FINCOME_KEY = DEFAULT_FINCOME_API_KEY
PAGE_SIZE = 100  # the source's default `limit`, Metronome's maximum
SEED = 1


@dataclass(frozen=True)
class Size:
    name: str
    customers: int
    months: int

    def emulator_args(self) -> list[str]:
        return [
            "--seed",
            str(SEED),
            "--customers",
            str(self.customers),
            "--months",
            str(self.months),
        ]

    def describe(self) -> str:
        return f"{self.name} ({self.customers:,} customers x {self.months} months)"


SIZES = {
    "S": Size("S", 50, 12),
    "M": Size("M", 500, 24),
    "L": Size("L", 2000, 24),
}
QUICK = Size("quick", 8, 3)


@dataclass(frozen=True)
class Emulator:
    """One running emulator: its URL, its API credentials and its control plane."""

    url: str
    auth: dict[str, str]

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """A call to the emulated API itself, authenticated."""
        response = httpx.request(method, self.url + path, json=body, headers=self.auth, timeout=60)
        response.raise_for_status()
        return response.json()

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, f"{self.url}/_emulator/{path}", json=body, timeout=600)
        response.raise_for_status()
        return response.json()

    def log_summary(self) -> dict[str, Any]:
        """Totals of the request log: by route, by status, span and requests per second."""
        summary = self.control("GET", "requests?limit=0")
        summary.pop("requests", None)
        return dict(summary)

    def clear_log(self) -> None:
        self.control("DELETE", "requests?limit=0")

    def set_faults(self, **faults: Any) -> None:
        self.control("PUT", "faults", faults)


@contextmanager
def emulators(size: Size) -> Iterator[tuple[Emulator, Emulator]]:
    """(Metronome serving the size's account, an empty Fincome), each in its own process."""
    with ExitStack() as running:
        metronome = running.enter_context(spawned("metronome", size.emulator_args()))
        fincome = running.enter_context(spawned("fincome"))
        yield (
            Emulator(metronome.url, {"Authorization": f"Bearer {METRONOME_TOKEN}"}),
            Emulator(fincome.url, {"X-API-KEY": FINCOME_KEY}),
        )


@dataclass(frozen=True)
class MetronomeIdeal:
    """The fewest requests that read the whole account, by endpoint, from its own data."""

    by_endpoint: dict[str, int]
    customers: int
    invoices: int

    @property
    def total(self) -> int:
        return sum(self.by_endpoint.values())


CONTRACT_PAGE = 20


def metronome_ideal(metronome: Emulator, page_size: int = PAGE_SIZE) -> MetronomeIdeal:
    """Pages of `page_size` per list endpoint (an empty list still costs one page).

    Metronome lists archived customers only when asked (`only_archived`), so reading every
    customer takes one listing of each kind: that second pass is counted as ideal.
    """
    state = metronome.control("GET", "state")
    customers = state["customers"]
    archived = sum(1 for customer in customers if customer.get("archived_at"))
    invoices_of = Counter(invoice["customer_id"] for invoice in state["invoices"])
    contracts_of = Counter(contract["customer_id"] for contract in state["contracts"])
    plans = state["plans"]

    def pages(count: int, size: int = page_size) -> int:
        return max(1, math.ceil(count / size))

    by_endpoint = {
        "customers (active, then archived)": pages(len(customers) - archived) + pages(archived),
        "customer plans": sum(pages(len(p)) for p in state["customer_plans"].values()),
        "invoices": sum(pages(invoices_of[c["id"]]) for c in customers),
        # Metronome answers at most 20 contracts a page
        "contracts": sum(pages(contracts_of[c["id"]], CONTRACT_PAGE) for c in customers),
        "plans": pages(len(plans)),
        "plan details": len(plans),
        "plan charges": sum(pages(len(plan["charges"])) for plan in plans),
        "credit types": pages(len(state["credit_types"])),
    }
    return MetronomeIdeal(by_endpoint, len(customers), sum(invoices_of.values()))


def fincome_ideal(transformed: dict[str, int]) -> int:
    """One create per entity group of the desired state: lines ride inside their parent."""
    return sum(count for name, count in transformed.items() if not name.endswith("line_items"))
