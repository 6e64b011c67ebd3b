"""Configuration fails fast and honestly: exit 2, one line naming the key, before any request.

Each case runs the real `billing-sync` in a project folder of its own (`DLT_PROJECT_DIR`:
its `.dlt/config.toml` and `secrets.toml`), both APIs pointed at a loopback server that
records every request. Before, these mistakes exited 1 with a raw exception (a token ending in
a newline printed itself in `Illegal header value b'...\\n'`, a read-only data dir was an
`OSError`, invalid TOML a `TomlProviderReadException`, `status --runs -1` a DuckDB error),
or were sent on (`timeout_seconds = inf`, a base URL ending in /v1 became a 404), or were
silently ignored (`page_sise`, `[mapping.pricing_unit]`, `SOURCES__METRONOM__...`), or
accepted and pushed (`MAPPING__PRICE_TYPE=weird` rewrote every price in Fincome).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.fincome import FincomeEmulator
from tests.fixtures.metronome import MetronomeEmulator
from tests.hostile.servers import Reply, Request, ScriptedServer, forward, json_reply
from tests.reliability.sync_runs import BILLING_SYNC, process_env, run_cli

TOKEN = "mtok-Hostile-7d2e9a41"
KEY = "fkey-Hostile-3b8c0f52"
SECRETS_TOML = f"""
[sources.metronome]
api_token = "{TOKEN}"

