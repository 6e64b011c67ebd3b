"""Log lines: JSON objects with the summary's fields, text for people, secrets masked."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest
import typer

from pipelines.commands.common import ExitCode, Outcome, run_command
from pipelines.logs import (
    OWN_LOGGERS,
    JsonFormatter,
    TextFormatter,
    configure_logging,
    mask_secrets,
    redact,
    register_secret,
)


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("pipelines.push", logging.WARNING, __file__, 1, message, args, None)
    made.__dict__.update(extra)
    return made


@pytest.fixture
def json_logs() -> Iterator[None]:
    """Our loggers configured for JSON on stderr, put back as they were afterwards."""
    saved = {
        name: (list(logger.handlers), logger.propagate, logger.level)
        for name in OWN_LOGGERS
        for logger in [logging.getLogger(name)]
    }
    configure_logging("json")
    yield
    for name, (handlers, propagate, level) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.propagate = propagate
        logger.setLevel(level)


def test_a_json_line_has_time_level_logger_and_message() -> None:
    line = json.loads(JsonFormatter().format(record("pushed %d rows", 3)))
    assert line["level"] == "WARNING"
    assert line["logger"] == "pipelines.push"
    assert line["message"] == "pushed 3 rows"
    assert line["ts"].endswith("Z")
    assert len(line["ts"]) == len("2026-11-21T02:00:12.345Z")


def test_structured_fields_join_the_line_but_never_replace_its_own_keys() -> None:
    made = record("done", fields={"command": "sync", "counts": {"created": 2}, "level": "x"})
    line = json.loads(JsonFormatter().format(made))
    assert line["command"] == "sync"
    assert line["counts"] == {"created": 2}
    assert line["level"] == "WARNING"


def test_registered_secrets_and_secret_looking_fields_are_masked() -> None:
    register_secret("s3cr3t-value-42")
    text = redact(
        "key s3cr3t-value-42; Authorization: Bearer abc.def X-API-KEY=k3y api_token='t0k'"
    )
    assert "s3cr3t-value-42" not in text
    assert "abc.def" not in text
    assert "k3y" not in text
    assert "t0k" not in text
    assert text.count("***") == 4


def test_short_values_are_not_treated_as_secrets() -> None:
    register_secret("true")
    assert redact("all true") == "all true"


def test_both_formats_mask_secrets_even_in_tracebacks() -> None:
    register_secret("tok-9f8e7d6c")
    try:
        raise RuntimeError("refused tok-9f8e7d6c")
    except RuntimeError:
        failing = logging.LogRecord(
            "httpkit", logging.ERROR, __file__, 1, "call failed", (), sys.exc_info()
        )
    for formatter in (TextFormatter(), JsonFormatter()):
        text = formatter.format(failing)
        assert "tok-9f8e7d6c" not in text
        assert "RuntimeError" in text


@pytest.mark.usefixtures("json_logs")
def test_both_formats_escape_lone_surrogates_so_the_line_can_be_written() -> None:
    # found by fuzzing: a broken payload's field name reached a log line and the write failed
    for formatter in (TextFormatter(), JsonFormatter()):
        text = formatter.format(record("no type for column %s", "bad\ud800name"))
        assert "bad\\ud800name" in text
        text.encode("utf-8")  # would raise UnicodeEncodeError before


@pytest.mark.usefixtures("json_logs")  # installs the dlt filters, restores our loggers
def test_dlt_records_with_lone_surrogates_reach_dlt_s_own_handler_writable() -> None:
    written = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    handler = logging.StreamHandler(written)
    dlt_logger = logging.getLogger("dlt")
    dlt_logger.addHandler(handler)
    try:
        dlt_logger.warning("columns without a type: %s", "\udc80")
    finally:
        dlt_logger.removeHandler(handler)
    written.seek(0)
    assert written.read() == "columns without a type: \\udc80\n"


@pytest.mark.usefixtures("json_logs")
def test_every_run_logs_one_structured_summary_line(capsys: pytest.CaptureFixture[str]) -> None:
    outcome = Outcome(
        exit_code=ExitCode.REJECTS,
        payload={"data_dir": "/srv/data"},
        summary="created=2 rejects=1",
        counts={"created": 2, "rejects": 1},
    )
    with pytest.raises(typer.Exit):
        run_command("push", True, lambda: outcome)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert len(lines) == 1
    assert lines[0] | {"ts": None} == {
        "ts": None,
        "level": "INFO",
        "logger": "billing_sync",
        "message": "push rejects (exit 3): created=2 rejects=1",
        "command": "push",
        "status": "rejects",
        "exit_code": 3,
        "counts": {"created": 2, "rejects": 1},
        "data_dir": "/srv/data",
    }


@pytest.mark.usefixtures("json_logs")
def test_a_failed_run_logs_its_error_as_a_field(capsys: pytest.CaptureFixture[str]) -> None:
    def failing() -> Outcome:
        raise RuntimeError("boom")

    with pytest.raises(typer.Exit):
        run_command("extract", True, failing)
    (line,) = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert line["level"] == "ERROR"
    assert line["status"] == "failed"
    assert line["exit_code"] == 1
    assert line["error"].startswith("RuntimeError: boom")


TRAILING_NEWLINE = 'tok-Ab3"x\\q\n'  # a secret mounted from a file, quotes and a backslash


@pytest.mark.parametrize(
    "quoted",
    [
        pytest.param(TRAILING_NEWLINE, id="as is"),
        pytest.param(TRAILING_NEWLINE.strip(), id="stripped"),
        pytest.param(repr(TRAILING_NEWLINE), id="repr"),
        pytest.param(f"Illegal header value {TRAILING_NEWLINE.encode()!r}", id="bytes repr"),
        pytest.param(json.dumps({"error": TRAILING_NEWLINE}), id="json"),
        pytest.param(TRAILING_NEWLINE.encode("unicode_escape").decode(), id="escaped"),
        pytest.param("tok-Ab3%22x%5Cq%0A", id="url encoded"),
    ],
)
def test_every_form_of_a_registered_secret_is_masked(quoted: str) -> None:
    register_secret(TRAILING_NEWLINE)
    assert "tok-Ab3" not in redact(f"failed: {quoted} (end)")
    assert "tok-Ab3" not in mask_secrets(f"failed: {quoted} (end)")


def test_masking_secrets_keeps_a_json_document_valid() -> None:
    register_secret("fkey-masked-1234")
    document = json.dumps({"api_key": 5, "error": "fkey-masked-1234 refused", "secret": None})
    masked = json.loads(mask_secrets(document))
    assert masked == {"api_key": 5, "error": "*** refused", "secret": None}
