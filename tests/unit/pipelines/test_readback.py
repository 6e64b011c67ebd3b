"""`read_back`: every id answered once, 404 as None, concurrency bounded, failures raised."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from destinations.fincome import AuthenticationFailed, FincomeClient, FincomeSettings
from pipelines.readback import differing_fields, read_back, read_one


class Held:
    """A Fincome that answers GETs from `records` (path -> record), 404 for the rest."""

    def __init__(self, records: dict[str, dict[str, Any]], *, delay: float = 0.0) -> None:
        self.records = records
        self.delay = delay
        self.paths: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.refuse_auth = False
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.paths.append(request.url.raw_path.decode())
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(self.delay)
            if self.refuse_auth:
                return httpx.Response(401, json={"detail": "Invalid API key"})
            record = self.records.get(request.url.path)
            if record is None:
                return httpx.Response(404, json={"detail": f"{request.url.path} not found"})
            return httpx.Response(200, json=record)
        finally:
            with self._lock:
                self.in_flight -= 1


@contextmanager
def client_of(fake: Held, **settings: Any) -> Iterator[FincomeClient]:
    options = {"api_key": "k", "base_url": "https://fincome.test", "requests_per_second": None}
    with FincomeClient(
        FincomeSettings(**{**options, **settings}), transport=httpx.MockTransport(fake)
    ) as client:
        yield client


def test_each_id_is_answered_once_with_its_record_or_none() -> None:
    fake = Held({f"/customers/c{i}": {"id": f"c{i}", "name": f"C {i}"} for i in range(0, 30, 2)})
    with client_of(fake) as client:
        found = dict(read_back(client, "customers", (f"c{i}" for i in range(30))))
    assert set(found) == {f"c{i}" for i in range(30)}
    assert found["c4"] == {"id": "c4", "name": "C 4"}
    assert found["c5"] is None
    assert len(fake.paths) == 30


def test_reads_under_the_configured_path_with_the_id_escaped() -> None:
    fake = Held({"/invoice_lines/inv_1:L0": {"id": "inv_1:L0"}})
    with client_of(fake, paths={"invoice_line_items": "/invoice_lines"}) as client:
        found = dict(read_back(client, "invoice_line_items", ["inv_1:L0", "a/b"]))
    assert found == {"inv_1:L0": {"id": "inv_1:L0"}, "a/b": None}
    assert sorted(fake.paths) == ["/invoice_lines/a%2Fb", "/invoice_lines/inv_1:L0"]


def test_at_most_max_concurrency_reads_are_in_flight() -> None:
    fake = Held({}, delay=0.02)
    with client_of(fake, max_concurrency=3) as client:
        answered = list(read_back(client, "customers", (f"c{i}" for i in range(24))))
    assert len(answered) == 24
    assert fake.most_in_flight == 3


def test_ids_are_taken_as_they_are_needed() -> None:
    fake = Held({})
    taken: list[int] = []

    def ids() -> Iterator[str]:
        for i in range(10_000):
            taken.append(i)
            yield f"c{i}"

    with client_of(fake, max_concurrency=2) as client:
        reads = read_back(client, "customers", ids())
        next(reads)
        reads.close()
    assert len(taken) < 20  # a window of ids, not all 10,000


def test_a_refused_key_is_raised_and_no_further_read_starts() -> None:
    fake = Held({})
    fake.refuse_auth = True
    with client_of(fake, max_concurrency=2) as client, pytest.raises(AuthenticationFailed):
        list(read_back(client, "customers", (f"c{i}" for i in range(100))))
    assert len(fake.paths) <= 4  # the window in flight, not 100


def test_read_one() -> None:
    fake = Held({"/invoices/i1": {"id": "i1"}})
    with client_of(fake) as client:
        assert read_one(client, "invoices", "i1") == {"id": "i1"}
        assert read_one(client, "invoices", "i2") is None


SENT = (
    '{"id":"i1","customer_id":"c1","invoice_number":null,"date":"2026-04-03T00:00:00Z",'
    '"status":"paid","is_renew":null,"custom_properties":{"metronome_id":"m1"}}'
)


@pytest.mark.parametrize(
    ("held", "fields"),
    [
        # what Fincome adds, or writes its own way, is no difference
        ({"id": "i1", "status": "paid", "created_at": "2026-04-04T10:00:00Z"}, []),
        ({"date": "2026-04-03T00:00:00+00:00", "invoice_number": None}, []),
        ({"custom_properties": {"metronome_id": "m1"}}, []),
        ({}, []),  # a field Fincome does not show cannot be compared
        ({"status": "unpaid"}, ["status"]),
        ({"date": "2026-04-02T00:00:00Z", "customer_id": "c2"}, ["customer_id", "date"]),
        ({"custom_properties": None}, ["custom_properties"]),
        ({"date": "yesterday"}, ["date"]),  # junk typed by hand
    ],
)
def test_differing_fields(held: dict[str, Any], fields: list[str]) -> None:
    assert differing_fields("invoices", SENT, held) == fields


@pytest.mark.parametrize(
    ("held", "fields"),
    [
        ({"amount_excluding_tax_after_discount": "100.0", "tax_amount": 0}, []),
        ({"amount_excluding_tax_after_discount": 100.01}, ["amount_excluding_tax_after_discount"]),
        ({"quantity": 2.0}, []),
    ],
)
def test_differing_amounts(held: dict[str, Any], fields: list[str]) -> None:
    sent = {"id": "l1", "amount_excluding_tax_after_discount": 100, "tax_amount": 0, "quantity": 2}
    assert differing_fields("invoice_line_items", sent, held) == fields
