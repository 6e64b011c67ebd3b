"""The Airflow DAG (`dags/billing_sync.py`) loads with Airflow installed and runs our CLI.

Airflow is imported in a child process only: importing it sets up its own logging (root
handlers included) and would change how every later test in this process sees logs. The
DagBag parses the file without a metadata database (AIRFLOW_HOME is a temporary folder).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("airflow", reason="the airflow extra is not installed")

REPO = Path(__file__).resolve().parents[2]
DAG_FILE = REPO / "dags" / "billing_sync.py"

DESCRIBE_DAG = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk.definitions.mappedoperator import MappedOperator
bag = DagBag(dag_folder=sys.argv[1])
dag = bag.dags.get("billing_sync")
print(json.dumps({
    "errors": {path: str(error) for path, error in bag.import_errors.items()},
    "max_active_runs": dag.max_active_runs,
    "catchup": dag.catchup,
    "schedule": dag.timetable.expression,
    "tasks": {
        t.task_id: {
            "mapped": isinstance(t, MappedOperator),
            "retries": t.retries,
            "pool": t.pool,
            "upstream": sorted(t.upstream_task_ids),
        }
        for t in dag.tasks
    },
}))
"""

CALL_HELPER = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("billing_sync_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
name, args, kwargs = json.loads(sys.argv[2])
if "variables" in kwargs:  # stands for Airflow Variables: name -> value
    kwargs["variable"] = kwargs.pop("variables").get
try:
    result = getattr(module, name)(*args, **kwargs)
    print(json.dumps({"returned": result}))
except Exception as exc:
    print(json.dumps({"raised": type(exc).__name__, "message": str(exc)}))
"""


def in_airflow(script: str, *args: str, tmp_path: Path, env: dict[str, str] | None = None) -> Any:
    home = tmp_path / "airflow-home"
    home.mkdir(exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-c", script, *args],
        env={**os.environ, "AIRFLOW_HOME": str(home), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def call(
    name: str, *args: Any, tmp_path: Path, env: dict[str, str] | None = None, **kwargs: Any
) -> Any:
    request = json.dumps([name, list(args), kwargs])
    return in_airflow(CALL_HELPER, str(DAG_FILE), request, tmp_path=tmp_path, env=env)


def test_the_dag_loads_with_its_tasks_retries_pool_and_order(tmp_path: Path) -> None:
    described = in_airflow(DESCRIBE_DAG, str(DAG_FILE), tmp_path=tmp_path)
    assert described["errors"] == {}
    assert described["max_active_runs"] == 1
    assert described["catchup"] is False
    assert described["schedule"] == "*/30 * * * *"
    tasks = described["tasks"]
    assert {name: task["upstream"] for name, task in tasks.items()} == {
        "plan": [],
        "extract": ["plan"],
        "push_shared": ["extract", "plan"],
        "push": ["plan", "push_shared"],
        "reconcile": ["plan", "push"],
    }
    assert {name for name, task in tasks.items() if task["mapped"]} == {
        "extract",
        "push",
        "reconcile",
    }
    assert all(task["retries"] == 3 and task["pool"] == "billing_sync" for task in tasks.values())


def test_shards_get_absolute_data_dirs_of_their_own_under_a_folder_of_their_count(
    tmp_path: Path,
) -> None:
    specs = call(
        "shard_specs",
        {"project_dir": "/srv/bs", "data_root": "/srv/bs/data", "shards": 3},
        tmp_path=tmp_path,
    )["returned"]
    assert [(s["shard"], s["data_dir"]) for s in specs] == [
        ("0/3", "/srv/bs/data/shards-3/shard-0"),
        ("1/3", "/srv/bs/data/shards-3/shard-1"),
        ("2/3", "/srv/bs/data/shards-3/shard-2"),
    ]
    shared = call("shared_data_dir", specs[0], tmp_path=tmp_path)["returned"]
    assert shared == "/srv/bs/data/shards-3/shared"


def test_settings_come_from_variables_then_the_environment_then_defaults(tmp_path: Path) -> None:
    env = {"BILLING_SYNC_SHARDS": "3", "BILLING_SYNC_DATA_ROOT": "/env/data"}
    variables = {"billing_sync_data_root": "/var/data"}
    resolved = call("resolve_installation", tmp_path=tmp_path, env=env, variables=variables)
    assert resolved["returned"] == {
        "project_dir": "/srv/billing-sync",
        "data_root": "/var/data",
        "shards": 3,
    }
    relative = call(
        "resolve_installation", tmp_path=tmp_path, variables={"billing_sync_data_root": "data"}
    )
    assert relative["raised"] == "AirflowFailException"
    assert "absolute" in relative["message"]
    none = call("resolve_installation", tmp_path=tmp_path, variables={"billing_sync_shards": "0"})
    assert none["raised"] == "AirflowFailException"


@pytest.mark.parametrize(
    ("code", "differences_fail", "outcome"),
    [
        (0, False, None),
        (3, False, None),  # records set aside: the run goes on
        (3, True, "AirflowFailException"),  # reconcile differences: a person must look
        (2, False, "AirflowFailException"),  # configuration: retrying cannot help
        (75, False, "AirflowException"),  # the data dir is busy: retry later
        (1, False, "AirflowException"),
    ],
)
def test_exit_codes_become_success_retry_or_failure(
    code: int, differences_fail: bool, outcome: str | None, tmp_path: Path
) -> None:
    result = call("judge", code, {}, tmp_path=tmp_path, differences_fail=differences_fail)
    assert result.get("raised") == outcome


def test_records_newly_set_aside_fail_the_task_once_old_ones_only_warn(tmp_path: Path) -> None:
    new = {"rejects": [{"collection": "invoices", "record_id": "inv_1", "new": True},
                       {"collection": "invoices", "record_id": "inv_0", "new": False}]}  # fmt: skip
    old = {"rejects": [{"collection": "invoices", "record_id": "inv_0", "new": False}]}
    first = call("judge", 3, new, tmp_path=tmp_path, differences_fail=False)
    later = call("judge", 3, old, tmp_path=tmp_path, differences_fail=False)
    assert first.get("raised") == "AirflowFailException"
    assert "1 record(s) newly set aside (invoices inv_1)" in first["message"]
    assert later.get("raised") is None


def test_a_task_runs_the_real_cli_and_judges_its_exit_code(tmp_path: Path) -> None:
    data_dir = str(tmp_path / "data")
    status = call(
        "run_billing_sync", ["status", "--data-dir", data_dir], str(REPO), {}, tmp_path=tmp_path
    )["returned"]
    assert status["command"] == "status"
    assert status["data_dir"] == data_dir
    missing = call(
        "run_billing_sync", ["extract", "--data-dir", data_dir], str(REPO), {}, tmp_path=tmp_path
    )
    assert missing["raised"] == "AirflowFailException"  # no Metronome token: exit 2
    assert "SOURCES__METRONOME__API_TOKEN" in missing["message"]


FAKE_CLI = """#!/bin/sh
printf '{"argv": "%s", "cwd": "%s", "project": "%s", "token": "%s"}' \
  "$*" "$(pwd)" "$DLT_PROJECT_DIR" "$SOURCES__METRONOME__API_TOKEN"
"""


def test_secrets_reach_the_cli_by_its_environment_and_never_its_command_line(
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"
    executable = project / ".venv" / "bin" / "billing-sync"
    executable.parent.mkdir(parents=True)
    executable.write_text(FAKE_CLI)
    executable.chmod(0o755)
    secret = "tok-never-on-a-command-line"
    seen = call(
        "run_billing_sync",
        ["push", "--shard", "1/3", "--data-dir", "/srv/d"],
        str(project),
        {"SOURCES__METRONOME__API_TOKEN": secret},
        tmp_path=tmp_path,
    )["returned"]
    assert seen == {
        "argv": "--log-format json push --shard 1/3 --data-dir /srv/d --json",
        "cwd": str(project),
        "project": str(project),
        "token": secret,
    }


STUBBORN_CLI = """#!/bin/sh
trap 'echo stopped > "$0.term"; exit 143' TERM
echo '{"message": "working"}' >&2
while :; do sleep 0.1; done
"""
STOPPED_BY_AIRFLOW = """
import importlib.util, json, signal, sys, time
spec = importlib.util.spec_from_file_location("billing_sync_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)

class TaskTerminated(Exception):
    pass

def terminated(signum, frame):  # what Airflow's SIGTERM handler does in a running task
    raise TaskTerminated("Task received SIGTERM signal")

signal.signal(signal.SIGALRM, terminated)
signal.alarm(2)
started = time.monotonic()
try:
    module.run_billing_sync(["sync"], sys.argv[2], {})
    print(json.dumps({"raised": None}))
except TaskTerminated as exc:
    print(json.dumps({"raised": type(exc).__name__, "seconds": time.monotonic() - started}))
"""


def test_a_task_airflow_stops_passes_the_stop_on_to_its_billing_sync(tmp_path: Path) -> None:
    """Left running, the CLI would hold its data dir and every retry of the task exit 75."""
    project = tmp_path / "project"
    executable = project / ".venv" / "bin" / "billing-sync"
    executable.parent.mkdir(parents=True)
    executable.write_text(STUBBORN_CLI)
    executable.chmod(0o755)

    result = in_airflow(STOPPED_BY_AIRFLOW, str(DAG_FILE), str(project), tmp_path=tmp_path)

    assert result["raised"] == "TaskTerminated"
    assert result["seconds"] < 30
    assert Path(f"{executable}.term").read_text().strip() == "stopped"
