"""DuckDB's memory cap: `[data_dir] duckdb_memory_limit`, and what a run says when it is hit."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.commands.common import ExitCode, classify
from pipelines.config import ConfigError
from pipelines.datadir import resolve_data_dir
from pipelines.sizes import size_bytes

KEY = "DATA_DIR__DUCKDB_MEMORY_LIMIT"


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("122.0 MiB", 127_926_272),  # as DuckDB shows its setting
        ("0 bytes", 0),
        ("128MiB", 134_217_728),
        ("134217728B", 134_217_728),  # plain bytes, as DuckDB takes them too
        ("2gb", 2_000_000_000),
        ("lots", None),
        ("512", None),
        ("-1GB", None),
    ],
)
def test_sizes_read_from_people_and_from_duckdb(text: str, size: int | None) -> None:
    assert size_bytes(text) == size


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "128.0 MiB"),  # the default
        ("256MiB", "256.0 MiB"),
        (" 1 GiB ", "1.0 GiB"),
        ("0.5gib", "512.0 MiB"),
        ("2GB", "1.8 GiB"),  # decimal units, as DuckDB reads them
    ],
)
def test_the_data_dir_connection_takes_the_configured_cap(
    value: str | None, shown: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if value is not None:
        monkeypatch.setenv(KEY, value)
    with resolve_data_dir(tmp_path).connect() as db:
        [(limit,)] = db.execute("SELECT current_setting('memory_limit')").fetchall()
    assert limit == shown


def test_the_push_load_runs_under_a_lower_cap_and_the_full_one_comes_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY, "256MiB")
    data_dir = resolve_data_dir(tmp_path)
    with data_dir.connect() as db, duckdb.connect(str(data_dir.duckdb_path)) as ledger:
        with data_dir.lower_cap(db):
            # the cap is the database's: the ledger's own connection is under it too
            [(lowered,)] = ledger.execute("SELECT current_setting('memory_limit')").fetchall()
        [(restored,)] = ledger.execute("SELECT current_setting('memory_limit')").fetchall()
    assert (lowered, restored) == ("128.0 MiB", "256.0 MiB")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("lots", "must be a size such as 256MiB or 1GB"),
        ("512", "must be a size such as 256MiB or 1GB"),  # no unit: bytes or megabytes?
        ("-1GB", "must be a size such as 256MiB or 1GB"),
        ("64MiB", "must be at least 128MiB"),
    ],
)
def test_an_unusable_cap_is_a_config_error_naming_the_key(
    value: str, problem: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY, value)
    with pytest.raises(ConfigError) as raised:
        resolve_data_dir(tmp_path)
    assert (raised.value.key, str(raised.value)) == (KEY, f"{KEY}: {problem}")


def test_running_out_names_the_key_that_raises_the_cap() -> None:
    db = duckdb.connect()
    db.execute("SET memory_limit = '2MB'")
    try:
        try:
            db.execute("SELECT list(i) FROM range(10000000) t(i)").fetchall()
        except duckdb.OutOfMemoryException as exc:
            raise RuntimeError("push plan failed") from exc
    except RuntimeError as wrapped:
        code, message = classify(wrapped)
    assert code == ExitCode.FAILED
    assert message.startswith("Out of Memory Error: ")
    assert f"raise DuckDB's cap with {KEY}" in message
    assert "SET memory_limit" not in message  # DuckDB's advice (after its first line) is not ours
