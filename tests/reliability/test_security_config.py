"""Configuration safety: bad or missing values exit 2 naming their key, before any request;
secrets are read only from `.dlt/secrets.toml` or the environment; plain http is refused for
non-loopback hosts unless `allow_insecure_http` says so; TLS certificates are verified.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import httpx
import pytest

from destinations.fincome import FincomeClient, FincomeSettings
from destinations.fincome.errors import SetupFailed
from httpkit import RetryPolicy
from pipelines.config import load_fincome_settings, load_metronome_settings
from sources.metronome import MetronomeSettings
from sources.metronome.client import MetronomeClient, MetronomeSetupError
from tests.fixtures.fincome import FincomeEmulator
from tests.fixtures.metronome import MetronomeEmulator
from tests.reliability.sync_runs import (
    EmulatorControl,
    pair_env,
    point_cli_at,
    process_env,
    run_cli,
    sync_in_process,
)
from tests.reliability.tls_server import self_signed_server

UNSET = None
BAD_VALUES = [
    ("SOURCES__METRONOME__API_TOKEN", UNSET),
    ("DESTINATION__FINCOME__API_KEY", UNSET),
    ("DESTINATION__FINCOME__API_KEY", ""),
    ("SOURCES__METRONOME__PAGE_SIZE", "500"),
    ("SOURCES__METRONOME__MAX_CONCURRENCY", "many"),
    ("SOURCES__METRONOME__BASE_URL", "http://metronome.example.com"),
    ("DESTINATION__FINCOME__BASE_URL", "http://fincome.example.com/product"),
    ("DESTINATION__FINCOME__BASE_URL", "ftp://127.0.0.1/product"),
    ("DESTINATION__FINCOME__TIMEOUT_SECONDS", "-1"),
    ("DESTINATION__FINCOME__MAX_ATTEMPTS", "0"),
    ("DESTINATION__FINCOME__BATCH_SIZE", "0"),
    ("DESTINATION__FINCOME__ALLOW_INSECURE_HTTP", "maybe"),
    ("MAPPING__CREDIT_NOTE_SIGN", "sideways"),
    ("DATA_DIR__DUCKDB_MEMORY_LIMIT", "lots"),
    ("DATA_DIR__DUCKDB_MEMORY_LIMIT", "64MiB"),
]


@pytest.fixture
def emulators(
    metronome_api: MetronomeEmulator, fincome_api: FincomeEmulator, monkeypatch: pytest.MonkeyPatch
) -> tuple[EmulatorControl, EmulatorControl]:
    return point_cli_at(monkeypatch, metronome_api, fincome_api)


@pytest.mark.parametrize(("key", "value"), BAD_VALUES)
def test_a_bad_or_missing_value_exits_2_naming_its_key_before_any_request(
    key: str,
    value: str | None,
    emulators: tuple[EmulatorControl, EmulatorControl],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if value is UNSET:
        monkeypatch.delenv(key)
    else:
        monkeypatch.setenv(key, value)

    run = sync_in_process(tmp_path)

    assert (run.exit_code, run.report["status"], run.report["key"]) == (2, "misconfigured", key)
    assert run.report["error"].startswith(f"{key}: ")
    assert "Traceback" not in run.output
    assert [control.request_count() for control in emulators] == [0, 0]


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("DESTINATION__FINCOME__API_KEY", UNSET, "DESTINATION__FINCOME__API_KEY: not set"),
        ("DESTINATION__FINCOME__BASE_URL", "http://fincome.example.com", "plain http://"),
        ("SOURCES__METRONOME__TIMEOUT_SECONDS", "soon", "must be a number"),
    ],
)
def test_the_real_process_says_it_in_one_line_on_stderr_without_a_traceback(
    key: str, value: str | None, says: str, tmp_path: Path
) -> None:
    variables = pair_env(
        metronome_url="http://127.0.0.1:9",
        token="t" * 12,
        fincome_url="http://127.0.0.1:9",
        key="k" * 12,
    )
    env = process_env(variables)
    if value is UNSET:
        del env[key]
    else:
        env[key] = value

    done = run_cli(["sync", "--data-dir", str(tmp_path)], env)

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert key in done.stderr
    assert says in done.stderr


def test_a_secret_in_config_toml_is_not_read(tmp_path: Path) -> None:
    """Secrets come from .dlt/secrets.toml or the environment, never from config.toml."""
    project = tmp_path / "project"
    (project / ".dlt").mkdir(parents=True)
    config = (Path(os.environ["DLT_PROJECT_DIR"]) / ".dlt" / "config.toml").read_text()
    with_token = config.replace(
        "[sources.metronome]\n", '[sources.metronome]\napi_token = "tok-in-config"\n'
    )
    assert with_token != config
    (project / ".dlt" / "config.toml").write_text(with_token)
    env = process_env({"DLT_PROJECT_DIR": str(project)})

    done = run_cli(["extract", "--json", "--data-dir", str(tmp_path / "data")], env, cwd=project)

    assert done.returncode == 2
    assert '"key": "SOURCES__METRONOME__API_TOKEN"' in done.stdout
    assert "tok-in-config" not in done.stdout + done.stderr


def test_plain_http_to_another_host_is_accepted_only_when_explicitly_allowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOURCES__METRONOME__API_TOKEN", "token-for-the-test")
    monkeypatch.setenv("SOURCES__METRONOME__BASE_URL", "http://metronome.internal")
    monkeypatch.setenv("SOURCES__METRONOME__ALLOW_INSECURE_HTTP", "true")
    monkeypatch.setenv("DESTINATION__FINCOME__API_KEY", "key-for-the-test")
    monkeypatch.setenv("DESTINATION__FINCOME__BASE_URL", "http://fincome.internal/product")
    monkeypatch.setenv("DESTINATION__FINCOME__ALLOW_INSECURE_HTTP", "true")

    assert load_metronome_settings().base_url == "http://metronome.internal"
    assert load_fincome_settings().base_url == "http://fincome.internal/product"


def test_both_clients_refuse_a_certificate_no_authority_signed(tmp_path: Path) -> None:
    with self_signed_server(tmp_path) as server:
        trusting = httpx.get(f"{server.url}/v1/customers", verify=_trusting(server.cert))
        assert trusting.json() == {"data": []}  # the server works for whom trusts it
        metronome = MetronomeClient(
            MetronomeSettings(base_url=server.url, api_token="t" * 12, max_attempts=1)
        )
        with pytest.raises(MetronomeSetupError, match="CERTIFICATE_VERIFY_FAILED"):
            metronome.get("/v1/customers")
        fincome = FincomeClient(
            FincomeSettings(api_key="k" * 12, base_url=server.url),
            retry_policy=RetryPolicy(max_attempts=1),
        )
        with pytest.raises(SetupFailed, match="CERTIFICATE_VERIFY_FAILED"):
            fincome.get("customers", "cus_1")


def _trusting(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))
