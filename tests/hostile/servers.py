"""Small hostile HTTP servers on loopback: each answers as a script says, however badly.

`ScriptedServer(script)` is a threaded HTTP/1.1 server on 127.0.0.1 whose every request is
answered by `script(request) -> Reply`. A reply can be anything an attacker or a broken proxy
would send: any status and headers (a `Retry-After` of a year, of `inf`), a body dripped one
byte at a time (headers included, if asked), or a connection closed mid-answer. `forward`
relays a request to an upstream server (one of the emulators), so a script can pass most
traffic through and misbehave on just the requests it picks:

    def script(request: Request) -> Reply:
        if request.method == "POST":
            return Reply(400, body=b'{"detail": "nope"}')
        return forward(request, fincome.url)

    with ScriptedServer(script) as server:
        ...  # point billing-sync at server.url

Every request is recorded (`server.requests`); `close()` also ends any drip in progress, so a
test that gave up waiting leaves no thread writing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import orjson

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}
)


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without the query
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body) if self.body else None


@dataclass(frozen=True)
class Reply:
    """What the server sends back.

    `drip_seconds` sends the body one byte at a time with that pause between bytes (forever,
    when `drip_forever`); `drip_head` drips the status line and headers too. `hang_seconds`
    waits before answering anything. `drop` closes the connection without an answer.
    """

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    drip_seconds: float | None = None
    drip_head: bool = False
    drip_forever: bool = False
    hang_seconds: float = 0.0
    drop: bool = False


def json_reply(payload: Any, status: int = 200, **headers: str) -> Reply:
    named = {name.replace("_", "-"): value for name, value in headers.items()}
    return Reply(status, orjson.dumps(payload), {"content-type": "application/json", **named})


Script = Callable[[Request], Reply]


def forward(request: Request, upstream: str) -> Reply:
    """`request` as `upstream` answers it (an emulator, usually)."""
    headers = {k: v for k, v in request.headers.items() if k not in HOP_BY_HOP | {"host"}}
    answer = httpx.request(
        request.method,
        upstream.rstrip("/") + request.path,
        params=request.query,
        content=request.body or None,
        headers=headers,
        timeout=60,
    )
    kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
    return Reply(answer.status_code, answer.content, kept)


class ScriptedServer:
    """A loopback HTTP server answering every request with `script(request)`."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[Request] = []
        self.closing = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def seen(self, method: str | None = None, path_prefix: str = "") -> list[Request]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and r.path.startswith(path_prefix)
            ]

    def record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.closing.set()
        self._server.shutdown()
        self._server.server_close()


def _handler_for(owner: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests read `owner.requests` instead."""

        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            request = Request(
                method=self.command,
                path=parts.path,
                query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            owner.record(request)
            reply = owner.script(request)
            if reply.hang_seconds and owner.closing.wait(reply.hang_seconds):
                return
            if reply.drop:
                self.close_connection = True
                return
            self._send(reply)

        def _send(self, reply: Reply) -> None:
            head_lines = [f"HTTP/1.1 {reply.status} {_reason(reply.status)}"]
            headers = {"content-length": str(len(reply.body)), **reply.headers}
            if reply.drip_forever:
                headers.pop("content-length")
                headers["connection"] = "close"
            head_lines += [f"{name}: {value}" for name, value in headers.items()]
            head = ("\r\n".join(head_lines) + "\r\n\r\n").encode("latin-1")
            try:
                if reply.drip_seconds is None:
                    self.wfile.write(head + reply.body)
                    return
                if reply.drip_head:
                    self._drip(head, reply.drip_seconds)
                else:
                    self.wfile.write(head)
                self._drip(reply.body, reply.drip_seconds)
                while reply.drip_forever and not owner.closing.is_set():
                    self._drip(b" ", reply.drip_seconds)
            except OSError:  # the client gave up: that is the point of most drips
                self.close_connection = True
            if reply.drip_forever:
                self.close_connection = True

        def _drip(self, data: bytes, pause: float) -> None:
            for index in range(len(data)):
                if owner.closing.is_set():
                    raise OSError("server closing")
                self.wfile.write(data[index : index + 1])
                self.wfile.flush()
                time.sleep(pause)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

    return Handler


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Whatever"
