"""What the source tells a caller about its progress, and which customers it keeps.

The source shows nothing itself: a caller that wants a progress display passes an
`on_progress` sink and draws what it likes. Events come from dlt's extract threads, so a
sink must be thread-safe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class ExtractProgress:
    """`listed`: a customer to read (after `keep_customer`); `read`: its invoices are in;
    `failed`: they could not be read this run (see `customer_reads.py`)."""

    event: Literal["listed", "read", "failed"]
    customer_id: str


ProgressSink = Callable[[ExtractProgress], None]
CustomerFilter = Callable[[str], bool]  # customer id (or `no-id:<hash>`) -> read it?


def no_progress(event: ExtractProgress) -> None:
    """The default sink: nobody is watching."""
