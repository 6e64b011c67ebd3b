"""Each attempt is one request line (method, path, status, ms): never a query, header or body."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from httpkit import (
    AdaptivePacer,
    RequestLine,
    RequestStats,
    ResilientSender,
    RetryPolicy,
    listening,
)
from httpkit.requestlog import log as request_log
from httpkit.stopping import StopSwitch

SECRETS = ("s3cr3t-in-query", "s3cr3t-in-header", "s3cr3t-in-body", "s3cr3t-user")


class Caught(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def caught() -> Iterator[Caught]:
    handler = Caught()
    request_log.addHandler(handler)
    level = request_log.level
    request_log.setLevel(logging.DEBUG)
    yield handler
    request_log.removeHandler(handler)
    request_log.setLevel(level)


def _sender(statuses: list[int]) -> ResilientSender:
    answers = iter(statuses)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(next(answers), json={"echo": "s3cr3t-in-body"})

    return ResilientSender(
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        policy=RetryPolicy(max_attempts=3, base_delay=0.0),
        pacer=AdaptivePacer(rate=None),
        attempt_seconds=5.0,
        stats=RequestStats(),
        stop=StopSwitch(),
        sleep=lambda seconds: None,
    )


def test_every_attempt_is_logged_and_heard_without_query_headers_or_body(
    caught: Caught,
) -> None:
    heard: list[RequestLine] = []
    with listening(heard.append):
        response = _sender([503, 201]).send(
            "post",
            "https://s3cr3t-user:pw@api.test/v1/customers/cus_1?api_key=s3cr3t-in-query",
            params={"token": "s3cr3t-in-query"},
            content=b'{"secret": "s3cr3t-in-body"}',
            headers={"Authorization": "Bearer s3cr3t-in-header", "X-API-KEY": "s3cr3t-in-header"},
        )

    assert response.status_code == 201
    assert [(h.method, h.path, h.status) for h in heard] == [
        ("POST", "/v1/customers/cus_1", "503"),
        ("POST", "/v1/customers/cus_1", "201"),
    ]
    assert all(h.milliseconds >= 0 for h in heard)
    lines = [record.getMessage() for record in caught.records]
    assert lines[0].startswith("POST /v1/customers/cus_1 -> 503 in ")
    assert lines[1].endswith(" ms")
    everything = repr([(r.getMessage(), r.__dict__) for r in caught.records]) + repr(heard)
    for secret in SECRETS:
        assert secret not in everything


def test_a_transport_error_is_logged_with_its_name(caught: Caught) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("connection reset")

    sender = _sender([])
    sender.http = httpx.Client(transport=httpx.MockTransport(refuse))
    heard: list[RequestLine] = []
    with listening(heard.append), pytest.raises(httpx.ReadError):
        sender.send("GET", "https://api.test/v1/plans")

    assert {(h.path, h.status) for h in heard} == {("/v1/plans", "ReadError")}
    assert len(heard) == 3  # every attempt, retries included


def test_listeners_stop_hearing_once_their_block_ends() -> None:
    heard: list[RequestLine] = []
    with listening(heard.append):
        _sender([200]).send("GET", "https://api.test/a")
    _sender([200]).send("GET", "https://api.test/b")
    assert [h.path for h in heard] == ["/a"]
