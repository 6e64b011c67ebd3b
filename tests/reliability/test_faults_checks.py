"""The exactly-once check of the fault and kill tests flags what it should, from a request log."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.reliability.convergence import creation_problems


def post(path: str, status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"method": "POST", "path": path, "status": status, "body": json.dumps(body)}


def bodiless_post(path: str, status: int) -> dict[str, Any]:
    """A POST whose client was killed after its headers: the emulator logs it without a body."""
    return {"method": "POST", "path": path, "status": status}


CUSTOMER = {"id": "cus_1"}
INVOICE = {"id": "inv_1", "invoice_line_items": [{"id": "inv_1:L0"}]}


@pytest.mark.parametrize(
    ("log", "problems"),
    [
        ([post("/customers", 201, CUSTOMER)], []),
        # applied but answered 500: the retry meets a 409 and becomes an update
        ([post("/customers", 500, CUSTOMER), post("/customers", 409, CUSTOMER)], []),
        # a 429 or a 500 that did nothing, then the create
        ([post("/customers", 429, CUSTOMER), post("/customers", 201, CUSTOMER)], []),
        (
            [post("/customers", 201, CUSTOMER), post("/customers", 201, CUSTOMER)],
            ["customers cus_1: creates answered [201, 201]"],
        ),
        ([post("/customers", 500, CUSTOMER)], ["customers cus_1: creates answered [500]"]),
        (
            [post("/customers", 409, CUSTOMER), post("/customers", 201, CUSTOMER)],
            ["customers cus_1: creates answered [409, 201]"],
        ),
        # a line embedded in its invoice's create, then posted alone after a lost answer
        (
            [post("/invoices", 201, INVOICE), post("/invoice_line_items", 409, {"id": "inv_1:L0"})],
            [],
        ),
        (
            [post("/invoices", 201, INVOICE), post("/invoice_line_items", 201, {"id": "inv_1:L0"})],
            ["invoice_line_items inv_1:L0: creates answered [201, 201]"],
        ),
        # killed before the body went out: nothing was created, the re-run creates it
        ([bodiless_post("/customers", 599), post("/customers", 201, CUSTOMER)], []),
        (
            [bodiless_post("/customers", 201)],
            ["customers: a create answered 201 without a body"],
        ),
    ],
)
def test_every_id_must_be_created_exactly_once(
    log: list[dict[str, Any]], problems: list[str]
) -> None:
    assert creation_problems(log) == problems
