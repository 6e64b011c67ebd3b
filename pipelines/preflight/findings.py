"""What the pre-flight found: one `Finding` per thing checked, and the check's exit code.

A finding is `ok`, a `problem` (the run would fail or do harm: `check` exits 2 and names
what to fix in `fix`, a key, an environment variable or a command) or a `note` (worth
knowing, nothing to fix: no views to reconcile with, a data dir not bound yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    OK = "ok"
    PROBLEM = "problem"
    NOTE = "note"


@dataclass(frozen=True)
class Finding:
    area: str  # settings, metronome, fincome, paths, views, metrics, data dir
    name: str
    status: Status
    detail: str
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "area": self.area,
            "name": self.name,
            "status": str(self.status),
            "detail": self.detail,
            "fix": self.fix,
        }


def ok(area: str, name: str, detail: str) -> Finding:
    return Finding(area, name, Status.OK, detail)


def note(area: str, name: str, detail: str) -> Finding:
    return Finding(area, name, Status.NOTE, detail)


def problem(area: str, name: str, detail: str, fix: str) -> Finding:
    return Finding(area, name, Status.PROBLEM, detail, fix)


def problems(findings: list[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.status is Status.PROBLEM]
