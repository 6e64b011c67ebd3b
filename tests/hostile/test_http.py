"""Both API clients against hostile servers: no hang, no endless listing, no silent "nothing".

Each case points the real `MetronomeClient` or `FincomeClient` at a `ScriptedServer` with
small settings (timeout 2 s, retry budget 5 s), so what used to hang for an hour or forever
must end within seconds. A call that is still running after `HANG_LIMIT` fails the test
(its daemon thread is left to the server's close). New error classes are reached through
their modules so that this file also runs, and fails for the right reason, on babaf3a.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from destinations.fincome import FincomeSettings
from destinations.fincome import client as fincome
from destinations.fincome import errors as fincome_errors
from httpkit import RetryPolicy
from httpkit.stopping import IN_FLIGHT_GRACE_SECONDS, PROCESS_STOP, StopRequested
from sources.metronome import MetronomeSettings
from sources.metronome import client as metronome
from tests.hostile.servers import Reply, Request, ScriptedServer, json_reply

TOKEN = "tok-hostile-http-0123456789"
KEY = "key-hostile-http-0123456789"
TIMEOUT = 2.0
BUDGET = 5.0
HANG_LIMIT = 30.0  # far above the budget: only a hang reaches it
STOP_SLACK = 2.0  # a read notices the stop within its 1 s slice; the rest is a loaded CI


def ended_within(limit: float, call: Callable[[], object]) -> tuple[BaseException | None, float]:
    """What `call` raised (None when it returned) and how long it took; fails the test when
    it is still running after `limit` seconds."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    started = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        pytest.fail(f"still running after {limit:.0f} s: a hang")
    return outcome[0], time.monotonic() - started


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[Request], Reply]], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(script: Callable[[Request], Reply]) -> ScriptedServer:
        servers.append(ScriptedServer(script).__enter__())
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def metronome_client(url: str, **options: Any) -> metronome.MetronomeClient:
    settings: dict[str, Any] = {
        "requests_per_second": 0,
        "timeout_seconds": TIMEOUT,
        "retry_budget_seconds": BUDGET,
        **options,
    }
    return metronome.MetronomeClient(MetronomeSettings(base_url=url, api_token=TOKEN, **settings))


def fincome_client(url: str) -> fincome.FincomeClient:
    policy = RetryPolicy(budget_seconds=BUDGET)
    return fincome.FincomeClient(
        FincomeSettings(
            api_key=KEY, base_url=url, requests_per_second=None, timeout_seconds=TIMEOUT
        ),
        retry_policy=policy,
    )


def years_ahead() -> str:
    return format_datetime(datetime.now(UTC) + timedelta(days=3650), usegmt=True)


# -- Retry-After ----------------------------------------------------------------------------


@pytest.mark.parametrize("retry_after", ["3600", years_ahead()], ids=["3600", "date-ahead"])
def test_metronome_asking_for_more_than_the_budget_fails_the_request_now(
    serve: Callable[..., ScriptedServer], retry_after: str
) -> None:
    server = serve(lambda r: json_reply({"message": "slow"}, 429, retry_after=retry_after))
    client = metronome_client(server.url)
    error, _ = ended_within(HANG_LIMIT, lambda: list(client.pages("/v1/customers")))
    assert isinstance(error, metronome.MetronomeRateLimitError), error
    message = str(error)
    assert "Metronome asked to wait" in message
    assert "SOURCES__METRONOME__RETRY_BUDGET_SECONDS" in message
    assert len(server.requests) == 1  # no retry, no sleep


def test_fincome_asking_for_an_hour_fails_the_write_now(
    serve: Callable[..., ScriptedServer],
) -> None:
    server = serve(lambda r: json_reply({"detail": "slow"}, 429, retry_after="3600"))
    client = fincome_client(server.url)
    error, _ = ended_within(HANG_LIMIT, lambda: client.create("customers", {"id": "c"}))
    assert isinstance(error, fincome_errors.RateLimited), error
    assert "Fincome asked to wait 3,600 s" in str(error)
    assert "destination.fincome.retry_budget_seconds" in str(error)
    assert len(server.requests) == 1


