"""When Fincome's refusals of a push are the endpoint's fault, not the records'."""

from __future__ import annotations

import pytest

from pipelines.push_failures import EARLY_REFUSALS, endpoint_fault


def requests(**by_status: int) -> dict[str, object]:
    return {"by_status": {status.removeprefix("s"): n for status, n in by_status.items()}}


@pytest.mark.parametrize(
    ("counts", "finished", "fault"),
    [
        pytest.param(requests(s400=3), True, True, id="all 400 at the end"),
        pytest.param(requests(s400=3), False, False, id="too few to stop early"),
        pytest.param(requests(s400=EARLY_REFUSALS), False, True, id="enough to stop early"),
        pytest.param(requests(s415=1), True, True, id="one write, refused 415"),
        pytest.param(requests(s404=6), True, False, id="deletes of records already gone"),
        pytest.param(requests(s405=6), True, False, id="405 fails the run by itself"),
        pytest.param(requests(s400=9, s201=1), True, False, id="one went through"),
        pytest.param(requests(s400=5, s415=5), True, False, id="refused in different ways"),
        pytest.param(requests(s422=9), True, False, id="validation: the records' fault"),
        pytest.param(requests(s409=4), True, False, id="conflicts become updates"),
        pytest.param(requests(s401=9), True, False, id="auth fails the run by itself"),
        pytest.param(requests(s429=9), True, False, id="rate limits fail the run by itself"),
        pytest.param(requests(s500=9), True, False, id="server errors: an outage, exit 1"),
        pytest.param(requests(ReadTimeout=2, s400=6), True, True, id="transport noise ignored"),
        pytest.param(requests(), True, False, id="nothing sent"),
    ],
)
def test_a_push_refused_alike_from_the_start_is_the_endpoints_fault(
    counts: dict[str, object], finished: bool, fault: bool
) -> None:
    error = endpoint_fault(counts, finished=finished)
    assert (error is not None) == fault
    if error is not None:
        assert error.key == "DESTINATION__FINCOME__BASE_URL"
        assert "nothing was set aside" in str(error)
