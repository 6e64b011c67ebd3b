"""Run an ASGI app as a real HTTP server on a free loopback port (thread or subprocess)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import uvicorn

READY_PREFIX = "EMULATOR READY "


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _config(app: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        loop="uvloop",
        http="httptools",
        timeout_keep_alive=30,
    )


@dataclass
class ThreadServer:
    """A uvicorn server on a background thread; `url` is ready when the object exists."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> ThreadServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_thread(app: Any, *, host: str = "127.0.0.1", port: int = 0) -> ThreadServer:
    sock = _bind(host, port)
    server = uvicorn.Server(_config(app))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("emulator thread failed to start")
        time.sleep(0.01)
    return ThreadServer(url=_url(sock), server=server, thread=thread)


def serve_foreground(
    app: Any, *, host: str, port: int, announce: Callable[[str], None] = print
) -> None:
    """Serve until interrupted; announce the URL (a port of 0 picks a free one)."""
    sock = _bind(host, port)
    announce(f"{READY_PREFIX}{_url(sock)}")
    uvicorn.Server(_config(app)).run(sockets=[sock])


@dataclass
class ProcessServer:
    """An emulator in its own process (its own core), started with `python -m sandbox`."""

    url: str
    process: subprocess.Popen[str]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> ProcessServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def spawn(kind: str, args: Sequence[str] = (), *, timeout: float = 120.0) -> ProcessServer:
    """Start `python -m sandbox KIND --port 0 ARGS` and wait for it to announce its URL."""
    command = [sys.executable, "-m", "sandbox", kind, "--port", "0", *args]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    for line in process.stdout:
        if line.startswith(READY_PREFIX):
            # keep draining stdout so the child never blocks on a full pipe
            threading.Thread(target=_drain, args=(process,), daemon=True).start()
            return ProcessServer(url=line[len(READY_PREFIX) :].strip(), process=process)
        if time.monotonic() > deadline:
            break
    process.kill()
    raise RuntimeError(f"emulator {kind!r} did not start (exit code {process.wait()})")


def _drain(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    with contextlib.suppress(ValueError, OSError):
        for _ in process.stdout:
            pass


@contextlib.contextmanager
def spawned(kind: str, args: Sequence[str] = ()) -> Iterator[ProcessServer]:
    server = spawn(kind, args)
    try:
        yield server
    finally:
        server.stop()