@pytest.mark.parametrize("junk", ["inf", "Infinity", "1e400", "soon", "-5", "nan"])
def test_a_junk_retry_after_is_ignored_and_the_backoff_applies(
    serve: Callable[..., ScriptedServer], junk: str
) -> None:
    answers = iter([json_reply({}, 429, retry_after=junk)] * 2)

    def script(request: Request) -> Reply:
        return next(answers, json_reply({"data": [{"id": "c1"}], "next_page": None}))

    client = metronome_client(serve(script).url)
    pages: list[list[Any]] = []
    error, _ = ended_within(HANG_LIMIT, lambda: pages.extend(client.pages("/v1/customers")))
    assert error is None
    assert pages == [[{"id": "c1"}]]


# -- deadlines ------------------------------------------------------------------------------

DRIPS = {
    "body-forever": Reply(200, b'{"data": [', drip_seconds=0.2, drip_forever=True),
    "head-forever": Reply(200, b'{"data": [', drip_seconds=0.2, drip_head=True, drip_forever=True),
    # every byte well within the 2 s read timeout, the whole answer far beyond the deadline
    "under-read-timeout": Reply(200, b'{"data": [], "next_page": null}' + b" " * 30,
                                drip_seconds=0.5),
}  # fmt: skip


@pytest.mark.parametrize("drip", DRIPS.values(), ids=DRIPS.keys())
def test_a_dripping_answer_is_cut_at_the_attempt_deadline(
    serve: Callable[..., ScriptedServer], drip: Reply
) -> None:
    server = serve(lambda r: drip)
    client = metronome_client(server.url)
    error, seconds = ended_within(HANG_LIMIT, lambda: list(client.pages("/v1/customers")))
    assert isinstance(error, metronome.MetronomeConnectionError), error
    assert "ReadTimeout" in str(error)
    assert seconds < BUDGET + 5  # the whole request within its budget (slack for slow CI)
    assert 1 <= len(server.requests) <= 3  # attempts of 2 s each fit in 5 s


# -- listings -------------------------------------------------------------------------------


def test_a_cursor_that_changes_while_the_records_repeat_is_not_followed(
    serve: Callable[..., ScriptedServer],
) -> None:
    def script(request: Request) -> Reply:
        cursor = int(request.query.get("next_page", "0")) + 1
        return json_reply({"data": [{"id": "c1"}, {"id": "c2"}], "next_page": str(cursor)})

    server = serve(script)
    client = metronome_client(server.url)
    error, _ = ended_within(HANG_LIMIT, lambda: list(client.pages("/v1/customers")))
    assert isinstance(error, metronome.MetronomeResponseError), error
    assert "all listed before" in str(error)
    assert len(server.requests) == 2


def test_data_null_on_every_page_is_an_error_not_an_empty_list(
    serve: Callable[..., ScriptedServer],
) -> None:
    server = serve(lambda r: json_reply({"data": None, "next_page": None}))
    client = metronome_client(server.url, max_attempts=3)
    error, _ = ended_within(HANG_LIMIT, lambda: list(client.pages("/v1/customers")))
    assert isinstance(error, metronome.MetronomeResponseError), error
    assert "data: null" in str(error)
    assert len(server.requests) == 3  # retried like a 5xx first


# -- faults no retry can fix ----------------------------------------------------------------


def _connections(server: ScriptedServer) -> list[object]:
    """Every connection the server accepts, TLS hellos included (they never parse as a
    request); counted through socketserver's documented `verify_request` hook."""
    accepted: list[object] = []
    check = server._server.verify_request

    def counting(request: Any, address: Any) -> bool:
        accepted.append(address)
        return check(request, address)

    server._server.verify_request = counting  # type: ignore[method-assign,assignment]
    return accepted


