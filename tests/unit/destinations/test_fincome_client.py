"""The Fincome client over a scripted transport: typed errors, upserts, retries, paths."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest

from destinations.fincome import (
    AuthenticationFailed,
    Conflict,
    ConnectionFailed,
    FincomeClient,
    FincomeSettings,
    NotFound,
    RateLimited,
    RequestRejected,
    ServerError,
    UnexpectedResponse,
    ValidationFailed,
)
from destinations.fincome.errors import EndpointMissing, SetupFailed
from destinations.fincome.settings import SettingsProblem
from httpkit import RetryPolicy, StopRequested

KEY = "sk_live_very_secret_key_123"
BASE = "https://fincome.test/product"
Handler = Callable[[httpx.Request], httpx.Response]


class Script:
    """Answers requests from a queue of responses (the last one repeats); records calls."""

    def __init__(self, *responses: httpx.Response | Exception) -> None:
        self.responses = list(responses)
        self.calls: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        answer = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def sent(self) -> list[tuple[str, str]]:
        return [(r.method, r.url.path) for r in self.calls]


def reply(status: int, payload: Any = None, **headers: str) -> httpx.Response:
    content = b"" if payload is None else orjson.dumps(payload)
    return httpx.Response(status, content=content, headers=headers)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(sleeps: list[float]) -> Iterator[Callable[..., FincomeClient]]:
    clients: list[FincomeClient] = []

    def make(handler: Handler, **options: Any) -> FincomeClient:
        policy = options.pop(
            "retry_policy", RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.001)
        )
        settings = FincomeSettings(
            **{"api_key": KEY, "base_url": BASE, "requests_per_second": None, **options}
        )
        client = FincomeClient(
            settings,
            retry_policy=policy,
            transport=httpx.MockTransport(handler),
            sleep=sleeps.append,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, AuthenticationFailed),
        (403, AuthenticationFailed),
        (400, RequestRejected),
        (404, NotFound),
        (409, Conflict),
        (422, ValidationFailed),
        (429, RateLimited),
        (500, ServerError),
        (503, ServerError),
        (302, UnexpectedResponse),
    ],
)
def test_each_failure_class_has_its_own_error(
    make_client: Callable[..., FincomeClient], status: int, error: type[Exception]
) -> None:
    client = make_client(Script(reply(status, {"detail": "nope"})))
    with pytest.raises(error) as raised:
        client.get("customers", "cus_1")
    assert str(raised.value).startswith(f"GET /customers/cus_1 answered {status}: ")
    assert "nope" in str(raised.value)


def test_transport_errors_become_connection_failed_after_retries(
    make_client: Callable[..., FincomeClient],
) -> None:
    script = Script(httpx.ConnectError("connection refused"))
    client = make_client(script)
    with pytest.raises(ConnectionFailed, match=r"GET /customers/c failed: ConnectError"):
        client.get("customers", "c")
    assert len(script.calls) == 3
    assert client.stats.snapshot()["by_status"] == {"ConnectError": 3}


def test_a_422_carries_fincome_detail_and_a_readable_reason(
    make_client: Callable[..., FincomeClient],
) -> None:
    detail = [
        {"loc": ["body", "customer_id"], "msg": "customer cus_x does not exist", "type": "ref"},
        {"loc": ["body", "status"], "msg": "not a valid status", "type": "enum"},
    ]
    client = make_client(Script(reply(422, {"detail": detail})))
    with pytest.raises(ValidationFailed) as raised:
        client.create("invoices", {"id": "inv_1"})
    assert raised.value.detail == detail
    assert raised.value.status_code == 422
    assert raised.value.reason == (
        "Fincome refused the body: body.customer_id: customer cus_x does not exist (+1 more)"
    )


def test_the_api_key_never_appears_in_errors_even_when_the_server_echoes_it(
    make_client: Callable[..., FincomeClient],
) -> None:
    echoed = {"detail": [{"loc": ["header"], "msg": f"key {KEY} refused", "type": "auth"}]}
    for response, error in [
        (reply(401, {"detail": f"bad key {KEY}"}), AuthenticationFailed),
        (reply(422, echoed), ValidationFailed),
        (httpx.ConnectError(f"proxy said {KEY}"), ConnectionFailed),
    ]:
        client = make_client(Script(response))
        with pytest.raises(error) as raised:
            client.create("customers", {"id": "c"})
        assert KEY not in str(raised.value)
        assert KEY not in repr(getattr(raised.value, "detail", None))
        assert "[redacted]" in str(raised.value)


def test_the_key_travels_in_the_configured_header_only(
    make_client: Callable[..., FincomeClient],
) -> None:
    script = Script(reply(201, {"id": "c"}))
    make_client(script, api_key_header="Authorization-Key").create("customers", {"id": "c"})
    [request] = script.calls
    assert request.headers["authorization-key"] == KEY
    assert "x-api-key" not in request.headers
    assert KEY not in str(request.url)


def test_bodies_carry_exact_decimals(make_client: Callable[..., FincomeClient]) -> None:
    script = Script(reply(201))
    body = {"id": "l1", "amount": Decimal("12.345"), "tax_amount": Decimal("0")}
    make_client(script).create("credit_note_line_items", body)
    assert script.calls[0].content == b'{"id":"l1","amount":12.345,"tax_amount":0}'


def test_a_create_that_meets_409_becomes_an_update_with_its_lines_upserted(
    make_client: Callable[..., FincomeClient],
) -> None:
    script = Script(
        reply(409, {"detail": "exists"}),  # POST /invoices
        reply(202, {"id": "inv_1"}),  # PATCH /invoices/inv_1
        reply(409, {"detail": "exists"}),  # POST /invoice_line_items (L0)
        reply(202, {}),  # PATCH L0
        reply(201, {}),  # POST L1
    )
    lines = [{"id": "inv_1:L0", "invoice_id": "inv_1"}, {"id": "inv_1:L1", "invoice_id": "inv_1"}]
    body = {"id": "inv_1", "status": "paid", "invoice_line_items": lines}
    result = make_client(script).create("invoices", body)
    assert result.action == "updated"
    assert script.sent == [
        ("POST", "/product/invoices"),
        ("PATCH", "/product/invoices/inv_1"),
        ("POST", "/product/invoice_line_items"),
        ("PATCH", "/product/invoice_line_items/inv_1:L0"),
        ("POST", "/product/invoice_line_items"),
    ]
    assert orjson.loads(script.calls[1].content) == {"id": "inv_1", "status": "paid"}


def test_an_update_that_meets_404_becomes_a_create(
    make_client: Callable[..., FincomeClient],
) -> None:
    script = Script(reply(404, {"detail": "unknown"}), reply(201, {"id": "inv_1"}))
    full = {"id": "inv_1", "status": "void", "invoice_line_items": [{"id": "inv_1:L0"}]}
    result = make_client(script).update("invoices", "inv_1", {"status": "void"}, create_body=full)
    assert result.action == "created"
    assert result.item == {"id": "inv_1"}
    assert script.sent == [("PATCH", "/product/invoices/inv_1"), ("POST", "/product/invoices")]
    assert orjson.loads(script.calls[1].content) == full


def test_an_update_without_create_body_recreates_from_its_own_body(
    make_client: Callable[..., FincomeClient],
) -> None:
    script = Script(reply(404), reply(201))
    make_client(script).update("products", "p1", {"name": "Seats"})
    assert orjson.loads(script.calls[1].content) == {"name": "Seats", "id": "p1"}


def test_a_delete_of_something_already_gone_is_done(
    make_client: Callable[..., FincomeClient],
) -> None:
    assert make_client(Script(reply(404))).delete("subscriptions", "s1").action == "absent"
    assert make_client(Script(reply(204))).delete("subscriptions", "s1").action == "deleted"


def test_429_waits_the_servers_retry_after_and_slows_the_pacer(
    make_client: Callable[..., FincomeClient], sleeps: list[float]
) -> None:
    script = Script(reply(429, {"message": "slow down"}, **{"retry-after": "7"}), reply(201))
    client = make_client(script, requests_per_second=1000.0)
    assert client.create("customers", {"id": "c"}).action == "created"
    assert sleeps[0] == 7.0
    assert client.pacer.current_rate is not None
    assert client.pacer.current_rate < 1000.0  # halved by the 429, partly won back since
    assert client.stats.snapshot()["throttled"] == 1


def test_server_errors_are_retried_then_raised(
    make_client: Callable[..., FincomeClient],
) -> None:
    flaky = Script(reply(502), reply(201))
    assert make_client(flaky).create("customers", {"id": "c"}).action == "created"
    down = Script(reply(503, {"message": "down"}))
    with pytest.raises(ServerError, match="POST /customers answered 503"):
        make_client(down).create("customers", {"id": "c"})
    assert len(down.calls) == 3


def test_plain_http_is_refused_unless_loopback_or_allowed() -> None:
    with pytest.raises(SettingsProblem, match=r"destination\.fincome\.base_url plain http"):
        FincomeClient(FincomeSettings(api_key=KEY, base_url="http://fincome.example.com"))
    FincomeClient(FincomeSettings(api_key=KEY, base_url="http://127.0.0.1:9")).close()
    lan = FincomeSettings(api_key=KEY, base_url="http://fincome.lan", allow_insecure_http=True)
    FincomeClient(lan).close()


def test_bad_knobs_name_their_key() -> None:
    with pytest.raises(ValueError, match=r"destination\.fincome\.api_key is empty"):
        FincomeClient(FincomeSettings(api_key=""))
    with pytest.raises(ValueError, match=r"destination\.fincome\.max_concurrency"):
        FincomeClient(FincomeSettings(api_key=KEY, max_concurrency=0))
    with pytest.raises(ValueError, match=r"destination\.fincome\.paths has unknown endpoint"):
        FincomeClient(FincomeSettings(api_key=KEY, paths={"invoice_lines": "/x"}))


def test_collection_paths_are_configurable(make_client: Callable[..., FincomeClient]) -> None:
    script = Script(reply(202))
    client = make_client(script, paths={"invoice_line_items": "/v2/invoice_lines/"})
    client.update("invoice_line_items", "inv/1:L0", {"description": "x"})
    assert script.calls[0].url.raw_path == b"/product/v2/invoice_lines/inv%2F1:L0"


def test_concurrency_is_bounded_across_threads(make_client: Callable[..., FincomeClient]) -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.01)
        with lock:
            in_flight -= 1
        return reply(201)

    client = make_client(slow, max_concurrency=3)
    threads = [
        threading.Thread(target=client.create, args=("customers", {"id": str(i)}))
        for i in range(12)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == 3
    assert client.stats.snapshot()["by_status"] == {"201": 12}


def test_views_query_pages_until_the_last_page(make_client: Callable[..., FincomeClient]) -> None:
    pages = [
        {"rows": [{"n": 1}, {"n": 2}], "page": {"limit": 2, "offset": 0, "has_more": True}},
        {"rows": [{"n": 3}, {"n": 4.10}], "page": {"limit": 2, "offset": 2, "has_more": True}},
        {"rows": [], "page": {"limit": 2, "offset": 4, "has_more": False}},
    ]
    script = Script(*(reply(200, page) for page in pages))
    rows = list(
        make_client(script).views.query(
            "invoices", filters=[{"field": "status", "op": "eq", "value": "paid"}], page_size=2
        )
    )
    assert rows == [{"n": 1}, {"n": 2}, {"n": 3}, {"n": Decimal("4.1")}]
    offsets = [request.url.params["offset"] for request in script.calls]
    assert offsets == ["0", "2", "4"]
    assert script.calls[0].url.path == "/product/views/invoices/query"
    assert script.calls[0].url.params["filters"] == '[{"field":"status","op":"eq","value":"paid"}]'


def test_metrics_send_iso_dates_and_keep_amounts_exact(
    make_client: Callable[..., FincomeClient],
) -> None:
    from datetime import date

    series = {"slug": "mrr", "series": [{"points": [{"value": 1234.56}]}]}
    script = Script(reply(200, series))
    result = make_client(script).metrics.get(
        "mrr", date_start=date(2024, 1, 1), date_end="2024-06-30", dimension="currency"
    )
    assert result["series"][0]["points"][0]["value"] == Decimal("1234.56")
    params = dict(script.calls[0].url.params)
    assert params == {
        "date_start": "2024-01-01",
        "date_end": "2024-06-30",
        "date_step": "month",
        "dimension": "currency",
    }


def test_a_read_that_is_not_json_is_an_unexpected_response(
    make_client: Callable[..., FincomeClient],
) -> None:
    client = make_client(Script(httpx.Response(200, content=b"<html>maintenance</html>")))
    with pytest.raises(UnexpectedResponse, match="not JSON"):
        client.views.list()


@pytest.mark.parametrize(
    ("write", "answers", "sent"),
    [
        ("create", [reply(404)], [("POST", "/product/customers")]),
        ("create", [reply(405)], [("POST", "/product/customers")]),
        ("update", [reply(405)], [("PATCH", "/product/customers/c")]),
        # an update that meets 404 becomes a create, so a wrong base path ends here too
        ("update", [reply(404), reply(404)],
         [("PATCH", "/product/customers/c"), ("POST", "/product/customers")]),
        ("delete", [reply(405)], [("DELETE", "/product/customers/c")]),
    ],
)  # fmt: skip
def test_a_write_to_an_endpoint_that_does_not_exist_is_a_configuration_fault(
    make_client: Callable[..., FincomeClient],
    write: str,
    answers: list[httpx.Response],
    sent: list[tuple[str, str]],
) -> None:
    script = Script(*answers)
    client = make_client(script)
    calls = {
        "create": lambda: client.create("customers", {"id": "c"}),
        "update": lambda: client.update("customers", "c", {"name": "n"}),
        "delete": lambda: client.delete("customers", "c"),
    }
    with pytest.raises(EndpointMissing) as raised:
        calls[write]()
    assert not isinstance(raised.value, RequestRejected)  # never set aside as one record's
    assert raised.value.key == "destination.fincome.paths.customers"
    assert "check destination.fincome.base_url and [destination.fincome.paths]" in str(raised.value)
    assert script.sent == sent


def test_a_missing_item_is_still_a_404_for_reads_and_deletes(
    make_client: Callable[..., FincomeClient],
) -> None:
    with pytest.raises(NotFound):
        make_client(Script(reply(404))).get("customers", "c")
    assert make_client(Script(reply(404))).delete("customers", "c").action == "absent"


def test_a_retry_after_beyond_the_budget_fails_the_write_now(
    make_client: Callable[..., FincomeClient], sleeps: list[float]
) -> None:
    script = Script(reply(429, **{"retry-after": "3600"}), reply(201))
    client = make_client(script, retry_policy=RetryPolicy(budget_seconds=120))
    with pytest.raises(RateLimited) as raised:
        client.create("customers", {"id": "c"})
    message = str(raised.value)
    assert message.startswith("POST /customers: Fincome asked to wait 3,600 s (Retry-After)")
    assert "raise destination.fincome.retry_budget_seconds" in message
    assert sleeps == []
    assert len(script.calls) == 1


def test_an_illegal_header_fails_at_once_without_quoting_the_key(
    make_client: Callable[..., FincomeClient],
) -> None:
    script = Script(httpx.LocalProtocolError(f"Illegal header value b'{KEY}\\n'"))
    client = make_client(script)
    with pytest.raises(SetupFailed) as raised:
        client.create("customers", {"id": "c"})
    assert raised.value.key == "destination.fincome.api_key"
    assert KEY not in str(raised.value)
    assert raised.value.__context__ is None  # nor in the chain a traceback would show
    assert raised.value.__cause__ is None
    assert len(script.calls) == 1


def test_a_stop_passes_through_unchanged(make_client: Callable[..., FincomeClient]) -> None:
    stop = StopRequested("stopping (SIGTERM): a request still in flight was abandoned")
    with pytest.raises(StopRequested):
        make_client(Script(stop)).create("customers", {"id": "c"})


@pytest.mark.parametrize(
    "pages",
    [
        [{"rows": [{"n": 1}], "page": {"has_more": True}}] * 3,
        [{"rows": [{"n": 1}], "page": {"has_more": True}}, [{"n": 2}]],
        [{"rows": {"n": 1}}],
    ],
)
def test_views_query_refuses_pages_that_make_no_progress_or_are_not_pages(
    make_client: Callable[..., FincomeClient], pages: list[Any]
) -> None:
    script = Script(*(reply(200, page) for page in pages))
    with pytest.raises(UnexpectedResponse, match="views/invoices/query"):
        list(make_client(script).views.query("invoices"))
    assert len(script.calls) <= 2
