"""Our log lines on stderr, as text for people or JSON for machines, never with a secret.

`--log-format text` (default): `2026-11-21T02:00:12 INFO billing_sync: sync ok (exit 0): ...`.
`--log-format json`: one object per line,

    {"ts": "2026-11-21T02:00:12.345Z", "level": "INFO", "logger": "billing_sync",
     "message": "sync ok (exit 0): ...", ...structured fields}

where the run's summary line adds `command`, `status`, `exit_code`, `data_dir` (when known)
and `counts` (`{"created": 3, "rejects": 0, ...}`, integers only), and a failure logged with
--verbose adds `exc_info` (the traceback as text). With --verbose each HTTP attempt of
either API is one DEBUG line (`httpkit.requestlog`: `GET /v1/customers -> 200 in 41 ms`,
in JSON with `method`, `path`, `http_status`, `ms`): never a query string, header or body.

Redaction is the safety net behind "secrets never reach a log": every formatted line has the
values of the secrets in use replaced by `***` (those `register_secret` was given and those
of secret-looking environment variables), in every form a message can quote them (repr of
text or bytes, JSON or URL escaped: `secret_forms`), and so are the values of
`Authorization`, `X-API-KEY`, `api_key=` / `api_token=` style fields. The same `redact` runs
over what a command prints (its JSON object and its tables) and what the run history stores.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from httpkit import requestlog, secret_forms

LogFormat = Literal["text", "json"]
OWN_LOGGERS = ("billing_sync", "pipelines", "sources", "destinations", "httpkit")
# `extra={"fields": {...}}` adds structured fields in JSON mode (httpkit's request lines too)
FIELDS_ATTRIBUTE = requestlog.FIELDS_ATTRIBUTE
REDACTED = "***"
MIN_SECRET_LENGTH = 6  # shorter values ("true", "1") would blank out ordinary words
SECRET_ENV_NAME = re.compile(r"(TOKEN|API_KEY|SECRET|PASSWORD)$")
# `(?<!__)`: an environment variable's name (`SOURCES__METRONOME__API_TOKEN: not set`) is
# followed by prose, not by its value; values of secret variables are masked as values anyway
SECRET_FIELD = re.compile(
    r"(?i)(?<!__)((?:authorization|x-api-key|api[_-]?key|api[_-]?token|password|secret)"
    r"[\"']?\s*[:=]\s*[\"']?(?:bearer\s+)?)([^\s\"',;}]+)"
)

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Make sure this value, in any form a message can quote it, is never written out
    (settings loaders call it; stdout, logs and the run history are redacted)."""
    if not value:
        return
    forms = {form for form in secret_forms(value) if len(form) >= MIN_SECRET_LENGTH}
    with _secrets_lock:
        _secrets.update(forms)


def redact(text: str) -> str:
    """`text` with every known secret value and every secret-looking field value masked."""
    return SECRET_FIELD.sub(lambda match: match.group(1) + REDACTED, mask_secrets(text))


def mask_secrets(text: str) -> str:
    """`text` with every form of every known secret value masked, and nothing else touched:
    a JSON document stays valid JSON."""
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)  # longest first: no partial leftovers
    for secret in known:
        text = text.replace(secret, REDACTED)
    return text


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        return writable(redact(super().format(record)))


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts (UTC, ms), level, logger, message, structured fields."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC)
        line: dict[str, Any] = {
            "ts": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, FIELDS_ATTRIBUTE, None)
        if isinstance(fields, dict):
            line.update({k: v for k, v in fields.items() if k not in line})
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return writable(redact(json.dumps(line, default=str, ensure_ascii=False)))


def writable(text: str) -> str:
    """`text` with lone surrogates escaped (`\\ud800`): a field name or id from a broken
    payload can carry one, and writing it to a UTF-8 stream would fail the whole log line."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time of each record.

    Progress bars and test runners swap `sys.stderr` while a command runs; a handler that
    kept the stream of the moment it was made would write around them.
    """

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        """StreamHandler sets a stream in its constructor; ours is always the current one."""


_handler = StderrHandler()
_handler.setFormatter(TextFormatter())


def configure_logging(log_format: LogFormat = "text") -> None:
    """Send our loggers to stderr in `log_format`: warnings, and each run's summary line.

    The handler sits on our own loggers, not on the root: with Airflow installed, dlt imports
    it while reading configuration and Airflow's logging setup replaces the root handlers.
    """
    set_log_format(log_format)
    for name, value in os.environ.items():
        if SECRET_ENV_NAME.search(name.upper()):
            register_secret(value)
    for name in OWN_LOGGERS:
        logger = logging.getLogger(name)
        if _handler not in logger.handlers:
            logger.addHandler(_handler)
        logger.propagate = False
        logger.setLevel(logging.WARNING)
    logging.getLogger("billing_sync").setLevel(logging.INFO)
    for dlt_filter in (_dlt_tracebacks, _dlt_writable):
        if dlt_filter not in logging.getLogger("dlt").filters:
            logging.getLogger("dlt").addFilter(dlt_filter)


def set_log_format(log_format: LogFormat) -> None:
    """`--log-format`: switch the stderr handler's format (before the command logs)."""
    _handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())


def set_verbose(verbose: bool) -> None:
    """--verbose: everything down to DEBUG, tracebacks of unexpected failures included."""
    _dlt_tracebacks.verbose = verbose
    if verbose:
        for name in OWN_LOGGERS:
            logging.getLogger(name).setLevel(logging.DEBUG)


class _TracebacksOnlyWhenVerbose(logging.Filter):
    """Drops dlt's records that carry a traceback, unless --verbose.

    dlt logs a failed load job twice with its traceback, on its own stderr handler; the run's
    summary line already says in one line what failed (a reason the destination gave).
    """

    verbose = False

    def filter(self, record: logging.LogRecord) -> bool:
        if self.verbose:
            return True
        return record.exc_info is None and "Traceback (most recent" not in record.getMessage()


_dlt_tracebacks = _TracebacksOnlyWhenVerbose()


class _WritableMessages(logging.Filter):
    """Escapes lone surrogates in dlt's records before dlt's own stderr handler writes them
    (dlt names a column it could not type, and a broken payload's field name can hold one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: the handler reports it as usual
            return True
        record.msg, record.args = writable(message), ()
        return True


_dlt_writable = _WritableMessages()