def test_https_to_a_plain_http_port_is_a_setup_error_at_once(
    serve: Callable[..., ScriptedServer],
) -> None:
    server = serve(lambda r: json_reply({"data": []}))
    accepted = _connections(server)
    https = server.url.replace("http://", "https://")
    client = metronome_client(https)
    error, _ = ended_within(HANG_LIMIT, lambda: list(client.pages("/v1/customers")))
    assert len(accepted) <= 1, error  # not retried
    assert isinstance(error, metronome.MetronomeSetupError), error
    assert error.key == "SOURCES__METRONOME__BASE_URL"
    assert f"the server at 127.0.0.1:{server.port} did not answer TLS" in str(error)
    destination = fincome_client(https)
    error, _ = ended_within(HANG_LIMIT, lambda: destination.create("customers", {"id": "c"}))
    assert isinstance(error, fincome_errors.SetupFailed), error
    assert error.key == "destination.fincome.base_url"
    assert len(accepted) <= 2


@pytest.mark.parametrize("status", [404, 405])
def test_a_create_on_an_endpoint_that_does_not_exist_is_not_a_refused_record(
    serve: Callable[..., ScriptedServer], status: int
) -> None:
    server = serve(lambda r: json_reply({"detail": "Not Found"}, status))
    client = fincome_client(server.url)
    error, _ = ended_within(HANG_LIMIT, lambda: client.create("invoices", {"id": "inv_1"}))
    assert isinstance(error, fincome_errors.FincomeError), error
    assert not isinstance(error, fincome_errors.RequestRejected), error  # would be set aside
    assert isinstance(error, fincome_errors.EndpointMissing)
    assert error.key == "destination.fincome.paths.invoices"
    assert f"POST /invoices answered {status}" in str(error)


# -- stopping -------------------------------------------------------------------------------


@pytest.fixture
def stop_soon() -> Iterator[Callable[[], float]]:
    """Flips the process-wide stop switch half a second after it is called; returns when."""
    timers: list[threading.Timer] = []

    def arm() -> float:
        timers.append(threading.Timer(0.5, PROCESS_STOP.request, args=("SIGTERM",)))
        timers[-1].start()
        return time.monotonic() + 0.5

    yield arm
    for timer in timers:
        timer.cancel()
    PROCESS_STOP.reset()


def test_a_stop_abandons_a_request_that_hangs_after_the_grace(
    serve: Callable[..., ScriptedServer], stop_soon: Callable[[], float]
) -> None:
    server = serve(lambda r: Reply(hang_seconds=120))
    client = metronome_client(server.url, timeout_seconds=60, retry_budget_seconds=120)
    flipped_at = stop_soon()
    error, _ = ended_within(HANG_LIMIT, lambda: list(client.pages("/v1/customers")))
    assert type(error) is StopRequested, error  # not wrapped in a MetronomeError
    assert time.monotonic() - flipped_at < IN_FLIGHT_GRACE_SECONDS + STOP_SLACK
    assert len(server.requests) == 1


def test_a_stop_wakes_a_request_waiting_to_retry(
    serve: Callable[..., ScriptedServer], stop_soon: Callable[[], float]
) -> None:
    server = serve(lambda r: json_reply({"detail": "busy"}, 503, retry_after="30"))
    client = fincome.FincomeClient(
        FincomeSettings(api_key=KEY, base_url=server.url, requests_per_second=None),
        retry_policy=RetryPolicy(budget_seconds=120),
    )
    flipped_at = stop_soon()
    error, _ = ended_within(HANG_LIMIT, lambda: client.create("customers", {"id": "c"}))
    assert type(error) is StopRequested, error  # not wrapped in a FincomeError
    assert time.monotonic() - flipped_at < STOP_SLACK
    assert len(server.requests) == 1
