"""How much a customer uses in a billing period: baselines per metric, growth and noise.

Quantities are a pure function of the profile, the period's index and the period's own RNG,
so a DRAFT computed mid-period and the FINALIZED invoice computed later agree: the draft
shows the elapsed share of the same final usage.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

# family -> metric -> (low, high) baseline per period, drawn log-uniformly per customer
_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "starter": {"api_calls": (5e3, 3e5), "storage_gb": (0.5, 40)},
    "growth": {"api_calls": (5e5, 2e7), "storage_gb": (40, 2000), "seats": (5, 40)},
    "enterprise": {
        "api_calls": (2e7, 3e8),
        "compute_hours": (800, 20000),
        "storage_gb": (1000, 50000),
        "seats": (50, 400),
    },
    "growth_eu": {"api_calls": (5e5, 2e7), "storage_gb": (40, 2000), "seats": (5, 40)},
    "credits": {"compute_hours": (200, 5000), "api_calls": (1e6, 2e7)},
    "quarterly": {"api_calls": (3e7, 2e8), "seats": (20, 150)},
}

# metric -> decimal places it is metered with (GB and hours are fractional)
_PLACES = {"api_calls": 0, "storage_gb": 2, "compute_hours": 2, "seats": 0}
_ACCRUING = {"api_calls", "storage_gb", "compute_hours"}  # seats are counted, not accrued


@dataclass(frozen=True)
class UsageProfile:
    baselines: dict[str, float]
    monthly_growth: float

    def quantities(
        self, periods_since_start: int, rng: random.Random, share: float
    ) -> dict[str, Decimal]:
        """Usage per metric for one period; `share` < 1 for a period still open."""
        trend = (1 + self.monthly_growth) ** periods_since_start
        usage = {}
        for metric, baseline in self.baselines.items():
            value = baseline * trend * rng.uniform(0.82, 1.18)
            if metric in _ACCRUING:
                value *= share
            else:
                value = max(value, 1.0)
            usage[metric] = metered(value, _PLACES[metric])
        return usage


def draw_profile(rng: random.Random, family: str) -> UsageProfile:
    baselines = {
        metric: math.exp(rng.uniform(math.log(low), math.log(high)))
        for metric, (low, high) in _RANGES[family].items()
    }
    return UsageProfile(baselines, monthly_growth=rng.uniform(-0.02, 0.07))


def metered(value: float, places: int) -> Decimal:
    step = Decimal(1).scaleb(-places)
    return Decimal(repr(value)).quantize(step, rounding=ROUND_HALF_EVEN)
