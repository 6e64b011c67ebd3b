"""Secrets never leak: not in output, logs, errors, tracebacks, DuckDB, or dlt's files.

Both emulators accept only distinctive secret values. The real `billing-sync` process runs
with `--verbose` (tracebacks of failures included): a good sync with the secrets read from
`.dlt/secrets.toml`, a sync Fincome refuses half way, a Metronome outage, wrong secrets on
each side, then `status` and `rejects`. Everything they print and every file they leave
(DuckDB tables as text too, see `secret_scan`) is searched for every secret value, the
refused ones included; the count of findings is the suite's `secret_leaks` figure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sandbox.common.server import serve_in_thread
from sandbox.fincome.app import build_app as build_fincome
from sandbox.metronome.app import build_app as build_metronome
from tests.fixtures.metronome import PINNED_NOW
from tests.reliability.conftest import ReliabilityFigures
from tests.reliability.secret_scan import Place, duckdb_text, files_under, findings, outputs
from tests.reliability.sync_runs import EmulatorControl, process_env, run_cli

SECRETS = {
    "metronome token": "mtok-7Qx9-leakcheck-3b1f0e",
    "fincome key": "fkey-K2v8-leakcheck-9c4d7a",
    "refused metronome token": "mtok-WRONG-leakcheck-51c2",
    "refused fincome key": "fkey-WRONG-leakcheck-88e0",
}
SECRETS_TOML = f"""
[sources.metronome]
api_token = "{SECRETS["metronome token"]}"

