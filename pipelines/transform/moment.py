"""`as_of` watched: for how long a customer's mapping stays what it is as time goes by.

A customer's rows depend on `as_of` only where the mapping compares it with an instant (a
subscription is `canceled` once its `ending_before` <= as_of, `trialing` while as_of is before
its trial end...). `WatchedMoment` is `as_of` noting every instant it is compared with; its
`span` is then the range of moments (both ends included) that fall on the same side of each of
those instants: mapped at any moment of the span, the customer gives the same rows. Any other
use of the moment (arithmetic, a field other than its zone) could make the rows a function of
time no comparison shows, so it shrinks the span to the moment itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

TICK = timedelta(microseconds=1)  # the finest step of a datetime
# what the mapping may read without depending on time: its zone (to_datetime's checks)
_SAFE = frozenset({"tzinfo", "astimezone", "utcoffset", "year"})

Span = tuple[datetime | None, datetime | None]  # first and last moment; None: unbounded


class WatchedMoment(datetime):
    """A datetime that notes the instants it is compared with."""

    plain: datetime  # the same moment, unwatched
    compared: list[datetime]
    untracked: bool

    @classmethod
    def of(cls, moment: datetime) -> WatchedMoment:
        watched = cls.fromisoformat(moment.isoformat())
        watched.plain, watched.compared, watched.untracked = moment, [], False
        return watched

    def span(self) -> Span:
        """The moments the rows mapped at this one hold for."""
        moment = self.plain
        if self.untracked or moment in self.compared:
            return (moment, moment)
        before = [t for t in self.compared if t < moment]
        after = [t for t in self.compared if t > moment]
        return (
            max(before) + TICK if before else None,
            min(after) - TICK if after else None,
        )

    def _note(self, other: object) -> None:
        if isinstance(other, datetime):
            object.__getattribute__(self, "compared").append(other)
        else:
            self._untrack()

    def _untrack(self) -> None:
        object.__setattr__(self, "untracked", True)

    def __getattribute__(self, name: str) -> Any:
        if not name.startswith("_") and name not in _SAFE and name not in _OWN:
            object.__setattr__(self, "untracked", True)
        return super().__getattribute__(name)

    def __lt__(self, other: object) -> bool:
        self._note(other)
        return datetime.__lt__(self, other)  # type: ignore[operator]

    def __le__(self, other: object) -> bool:
        self._note(other)
        return datetime.__le__(self, other)  # type: ignore[operator]

    def __gt__(self, other: object) -> bool:
        self._note(other)
        return datetime.__gt__(self, other)  # type: ignore[operator]

    def __ge__(self, other: object) -> bool:
        self._note(other)
        return datetime.__ge__(self, other)  # type: ignore[operator]

    def __eq__(self, other: object) -> bool:
        self._note(other)
        return datetime.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        self._note(other)
        return datetime.__ne__(self, other)

    __hash__ = datetime.__hash__

    def __add__(self, other: Any) -> Any:
        self._untrack()
        return datetime.__add__(self, other)

    __radd__ = __add__

    def __sub__(self, other: Any) -> Any:
        self._untrack()
        return datetime.__sub__(self, other)

    def __rsub__(self, other: Any) -> Any:
        self._untrack()
        return datetime.__rsub__(self, other)  # type: ignore[attr-defined]


_OWN = frozenset({"plain", "compared", "untracked", "span", "of"})


def holds(span: Span, moment: datetime) -> bool:
    """Whether `moment` lies in `span`."""
    first, last = span
    return (first is None or first <= moment) and (last is None or moment <= last)