[destination.fincome]
api_key = "{KEY}"
"""
QUICK_TIMEOUT = 60  # seconds: a run that fails fast ends in a few; one that works would hang


def _refuse_everything(request: Request) -> Reply:
    return json_reply({"detail": "this server should never be called"}, 500)


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def report(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.stdout)
        return parsed


@dataclass
class Project:
    """A dlt project folder with both secrets in its secrets.toml, and a server that records
    whatever reaches it (both base URLs point at it)."""

    root: Path
    server: ScriptedServer
    data_dir: Path

    def write(self, name: str, text: str) -> None:
        (self.root / ".dlt" / name).write_text(text)

    def edit_config(self, edit: Callable[[str], str]) -> None:
        config = self.root / ".dlt" / "config.toml"
        edited = edit(config.read_text())
        assert edited != config.read_text(), "the edit changed nothing"
        config.write_text(edited)

    def env(self, **overrides: str) -> dict[str, str]:
        return process_env(
            {
                "DLT_PROJECT_DIR": str(self.root),
                "SOURCES__METRONOME__BASE_URL": self.server.url,
                "SOURCES__METRONOME__REQUESTS_PER_SECOND": "0",
                "DESTINATION__FINCOME__BASE_URL": self.server.url,
                "DESTINATION__FINCOME__REQUESTS_PER_SECOND": "0",
                # a run that goes on (before the fixes) fails on the first answer, not after
                # every retry
                "SOURCES__METRONOME__MAX_ATTEMPTS": "1",
                "DESTINATION__FINCOME__MAX_ATTEMPTS": "1",
                **overrides,
            }
        )

    def run(self, *args: str, **overrides: str) -> Run:
        done = run_cli([*args], self.env(**overrides), cwd=self.root)
        return Run(done.returncode, done.stdout, done.stderr)

    def sync(self, **overrides: str) -> Run:
        return self.run("sync", "--json", "--data-dir", str(self.data_dir), **overrides)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    root = tmp_path / "project"
    (root / ".dlt").mkdir(parents=True)
    committed = Path(os.environ["DLT_PROJECT_DIR"]) / ".dlt" / "config.toml"
    (root / ".dlt" / "config.toml").write_text(committed.read_text())
    (root / ".dlt" / "secrets.toml").write_text(SECRETS_TOML)
    with ScriptedServer(_refuse_everything) as server:
        yield Project(root, server, tmp_path / "data")


def assert_refused(project: Project, run: Run, key: str, says: str) -> None:
    """Exit 2; the key in --json's `key` and on the one summary line; no traceback, no
    secret, no request."""
    assert run.code == 2, run.stderr[-800:]
    assert run.report["key"] == key
    assert run.report["error"].startswith(f"{key}: ")
    assert says in run.report["error"]
    [summary] = run.stderr.splitlines()
    assert "misconfigured (exit 2)" in summary
    assert key in summary
    assert "Traceback" not in run.stderr
    for secret in (TOKEN, KEY):
        assert secret not in run.stdout + run.stderr
    assert project.server.requests == []


def _in_config(section: str, line: str) -> Callable[[str], str]:
    """An edit of config.toml: `line` added at the top of `[section]` (its header, not a
    comment naming it)."""
    header = re.compile(rf"^\[{re.escape(section)}\]\n", re.MULTILINE)
    return lambda text: header.sub(lambda match: f"{match.group()}{line}\n", text, count=1)


@dataclass(frozen=True)
class Case:
    key: str  # what the summary line and --json's `key` name
    says: str  # a part of the message
    env: dict[str, str] = field(default_factory=dict)
    config: Callable[[str], str] | None = None  # an edit of config.toml


CASES = {
    "token with an inner newline": Case(
        "SOURCES__METRONOME__API_TOKEN",
        "holds a control character (U+000A at position 5)",
        {"SOURCES__METRONOME__API_TOKEN": f"mtok\n{TOKEN}"},
    ),
    "non-ASCII key": Case(
        "DESTINATION__FINCOME__API_KEY",
        "holds a non-ASCII character (U+00E9",
        {"DESTINATION__FINCOME__API_KEY": f"{KEY}é"},
    ),
    "header name with a space": Case(
        "DESTINATION__FINCOME__API_KEY_HEADER",
        "is not an HTTP header name",
        {"DESTINATION__FINCOME__API_KEY_HEADER": "X API KEY"},
    ),
    "header name with a colon": Case(
        "DESTINATION__FINCOME__API_KEY_HEADER",
        "is not an HTTP header name",
        {"DESTINATION__FINCOME__API_KEY_HEADER": "X-API-KEY:"},
    ),
    "timeout inf in config.toml": Case(
        "SOURCES__METRONOME__TIMEOUT_SECONDS",
        "must be a number of seconds",
        config=lambda text: text.replace("timeout_seconds = 60.0", "timeout_seconds = inf", 1),
    ),
    "Fincome timeout inf": Case(
        "DESTINATION__FINCOME__TIMEOUT_SECONDS",
        "finite",
        {"DESTINATION__FINCOME__TIMEOUT_SECONDS": "inf"},
    ),
    "retry budget nan": Case(
        "DESTINATION__FINCOME__RETRY_BUDGET_SECONDS",
        "finite",
        {"DESTINATION__FINCOME__RETRY_BUDGET_SECONDS": "nan"},
    ),
    "pacing inf": Case(
        "SOURCES__METRONOME__REQUESTS_PER_SECOND",
        "finite",
        {"SOURCES__METRONOME__REQUESTS_PER_SECOND": "inf"},
    ),
    "base URL ending in /v1": Case(
        "SOURCES__METRONOME__BASE_URL",
        "our paths already start with /v1",
        {"SOURCES__METRONOME__BASE_URL": "http://127.0.0.1:9/v1"},
    ),
    "page_sise in config.toml": Case(
        "SOURCES__METRONOME__PAGE_SISE",
        "did you mean page_size?",
        config=lambda text: text.replace("page_size = 100", "page_sise = 100", 1),
    ),
    "[mapping.pricing_unit]": Case(
        "MAPPING__PRICING_UNIT",
        "did you mean pricing_units?",
        config=lambda text: re.sub(
            r"(?m)^\[mapping\.pricing_units\]$", "[mapping.pricing_unit]", text
        ),
    ),
    "[sources.metronom]": Case(
        "SOURCES__METRONOM",
        "did you mean metronome?",
        config=lambda text: text + '\n[sources.metronom]\nbase_url = "http://127.0.0.1:9"\n',
    ),
    "unknown key in [destination.fincome]": Case(
        "DESTINATION__FINCOME__TIMEOUT",
        "unknown key timeout under [destination.fincome]",
        config=_in_config("destination.fincome", "timeout = 5"),
    ),
    "SOURCES__METRONOM__PAGE_SIZE": Case(
        "SOURCES__METRONOM__PAGE_SIZE",
        "did you mean SOURCES__METRONOME__PAGE_SIZE?",
        {"SOURCES__METRONOM__PAGE_SIZE": "10"},
    ),
    "MAPPING__PRICE_TYP": Case(
        "MAPPING__PRICE_TYP", "did you mean MAPPING__PRICE_TYPE?", {"MAPPING__PRICE_TYP": "x"}
    ),
    "DESTINATION__FINCOM__API_KEY": Case(
        "DESTINATION__FINCOM__API_KEY",
        "did you mean DESTINATION__FINCOME__API_KEY?",
        {"DESTINATION__FINCOM__API_KEY": KEY},
    ),
    "DATA_DIR__DUCKDB_MEMORY": Case(
        "DATA_DIR__DUCKDB_MEMORY",
        "did you mean DATA_DIR__DUCKDB_MEMORY_LIMIT?",
        {"DATA_DIR__DUCKDB_MEMORY": "1GB"},
    ),
    "MAPPING__PRICE_TYPE=weird": Case(
        "MAPPING__PRICE_TYPE", "'recurring' or 'one_off'", {"MAPPING__PRICE_TYPE": "weird"}
    ),
    "MAPPING__PRICE_TYPE=one-off": Case(
        "MAPPING__PRICE_TYPE", "did you mean 'one_off'?", {"MAPPING__PRICE_TYPE": "one-off"}
    ),
    "[mapping.line_types] oneoff": Case(
        "MAPPING__LINE_TYPES",
        "did you mean 'one_off'?",
        config=_in_config("mapping.line_types", '"prod_1" = "oneoff"'),
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_bad_value_or_an_unknown_key_exits_2_naming_it_before_any_request(
    project: Project, case: Case
) -> None:
    if case.config:
        project.edit_config(case.config)

    run = project.sync(**case.env)

    assert_refused(project, run, case.key, case.says)


def test_a_typo_in_mapping_does_not_stop_status(project: Project) -> None:
    """Each section is checked where it is loaded: `status` reads no mapping."""
    project.edit_config(_in_config("mapping", 'price_typ = "recurring"'))

    assert_refused(project, project.sync(), "MAPPING__PRICE_TYP", "did you mean price_type?")
    assert project.run("status", "--data-dir", str(project.data_dir)).code == 0


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("config.toml", "[sources.metronome\npage_size = 100\n", "not valid TOML at line 1"),
        ("secrets.toml", f'[sources.metronome]\napi_token = "{TOKEN}"x\n', "at line 3, col"),
        ("secrets.toml", f'[destination.fincome]\napi_key = "{KEY}\n', "not valid TOML at line"),
    ],
    ids=["config.toml", "secrets.toml, a character after the value", "secrets.toml, unclosed"],
)
def test_invalid_toml_exits_2_naming_the_file_and_the_line(
    project: Project, name: str, text: str, says: str
) -> None:
    secrets = SECRETS_TOML if name == "config.toml" else "\n" + text
    project.write("secrets.toml", secrets)
    if name == "config.toml":
        project.write("config.toml", text)

    run = project.sync()

    assert_refused(project, run, str(project.root / ".dlt" / name), says)


@pytest.mark.parametrize(
    "unusable",
    [
        pytest.param(lambda tmp: _file(tmp / "a-file"), id="a file"),
        pytest.param(lambda tmp: _file(tmp / "a-file") / "data", id="under a file"),
        pytest.param(
            lambda tmp: _read_only(tmp / "read-only"),
            id="a read-only folder",
            marks=pytest.mark.skipif(os.geteuid() == 0, reason="root writes in any folder"),
        ),
        pytest.param(
            lambda tmp: Path("/sys/kernel"),
            id="a folder on a read-only file system",
            marks=pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="Linux sysfs"),
        ),
    ],
)
def test_an_unusable_data_dir_exits_2_naming_the_option_or_the_variable(
    project: Project, tmp_path: Path, unusable: Callable[[Path], Path]
) -> None:
    data_dir = unusable(tmp_path)

    by_option = project.run("sync", "--json", "--data-dir", str(data_dir))
    by_variable = project.run("status", "--json", BILLING_SYNC_DATA_DIR=str(data_dir))

    assert_refused(project, by_option, "--data-dir", str(data_dir))
    assert_refused(project, by_variable, "BILLING_SYNC_DATA_DIR", str(data_dir))


def _file(path: Path) -> Path:
    path.write_text("not a folder")
    return path


def _read_only(path: Path) -> Path:
    path.mkdir()
    path.chmod(0o500)
    return path


@pytest.mark.parametrize(
    "args",
    [
        ("status", "--runs", "-1"),
        ("status", "--runs", "0"),
        ("emulator", "metronome", "--port", "70000"),
        ("emulator", "metronome", "--months", "0"),
        ("demo", "--customers", "0"),
        ("demo", "--months", "100000"),
    ],
    ids=" ".join,
)
def test_a_numeric_option_out_of_range_is_a_usage_error_naming_it(
    project: Project, args: tuple[str, ...]
) -> None:
    # a bounded wait: before, `emulator --months 0` served forever and demo ran a whole sync
    done = subprocess.run(
        [BILLING_SYNC, *args],
        env=project.env(BILLING_SYNC_DATA_DIR=str(project.data_dir)),
        cwd=project.root,
        capture_output=True,
        text=True,
        timeout=QUICK_TIMEOUT,
        check=False,
    )

    assert done.returncode == 2, done.stderr[-800:]
    assert f"Invalid value for '{args[-2]}'" in done.stderr
    assert "Traceback" not in done.stderr
    assert project.server.requests == []


def test_secrets_with_surrounding_whitespace_are_stripped_and_the_sync_works(
    project: Project, metronome_api: MetronomeEmulator, fincome_api: FincomeEmulator
) -> None:
    """A secret mounted from a file ends in a newline: it is sent without it. Before, httpx
    refused the header and printed the token in its message (exit 1)."""
    seen: list[str] = []

    def metronome(request: Request) -> Reply:
        seen.append(request.headers.get("authorization", ""))
        return forward(request, metronome_api.url)

    project.write("secrets.toml", f'[destination.fincome]\napi_key = " {fincome_api.api_key}\\n"\n')
    with ScriptedServer(metronome) as proxy:
        run = project.sync(
            SOURCES__METRONOME__BASE_URL=proxy.url,
            SOURCES__METRONOME__API_TOKEN=f"{metronome_api.token}\n",
            DESTINATION__FINCOME__BASE_URL=fincome_api.url,
        )

    assert run.code in (0, 3), run.stderr[-800:]
    assert seen
    assert set(seen) == {f"Bearer {metronome_api.token}"}
    assert fincome_api.state()["customers"]
    for secret in (metronome_api.token, fincome_api.api_key):
        assert secret not in run.stdout + run.stderr