[destination.fincome]
api_key = "{SECRETS["fincome key"]}"
"""
REFUSED_AFTER_A_FEW_WRITES = [{"kind": "error", "status": 401, "skip": 5, "times": 10_000}]


@dataclass
class Servers:
    metronome: EmulatorControl
    fincome: EmulatorControl


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    metronome = build_metronome(
        token=SECRETS["metronome token"], seed=3, customers=6, months=2, now=PINNED_NOW
    )
    fincome = build_fincome(api_key=SECRETS["fincome key"])
    with serve_in_thread(metronome) as metronome_server, serve_in_thread(fincome) as fincome_server:
        yield Servers(EmulatorControl(metronome_server.url), EmulatorControl(fincome_server.url))


@dataclass
class Project:
    """A dlt project folder whose `.dlt/secrets.toml` holds the secrets, and what ran in it."""

    root: Path
    base: dict[str, str]
    places: list[Place] = field(default_factory=list)

    @property
    def secrets_file(self) -> Path:
        return self.root / ".dlt" / "secrets.toml"

    def run(self, label: str, *args: str, **overrides: str) -> int:
        env = process_env({"DLT_PROJECT_DIR": str(self.root), **self.base, **overrides})
        done = run_cli(["--verbose", *args], env, cwd=self.root)
        self.places.extend(outputs(label, done.stdout, done.stderr))
        return done.returncode


@pytest.fixture
def project(servers: Servers, tmp_path: Path) -> Project:
    root = tmp_path / "project"
    (root / ".dlt").mkdir(parents=True)
    config = Path(os.environ["DLT_PROJECT_DIR"]) / ".dlt" / "config.toml"
    (root / ".dlt" / "config.toml").write_text(config.read_text())
    (root / ".dlt" / "secrets.toml").write_text(SECRETS_TOML)
    base = {
        "SOURCES__METRONOME__BASE_URL": servers.metronome.url,
        "SOURCES__METRONOME__REQUESTS_PER_SECOND": "0",
        "DESTINATION__FINCOME__BASE_URL": servers.fincome.url,
        "DESTINATION__FINCOME__REQUESTS_PER_SECOND": "0",
    }
    return Project(root, base)


def test_no_secret_reaches_output_logs_errors_duckdb_or_any_file_a_run_writes(
    servers: Servers, project: Project, tmp_path: Path, reliability_figures: ReliabilityFigures
) -> None:
    synced, refused, wrong = tmp_path / "synced", tmp_path / "refused", tmp_path / "wrong"
    assert project.run("sync", "sync", "--json", "--data-dir", str(synced)) in (0, 3)
    assert project.run("status", "status", "--json", "--data-dir", str(synced)) == 0
    assert project.run("rejects", "rejects", "--json", "--data-dir", str(synced)) in (0, 3)
    servers.fincome.reset()
    servers.fincome.set_faults(rules=REFUSED_AFTER_A_FEW_WRITES)
    assert project.run("refused", "sync", "--data-dir", str(refused)) == 2
    servers.metronome.set_faults(error_rate=1.0)
    budget = {"SOURCES__METRONOME__RETRY_BUDGET_SECONDS": "1"}
    assert project.run("outage", "sync", "--json", "--data-dir", str(refused), **budget) == 1
    servers.metronome.set_faults()
    wrong_token = {"SOURCES__METRONOME__API_TOKEN": SECRETS["refused metronome token"]}
    assert project.run("wrong token", "extract", "--data-dir", str(wrong), **wrong_token) == 2
    wrong_key = {"DESTINATION__FINCOME__API_KEY": SECRETS["refused fincome key"]}
    assert project.run("wrong key", "sync", "--json", "--data-dir", str(wrong), **wrong_key) == 2

    places = [*project.places, *files_under(project.root, skip=[project.secrets_file])]
    for data_dir in (synced, refused, wrong):
        places += files_under(data_dir)
        places += duckdb_text(data_dir / "billing_sync.duckdb")
    places += files_under(Path(os.environ["DLT_DATA_DIR"]))
    leaks = findings(SECRETS, places)
    reliability_figures.add("secret_leaks", len(leaks))
    assert leaks == []
    # the scan can fail: it finds the secrets where they belong
    secrets_toml = ("secrets.toml", project.secrets_file.read_bytes())
    assert findings(SECRETS, [secrets_toml]) == [
        "metronome token in secrets.toml",
        "fincome key in secrets.toml",
    ]


def test_secrets_with_a_trailing_newline_work_and_never_leak_in_any_form(
    servers: Servers, project: Project, tmp_path: Path, reliability_figures: ReliabilityFigures
) -> None:
    """A secret mounted from a file ends in a newline. httpx refused it as a header value
    and quoted it (`Illegal header value b'<secret>\\n'`) into stdout, stderr, the run
    history and dlt's trace; now it is stripped when loaded, and a secret that still holds
    a control character is refused naming its variable (exit 2), without quoting it."""
    servers.fincome.reset()
    servers.fincome.set_faults()
    servers.metronome.set_faults()
    project.secrets_file.write_text(
        SECRETS_TOML.replace(SECRETS["fincome key"], SECRETS["fincome key"] + "\\n")
    )
    token = {"SOURCES__METRONOME__API_TOKEN": SECRETS["metronome token"] + "\n"}
    synced, refused = tmp_path / "synced", tmp_path / "refused"
    assert project.run("newline", "sync", "--json", "--data-dir", str(synced), **token) in (0, 3)
    assert project.run("status", "status", "--json", "--data-dir", str(synced)) == 0
    for log_format in ("text", "json"):
        inner = {"SOURCES__METRONOME__API_TOKEN": "mtok-7Qx9-leak\ncheck-3b1f0e"}
        code = project.run(
            f"inner {log_format}", "--log-format", log_format, "sync", "--json",
            "--data-dir", str(refused), **inner,
        )  # fmt: skip
        assert code == 2
        assert "SOURCES__METRONOME__API_TOKEN" in project.places[-1][1].decode()

    places = [*project.places, *files_under(project.root, skip=[project.secrets_file])]
    for data_dir in (synced, refused):
        places += files_under(data_dir)
        if (data_dir / "billing_sync.duckdb").exists():
            places += duckdb_text(data_dir / "billing_sync.duckdb")
    needles = {**SECRETS, "inner token": "mtok-7Qx9-leak", "inner token end": "check-3b1f0e"}
    leaks = findings(needles, places)
    reliability_figures.add("secret_leaks", len(leaks))
    assert leaks == []
