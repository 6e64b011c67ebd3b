"""The layers keep hard edges: only pipelines/ may know both Metronome and Fincome."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOP_LEVEL = {"httpkit", "sources", "destinations", "pipelines", "sandbox", "benchmarks"}

# package -> top-level packages (or sub-packages) it must never import
FORBIDDEN = {
    "httpkit": {"sources", "destinations", "pipelines", "sandbox"},
    "sources": {"destinations", "pipelines", "sandbox"},
    "destinations": {"sources", "pipelines", "sandbox"},
    # the emulators stand in for the real services: they share no code with our clients
    "sandbox": {"httpkit", "sources", "destinations", "pipelines"},
    "sandbox/metronome": {"sandbox.fincome"},
    "sandbox/fincome": {"sandbox.metronome"},
}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize(("package", "forbidden"), sorted(FORBIDDEN.items()))
def test_package_does_not_import_across_layers(package: str, forbidden: set[str]) -> None:
    offenders = []
    for path in sorted((REPO / package).rglob("*.py")):
        for module in _imports(path):
            if any(module == f or module.startswith(f + ".") for f in forbidden):
                offenders.append(f"{path.relative_to(REPO)} imports {module}")
    assert offenders == []
