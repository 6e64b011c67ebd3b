"""glibc's allocator on Linux: freed heap returned (malloc_trim), arenas capped (mallopt);
nothing where that libc is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipelines import heap


class _FakeLibc:
    def __init__(self) -> None:
        self.trims: list[int] = []
        self.options: list[tuple[int, int]] = []

    def malloc_trim(self, pad: int) -> int:
        self.trims.append(pad)
        return 1

    def mallopt(self, parameter: int, value: int) -> int:
        self.options.append((parameter, value))
        return 1


def test_linux_trims_the_whole_free_heap(monkeypatch: pytest.MonkeyPatch) -> None:
    libc = _FakeLibc()
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setattr("ctypes.CDLL", lambda name: libc)
    heap.release_freed_memory()
    assert libc.trims == [0]


def test_linux_caps_the_malloc_arenas(monkeypatch: pytest.MonkeyPatch) -> None:
    libc = _FakeLibc()
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setattr("ctypes.CDLL", lambda name: libc)
    heap.limit_malloc_arenas()
    assert libc.options == [(heap.M_ARENA_MAX, heap.MALLOC_ARENAS)]


@pytest.mark.parametrize("problem", [OSError("no libc.so.6"), AttributeError("malloc_trim")])
def test_a_libc_without_those_calls_is_left_alone(
    monkeypatch: pytest.MonkeyPatch, problem: Exception
) -> None:
    def load(name: str) -> object:
        raise problem

    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setattr("ctypes.CDLL", load)
    heap.release_freed_memory()  # no error: the run goes on with its heap as it is
    heap.limit_malloc_arenas()


def test_other_platforms_do_not_load_a_libc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.platform", "darwin")
    monkeypatch.setattr("ctypes.CDLL", pytest.fail)
    heap.release_freed_memory()
    heap.limit_malloc_arenas()


def test_the_real_calls_return() -> None:
    heap.limit_malloc_arenas()
    heap.release_freed_memory()


def test_the_command_line_loads_no_arrow_before_its_memory_pool_is_chosen() -> None:
    # Arrow picks its allocator once (`heap.arrow_allocates_with_malloc`): loaded at import,
    # before the choice, it kept jemalloc, and L's transform peaked 30-40 MB higher
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, pipelines.cli; print('pyarrow' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert loaded.stdout.strip() == "False"
