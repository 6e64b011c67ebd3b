"""billing-sync on Airflow: Metronome into Fincome every 30 minutes, in N shards.

Tasks (N = the `billing_sync_shards` Variable, 1 by default; `[N]` = mapped over the shards
with dynamic task mapping):

    plan -> extract[N] -> push_shared -> push[N] -> reconcile[N]

- `plan` resolves the installation (Variables, else environment, else defaults) and lists
  the shards: shard I of N works in `<data root>/shards-N/shard-I`, the shared records in
  `<data root>/shards-N/shared` (a new N starts new data dirs: a data dir keeps its shard).
- `extract[I]`: `billing-sync extract --shard I/N`: shard I's customers, plus the facts the
  shared records need (`shared-facts.json` in its data dir).
- `push_shared`: `billing-sync push-shared --facts <each shard's data dir>`: customers,
  products and prices of the whole account, once, before any shard pushes what refers to them.
- `push[I]`: `billing-sync push --shard I/N`: shard I's subscriptions, invoices, credit notes.
- `reconcile[I]`: `billing-sync reconcile` in shard I's data dir.

With N = 1 this is the whole account in one shard: the same three steps, no fan-out.

Retries: every task retries 3 times (after 2 minutes, then doubling): a failed run (exit 1)
and a busy data dir (exit 75: another run, e.g. a manual backfill, holds its lock) are worth
retrying, and so is a run stopped by a signal (exit 143 / 130). A configuration error
(exit 2) fails at once. Exit 3 of push and push_shared means records newly set aside: the
run set aside records no finished run had reported yet (first seen, reopened, or set
aside by a failed run; its JSON lists them with `"new": true`); the task then fails
without retries, after its push is done, so the DAG's failure alert reaches a person once
for them: the next run, which
sees the same rejects as old ones, exits 0 and its tasks succeed (`billing-sync rejects`
lists every open one). That run's reconcile waits for the next run. Any other exit 3 of
extract or push (nothing new in its JSON) lets the run go on and is logged as a warning.
Exit 3 of reconcile (Metronome, ledger and Fincome differ) fails the task without retries,
so the DAG's failure alerts reach a person. A task Airflow stops (a timeout, a cleared run)
sends SIGTERM on to its billing-sync, which stops within seconds and releases its data dir
(`stop_child`).

One writer per data dir: `max_active_runs=1` keeps runs from overlapping, and within a run
each data dir is used by one task at a time (its shard's extract, push, reconcile in turn;
the shared dir by push_shared alone). Every task runs in the pool `billing_sync`, whose
slots bound how many shards run at once; other DAGs that touch these data dirs (backfills)
belong in it too. The data-dir lock is the last line: a second writer exits 75 and retries.

Paths and secrets: the CLI runs as a subprocess from the project checkout
(`billing_sync_project_dir`, default `/srv/billing-sync`, holding `.dlt/config.toml` and the
project's `.venv`, so Airflow's and billing-sync's dependencies never meet) with absolute
paths only (`billing_sync_data_root`, default `/srv/billing-sync/data`; relative values are
refused). Secrets come from the worker's environment (`SOURCES__METRONOME__API_TOKEN`,
`DESTINATION__FINCOME__API_KEY`), the project's `.dlt/secrets.toml`, or the Airflow
Variables `billing_sync_metronome_api_token` / `billing_sync_fincome_api_key` (Airflow masks
them in logs: their names say token / api_key); they reach the CLI as environment variables
of its process only, never its command line or XCom. Log lines are JSON (`--log-format
json`), forwarded to the task log as they come.

Why not dlt's `PipelineTasksGroup`: it runs each task in a fresh temporary folder
(`DLT_DATA_DIR`/`DLT_LOCAL_DIR`) that it wipes afterwards, and splits one dlt source into
tasks. Our state must outlive a task: the DuckDB file (staging, desired state, the ledger of
what Fincome acknowledged), the per-customer invoice cursors and the data-dir lock all live
in the data dir, and the push is not one dlt source but a ledger diff loaded collection by
collection, ordered across shards by push_shared. So the tasks call our CLI, which drives
dlt with fixed absolute `pipelines_dir` and DuckDB paths; dlt's Airflow integration would
add nothing here but a state that does not survive. The DAG file imports neither dlt nor
billing-sync, so the scheduler parses it in milliseconds.

Where shards run: every task of shard I needs shard I's data dir. Either one worker (with as
many slots as shards) keeps the data root on its local disk, or several workers share it on
a filesystem whose locks work (not NFS: DuckDB locking there is unreliable). See README
"Scheduling".
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import Variable, dag, task
from airflow.sdk.exceptions import AirflowException, AirflowFailException

POOL = "billing_sync"
RETRIES = 3
SETTINGS = {  # Airflow Variable -> (environment variable, default)
    "billing_sync_project_dir": ("BILLING_SYNC_PROJECT_DIR", "/srv/billing-sync"),
    "billing_sync_data_root": ("BILLING_SYNC_DATA_ROOT", "/srv/billing-sync/data"),
    "billing_sync_shards": ("BILLING_SYNC_SHARDS", "1"),
}
SECRETS = {  # Airflow Variable -> the environment variable billing-sync reads
    "billing_sync_metronome_api_token": "SOURCES__METRONOME__API_TOKEN",
    "billing_sync_fincome_api_key": "DESTINATION__FINCOME__API_KEY",
}
EXIT_REJECTS, EXIT_USAGE, EXIT_LOCKED = 3, 2, 75
STOP_GRACE_SECONDS = 30  # billing-sync stops within seconds of a SIGTERM

log = logging.getLogger(__name__)


def resolve_installation(variable: Callable[[str], str | None]) -> dict[str, Any]:
    """Project dir, data root and shard count: a Variable, else the environment, else default."""
    values = {
        name: variable(name) or os.environ.get(env) or default
        for name, (env, default) in SETTINGS.items()
    }
    for name in ("billing_sync_project_dir", "billing_sync_data_root"):
        if not Path(values[name]).is_absolute():
            raise AirflowFailException(f"{name} must be an absolute path, not {values[name]!r}")
    shards = int(values["billing_sync_shards"])
    if shards < 1:
        raise AirflowFailException(f"billing_sync_shards must be 1 or more, not {shards}")
    return {
        "project_dir": values["billing_sync_project_dir"],
        "data_root": values["billing_sync_data_root"],
        "shards": shards,
    }


def shard_specs(installation: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One entry per shard: its `I/N` and its data dir, under a folder of this N."""
    count = installation["shards"]
    root = Path(installation["data_root"]) / f"shards-{count}"
    return [
        {**installation, "shard": f"{index}/{count}", "data_dir": str(root / f"shard-{index}")}
        for index in range(count)
    ]


