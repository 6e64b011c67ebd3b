"""A realistic reconciliation without any server: two years, two currencies, a few problems."""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal

from pipelines.reconcile.compare import find_differences, month_rows
from pipelines.reconcile.documents import SOURCES, Documents, Held, Source
from pipelines.reconcile.fincome import MetricTotals, MonthCurrency
from pipelines.reconcile.metronome import NotMappable
from pipelines.reconcile.result import Reconciliation

MONTHS = [f"{2024 + (6 + n) // 12}-{(6 + n) % 12 + 1:02d}" for n in range(24)]  # Jul 24..Jun 26


def _documents(rng: random.Random) -> Documents:
    documents: Documents = {}
    for month in MONTHS:
        for currency, customers in (("USD", 12), ("EUR", 4)):
            for n in range(customers):
                cents = rng.randint(20_000, 900_000) + (len(documents) * 4_000)
                held = Held(
                    "invoice", f"inv-{month}-{currency}-{n}", f"cus-{currency}-{n}", currency,
                    month, Decimal(cents) / 100, "paid", counted=True,
                )  # fmt: skip
                documents[held.id] = held
        if month.endswith(("03", "09")):
            note = Held("credit_note", f"cn-{month}", "cus-USD-1", "USD", month,
                        Decimal("1250.00"), "refunded", counted=True)  # fmt: skip
            documents[note.id] = note
    return documents


def sample_sources(*, tampered: bool = True) -> dict[Source, Documents]:
    metronome = _documents(random.Random(7))
    sources: dict[Source, Documents] = {s: dict(metronome) for s in SOURCES}
    if tampered:
        del sources["fincome"]["inv-2025-03-USD-2"]
        voided = "inv-2025-11-EUR-1"
        sources["metronome"][voided] = replace(metronome[voided], status="void", counted=False)
        changed = "inv-2026-02-USD-5"
        sources["ledger"][changed] = replace(metronome[changed], amount=Decimal("1.23"))
        stranger = Held("invoice", "inv-<unknown>", "cus-x", "USD", "2026-04", Decimal("99.00"),
                        "open", counted=True)  # fmt: skip
        sources["fincome"][stranger.id] = stranger
    return sources


def _metrics(fincome: Documents) -> dict[MonthCurrency, MetricTotals]:
    sums: dict[MonthCurrency, MetricTotals] = {}
    for held in fincome.values():
        if held.counted and held.month and held.currency:
            key = (held.month, held.currency)
            before = sums.get(key, MetricTotals())
            invoiced = held.amount if held.kind == "invoice" else Decimal(0)
            sums[key] = MetricTotals(before.invoiced + invoiced, before.revenue + held.net)
    return sums


NOT_MAPPABLE = [
    NotMappable("inv-credits-1", "cus-USD-3", "FINALIZED", "2026-05", "5000.321", "Cloud credits",
                "credit type 'Cloud credits' is a custom pricing unit: map its id under "
                "[mapping.pricing_units] <and escape this>"),
]  # fmt: skip


def sample_reconciliation(*, tampered: bool = True) -> Reconciliation:
    sources = sample_sources(tampered=tampered)
    return Reconciliation(
        months=month_rows(sources, _metrics(sources["fincome"])),
        differences=find_differences(sources),
        not_mappable=NOT_MAPPABLE if tampered else [],
        documents={s: sum(h.counted for h in sources[s].values()) for s in SOURCES},
        metrics_checked=True,
        requests={"attempts": 12, "retries": 0, "throttled": 0, "by_status": {"200": 12}},
        duration_seconds=1.5,
    )
