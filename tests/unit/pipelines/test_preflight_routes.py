"""The rule that tells a served path from no such route (`pipelines/preflight/routes.py`)."""

from __future__ import annotations

import pytest

from pipelines.preflight.routes import PROBE_ID, Answer, Route, combined, verdict

FASTAPI_NO_ROUTE = Answer.of(404, '{"detail": "Not Found"}', path="/x")
EXPRESS_NO_ROUTE = Answer.of(404, "Cannot GET /nowhere/" + PROBE_ID, path="/nowhere/" + PROBE_ID)


@pytest.mark.parametrize(
    ("status", "body", "control", "expected"),
    [
        (200, "{}", FASTAPI_NO_ROUTE, Route.SERVED),
        (405, '{"detail": "Method Not Allowed"}', FASTAPI_NO_ROUTE, Route.SERVED),
        (422, '{"detail": []}', FASTAPI_NO_ROUTE, Route.SERVED),
        (401, '{"detail": "Invalid API key"}', FASTAPI_NO_ROUTE, Route.REFUSED),
        (403, '{"detail": "Not authenticated"}', None, Route.REFUSED),
        # FastAPI: an unknown id is named, an unknown route is not
        (404, '{"detail": "Customer \'x\' not found"}', FASTAPI_NO_ROUTE, Route.SERVED),
        (404, '{"detail": "Not Found"}', FASTAPI_NO_ROUTE, Route.MISSING),
        (404, '{"detail":  "Not Found"}', FASTAPI_NO_ROUTE, Route.MISSING),  # spacing aside
        # a server that echoes the path it was asked
        (404, "Cannot GET /clients/" + PROBE_ID, EXPRESS_NO_ROUTE, Route.MISSING),
        (404, '{"error": "no such client"}', EXPRESS_NO_ROUTE, Route.SERVED),
        # nothing to compare with: no verdict
        (404, '{"detail": "Not Found"}', None, Route.UNDETERMINED),
        (404, '{"detail": "Not Found"}', Answer(200, "<html>"), Route.UNDETERMINED),
        (500, "boom", FASTAPI_NO_ROUTE, Route.UNDETERMINED),
    ],
)
def test_verdict(status: int, body: str, control: Answer | None, expected: Route) -> None:
    probe = Answer.of(status, body, path="/clients/" + PROBE_ID)
    assert verdict(probe, control) is expected


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        ((Route.MISSING, Route.SERVED), Route.SERVED),  # GET /x 404, GET /x/{id} "not found"
        ((Route.MISSING, Route.MISSING), Route.MISSING),
        ((Route.REFUSED, Route.MISSING), Route.REFUSED),
        ((Route.MISSING, Route.UNDETERMINED), Route.UNDETERMINED),
        ((), Route.UNDETERMINED),
    ],
)
def test_combined(verdicts: tuple[Route, ...], expected: Route) -> None:
    assert combined(*verdicts) is expected