def shared_data_dir(installation: Mapping[str, Any]) -> str:
    return str(Path(installation["data_root"]) / f"shards-{installation['shards']}" / "shared")


def run_billing_sync(
    args: list[str],
    project_dir: str,
    secrets: Mapping[str, str],
    *,
    differences_fail: bool = False,
) -> dict[str, Any]:
    """Run `billing-sync <args> --json` from the project; its JSON object, or an exception
    that tells Airflow whether to retry (see the module docstring)."""
    executable = str(Path(project_dir) / ".venv" / "bin" / "billing-sync")
    command = [executable, "--log-format", "json", *args, "--json"]
    env = {**os.environ, **secrets, "DLT_PROJECT_DIR": project_dir}
    with tempfile.TemporaryFile("w+") as stdout:
        process = subprocess.Popen(
            command, cwd=project_dir, env=env, stdout=stdout, stderr=subprocess.PIPE, text=True
        )
        assert process.stderr is not None
        try:
            for line in process.stderr:  # JSON log lines, as they come
                log.info("%s", line.rstrip())
            code = process.wait()
        except BaseException:  # Airflow stops the task (its SIGTERM handler raises here)
            stop_child(process)
            raise
        stdout.seek(0)
        output = stdout.read()
    payload: dict[str, Any] = json.loads(output) if output.strip() else {}
    judge(code, payload, differences_fail=differences_fail)
    return payload


