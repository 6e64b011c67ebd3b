"""`read_back` against the Fincome emulator: records as stored, lines inside their invoice,
records deleted by hand answered as None."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from destinations.fincome import FincomeClient, FincomeSettings
from pipelines.readback import read_back
from tests.fixtures.fincome import FincomeEmulator, customer_body, invoice_body, line_body


@pytest.fixture
def client(fincome_api: FincomeEmulator) -> Iterator[FincomeClient]:
    settings = FincomeSettings(
        base_url=fincome_api.url, api_key=fincome_api.api_key, max_concurrency=4
    )
    with FincomeClient(settings) as client:
        yield client


def test_reads_what_the_emulator_holds_by_id(client: FincomeClient) -> None:
    for i in range(12):
        client.create("customers", customer_body(f"cus_{i}"))
    lines = [line_body("inv_1:L0"), line_body("inv_1:L1", amount="0.10")]
    client.create("invoices", invoice_body("inv_1", "cus_0", lines=lines))
    client.delete("invoice_line_items", "inv_1:L1")  # by hand, say

    customers = dict(read_back(client, "customers", [f"cus_{i}" for i in range(14)]))
    invoices = dict(read_back(client, "invoices", ["inv_1", "inv_2"]))

    assert {k for k, v in customers.items() if v is None} == {"cus_12", "cus_13"}
    customer = customers["cus_3"]
    assert customer is not None
    assert customer["name"] == "Customer cus_3"
    assert invoices["inv_2"] is None
    invoice = invoices["inv_1"]
    assert invoice is not None
    assert [line["id"] for line in invoice["invoice_line_items"]] == ["inv_1:L0"]
    assert client.stats.by_status["404"] == 3
