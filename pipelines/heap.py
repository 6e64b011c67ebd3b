"""Keep the sync's resident memory close to what it uses: glibc's allocator keeps freed heap
and grows one arena per busy thread unless told otherwise, and pyarrow brings an allocator
of its own. On a libc that is not glibc (musl, macOS, Windows) the two glibc calls here do
nothing."""

from __future__ import annotations

import ctypes
import gc
import os
import sys

M_ARENA_MAX = -8  # mallopt parameter, from glibc's malloc.h
MALLOC_ARENAS = 2


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> None:
    """Cap glibc's malloc arenas for the rest of the process (call it before threads start).

    glibc gives each thread that meets a locked arena one of its own, up to 8 per core, and
    memory freed in one arena serves only that arena: the push's 8 sending threads, dlt's
    load threads and DuckDB's each held freed blocks the others could not reuse. With two
    arenas alone the L sync's peak went from 408-426 MB (three runs) to 397 MB
    (benchmarks/notes.md, optimisation 7); the threads wait on the GIL far more than on
    malloc's lock.
    """
    libc = _glibc()
    if libc is not None:
        libc.mallopt(M_ARENA_MAX, arenas)


def release_freed_memory() -> None:
    """glibc keeps the arenas a phase freed (dlt's buffered rows, DuckDB's results) mapped, so
    the next phase's peak stacks on them: on 2,000 customers x 24 months the sync's peak was
    the push's plus 10 MB of the extract's leftovers. `malloc_trim` returns them."""
    libc = _glibc()
    if libc is not None:
        gc.collect()
        libc.malloc_trim(0)


def arrow_allocates_with_malloc() -> None:
    """Make pyarrow (dlt's Parquet writer) allocate with malloc, not its own jemalloc.

    jemalloc keeps what it freed for reuse, out of reach of `release_freed_memory`: the L
    extract peaked at 398 MB with it and 370 MB with malloc, in the same time. Arrow reads
    this variable when it first allocates, so it must be set before; `set_memory_pool` is
    not enough, as it only changes the pool that Python calls default to (398 MB still).
    A choice the user made in the environment stands.
    """
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt, libc.malloc_trim  # noqa: B018 - absent outside glibc
    except (OSError, AttributeError):
        return None
    return libc