def stop_child(process: subprocess.Popen[str]) -> None:
    """Pass the stop on: billing-sync stops within seconds of a SIGTERM (exit 143) and
    releases its data dir; one that has not after `STOP_GRACE_SECONDS` is killed. Left
    running, it would hold the data dir's lock and the task's retry would only exit 75."""
    process.terminate()
    try:
        process.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def judge(code: int, payload: Mapping[str, Any], *, differences_fail: bool) -> None:
    """Raise what Airflow should do with a run that exited `code`; return when it succeeded."""
    error = payload.get("error") or f"billing-sync exited {code}"
    if code == 0:
        return
    if code == EXIT_REJECTS and differences_fail:
        raise AirflowFailException("reconcile found differences; see its report in the log")
    if code == EXIT_REJECTS:
        if new := newly_set_aside(payload):
            ids = ", ".join(f"{r.get('collection')} {r.get('record_id')}" for r in new[:10])
            more = f" and {len(new) - 10} more" if len(new) > 10 else ""
            raise AirflowFailException(
                f"{len(new)} record(s) newly set aside ({ids}{more}); the push is done: "
                "see `billing-sync rejects`"
            )
        log.warning("finished, but records were set aside: see `billing-sync rejects`")
        return
    if code == EXIT_USAGE:
        raise AirflowFailException(f"configuration: {error}")
    if code == EXIT_LOCKED:
        raise AirflowException(f"the data dir is busy (another run holds it): {error}")
    raise AirflowException(error)


def newly_set_aside(payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The rejects a run's JSON marks as new (not reported by a finished run yet)."""
    rejects = payload.get("rejects") or []
    return [r for r in rejects if isinstance(r, Mapping) and r.get("new") is True]


def secrets_from_variables() -> dict[str, str]:
    """The secrets set as Airflow Variables, as the environment billing-sync reads."""
    found = {env: Variable.get(name, default=None) for name, env in SECRETS.items()}
    return {env: value for env, value in found.items() if value}


def _variable(name: str) -> str | None:
    value = Variable.get(name, default=None)
    return None if value is None else str(value)


def _summary(payload: Mapping[str, Any]) -> dict[str, Any]:
    """What a task hands on (XCom): small, and never a secret."""
    return {key: payload.get(key) for key in ("command", "status", "exit_code", "data_dir")}


@task
def plan() -> list[dict[str, Any]]:
    return shard_specs(resolve_installation(_variable))


@task
def extract(spec: dict[str, Any]) -> dict[str, Any]:
    args = ["extract", "--shard", spec["shard"], "--data-dir", spec["data_dir"]]
    return _summary(run_billing_sync(args, spec["project_dir"], secrets_from_variables()))


@task
def push_shared(specs: list[dict[str, Any]]) -> dict[str, Any]:
    facts = [arg for spec in specs for arg in ("--facts", spec["data_dir"])]
    args = ["push-shared", *facts, "--data-dir", shared_data_dir(specs[0])]
    return _summary(run_billing_sync(args, specs[0]["project_dir"], secrets_from_variables()))


@task
def push(spec: dict[str, Any]) -> dict[str, Any]:
    args = ["push", "--shard", spec["shard"], "--data-dir", spec["data_dir"]]
    return _summary(run_billing_sync(args, spec["project_dir"], secrets_from_variables()))


@task
def reconcile(spec: dict[str, Any]) -> dict[str, Any]:
    args = ["reconcile", "--data-dir", spec["data_dir"]]
    secrets = secrets_from_variables()
    return _summary(run_billing_sync(args, spec["project_dir"], secrets, differences_fail=True))


@dag(
    dag_id="billing_sync",
    schedule="*/30 * * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": RETRIES,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "pool": POOL,
    },
    tags=["billing-sync"],
    doc_md=__doc__,
)
def billing_sync() -> None:
    shards = plan()
    extracted = extract.expand(spec=shards)
    shared = push_shared(shards)  # type: ignore[arg-type]  # the list, once plan has run
    pushed = push.expand(spec=shards)
    reconciled = reconcile.expand(spec=shards)
    extracted >> shared >> pushed >> reconciled


billing_sync()
