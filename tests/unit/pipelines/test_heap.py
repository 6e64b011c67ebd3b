"""Returning freed heap: glibc's malloc_trim(0) on Linux, nothing where it is missing."""

from __future__ import annotations

import pytest

from pipelines import heap


class _FakeLibc:
    def __init__(self) -> None:
        self.trims: list[int] = []

    def malloc_trim(self, pad: int) -> int:
        self.trims.append(pad)
        return 1


def test_linux_trims_the_whole_free_heap(monkeypatch: pytest.MonkeyPatch) -> None:
    libc = _FakeLibc()
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setattr("ctypes.CDLL", lambda name: libc)
    heap.release_freed_memory()
    assert libc.trims == [0]


@pytest.mark.parametrize("problem", [OSError("no libc.so.6"), AttributeError("malloc_trim")])
def test_a_libc_without_malloc_trim_is_left_alone(
    monkeypatch: pytest.MonkeyPatch, problem: Exception
) -> None:
    def load(name: str) -> object:
        raise problem

    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setattr("ctypes.CDLL", load)
    heap.release_freed_memory()  # no error: the run goes on with its heap as it is


def test_other_platforms_do_not_load_a_libc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.platform", "darwin")
    monkeypatch.setattr("ctypes.CDLL", pytest.fail)
    heap.release_freed_memory()


def test_the_real_call_returns() -> None:
    heap.release_freed_memory()
