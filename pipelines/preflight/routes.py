"""Is a path served? The rule that tells "not found" (a served route, an unknown id) from
"no such route", from answers to harmless reads.

Fincome's real paths are not public (`/customers` or `/clients`?), and a 404 alone says
nothing: FastAPI answers 404 both for a route it does not have and for an id a route does not
know. So each collection is read twice, `GET {path}` and `GET {path}/{PROBE_ID}`, and so is a
path that surely does not exist (`CONTROL_PATH`): the control shows what "no such route"
looks like on this server. For each read:

| answer                                    | verdict                                      |
|-------------------------------------------|----------------------------------------------|
| 2xx, 405 (another verb), 400 / 422        | served: the route exists and answered        |
| 401 / 403                                 | refused: the key (no verdict on the route)   |
| 404 that differs from the control's 404   | served: "not found", the route knows no id   |
| 404 the same as the control's 404         | no such route                                |
| anything else, or a control that is no 404 | undetermined                                 |

Bodies are compared with the request's own path and the probe id masked (a server may echo
them: "Cannot GET /clients/x"). A collection is served when either read says so, missing
when both say "no such route".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

PROBE_ID = "billing-sync-check-0000"  # an id no account holds; only ever read
CONTROL_PATH = "/billing-sync-check-no-such-route"


class Route(StrEnum):
    SERVED = "served"
    MISSING = "no such route"
    REFUSED = "refused"  # the key was refused: the route cannot be judged
    UNDETERMINED = "undetermined"


@dataclass(frozen=True)
class Answer:
    """One answer: its status and its body with the asked path and the probe id masked."""

    status: int
    body: str

    @classmethod
    def of(cls, status: int, body: str, *, path: str) -> Answer:
        masked = body.replace(path, "{path}").replace(PROBE_ID, "{id}")
        return cls(status, " ".join(masked.split()))


def verdict(probe: Answer, control: Answer | None) -> Route:
    """The verdict of one read, compared with the same read of `CONTROL_PATH`."""
    status = probe.status
    if 200 <= status < 300 or status in (400, 405, 422):
        return Route.SERVED
    if status in (401, 403):
        return Route.REFUSED
    if status != 404 or control is None or control.status != 404:
        return Route.UNDETERMINED
    return Route.MISSING if probe.body == control.body else Route.SERVED


def combined(*verdicts: Route) -> Route:
    """A collection's verdict from its reads: served if any read says so, missing if all do."""
    for route in (Route.SERVED, Route.REFUSED):
        if route in verdicts:
            return route
    if verdicts and all(v is Route.MISSING for v in verdicts):
        return Route.MISSING
    return Route.UNDETERMINED
