"""Run history: started, finished, interrupted."""

from __future__ import annotations

import duckdb

from pipelines.runs import RunLog


def test_a_finished_run_keeps_its_outcome_summary_and_duration() -> None:
    log = RunLog(duckdb.connect())
    run_id = log.start("sync", {"dry_run": False})
    log.finish(run_id, exit_code=3, summary={"push": {"customers": {"create": 2}}})
    [run] = log.recent()
    assert run["run_id"] == run_id
    assert run["outcome"] == "rejects"
    assert run["exit_code"] == 3
    assert run["options"] == {"dry_run": False}
    assert run["summary"] == {"push": {"customers": {"create": 2}}}
    assert run["duration_seconds"] >= 0


def test_a_run_left_running_is_interrupted_unless_it_is_the_live_one() -> None:
    log = RunLog(duckdb.connect())
    log.start("extract", {})
    assert log.recent()[0]["outcome"] == "interrupted"
    assert log.recent(someone_running=True)[0]["outcome"] == "running"
    assert log.recent()[0]["duration_seconds"] is None


def test_newest_first_and_limited() -> None:
    log = RunLog(duckdb.connect())
    ids = [log.start(f"cmd{i}", {}) for i in range(5)]
    for run_id in ids:
        log.finish(run_id, exit_code=0, summary={})
    assert [r["command"] for r in log.recent(limit=3)] == ["cmd4", "cmd3", "cmd2"]
