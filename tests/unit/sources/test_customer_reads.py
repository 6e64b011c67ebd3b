"""A customer whose lists cannot be read is set aside; too many in a row stop the run."""

from __future__ import annotations

import pytest

from sources.metronome.client import MetronomeResponseError
from sources.metronome.customer_reads import UNREAD, CustomerReads, CustomerReadsFailing
from sources.metronome.records import ExtractReject

BAD_LIST = MetronomeResponseError("GET /v1/customers/c/invoices: expected {'data': [...]}")


def test_a_failed_customer_is_set_aside_with_its_reason() -> None:
    rejects: list[ExtractReject] = []
    CustomerReads().failed("cus_1", "invoices", BAD_LIST, rejects.append)
    [reject] = rejects
    assert (reject.collection, reject.record_id) == (UNREAD, "cus_1")
    assert reject.reason.startswith("its invoices could not be read this run (GET /v1/")
    assert reject.payload == {"customer_id": "cus_1"}


@pytest.mark.parametrize(
    ("events", "stops"),
    [
        pytest.param(["fail"] * 4, False, id="four in a row"),
        pytest.param(["fail"] * 5, True, id="five in a row"),
        pytest.param(
            ["ok"] * 100 + ["fail"] * 4 + ["ok"] + ["fail"] * 4, False, id="a good read in between"
        ),
        pytest.param(["fail", "plans ok"] * 5, True, id="other lists working do not count"),
        pytest.param(["fail", "ok"] * 5, True, id="half of them failing"),
        pytest.param(["ok"] * 45 + ["fail", "ok"] * 4, False, id="a few in many"),
        pytest.param(["ok"] * 40 + ["fail", "ok"] * 5, True, id="more than a tenth"),
    ],
)
def test_too_many_failures_of_one_list_stop_the_run(events: list[str], stops: bool) -> None:
    reads = CustomerReads(max_in_a_row=5, max_share=0.1)

    def replay() -> None:
        for index, event in enumerate(events):
            if event == "fail":
                reads.failed(f"cus_{index}", "invoices", BAD_LIST, lambda reject: None)
            else:
                reads.succeeded("customer plans" if event == "plans ok" else "invoices")

    if stops:
        with pytest.raises(CustomerReadsFailing, match="customers' invoices could not be read"):
            replay()
    else:
        replay()
