"""Why a push failed, in one line and with the right exit code.

`explain` turns the error that stopped the push into its reason: a key Fincome refuses, an
endpoint that does not exist or a TLS handshake no retry can fix is a configuration error
naming its setting (exit 2); anything else is `PushFailed` (exit 1).

Fincome refusing every write alike is a fault of the endpoint, not of the records. A wrong
base path, or a proxy that answers 400 to every write, used to set every record
aside and exit 3, which schedulers (our DAG included) only warn on. When not one write of a
run was acknowledged and every refusal carried the same status that is not a validation
error, the records are not at fault: the run stops with a configuration error naming the
base URL (exit 2), and the rejects this run opened are withdrawn, since they say nothing
about their records. It is judged from the push's own request counts, after each
wave of steps (stopping early once `EARLY_REFUSALS` agree) and at the end of the push.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import duckdb

from destinations.fincome.errors import (
    AuthenticationFailed,
    EndpointMissing,
    FincomeError,
    SetupFailed,
)
from pipelines.config import ConfigError, env_key

EARLY_REFUSALS = 5  # refusals alike, and nothing acknowledged, that stop the push early
# Answers that say something about the record, or that the client already turns into a
# failure of the run (auth, rate limits, a missing endpoint: 405, 404 on a create), into
# another request (409 -> update, 404 on an update -> create) or into done (404 on a delete:
# already gone). A run that only deletes records someone already removed is not misconfigured.
RECORD_STATUSES = frozenset({401, 403, 404, 405, 409, 422, 429})
MISCONFIGURED = (EndpointMissing, SetupFailed)


class PushFailed(Exception):
    """The push stopped; the message says why in one line (never a secret)."""


def endpoint_fault(requests: Mapping[str, Any], *, finished: bool) -> ConfigError | None:
    """The configuration error when the push's requests so far (`RequestStats` counts since
    it began) were all refused alike; None while anything went through or they differ."""
    by_status: Mapping[str, int] = requests["by_status"]
    codes = {int(status): count for status, count in by_status.items() if status.isdigit()}
    if any(200 <= code < 300 for code in codes):
        return None
    refused = {code: n for code, n in codes.items() if 400 <= code < 500}
    if len(refused) != 1 or set(refused) & RECORD_STATUSES:
        return None
    [(status, count)] = refused.items()
    if count < (1 if finished else EARLY_REFUSALS):
        return None
    return ConfigError(
        env_key("destination.fincome.base_url"),
        f"Fincome answered HTTP {status} to every write of this run ({count}) and accepted "
        "none: that is the endpoint, not the records. Check the base URL and "
        "[destination.fincome.paths] (a proxy in between?); nothing was set aside",
    )


def withdraw_push_rejects(db: duckdb.DuckDBPyConnection, since: datetime) -> None:
    """Forget the push rejects this run opened: the endpoint refused them, not Fincome."""
    db.execute("DELETE FROM fincome_sync.rejects WHERE stage = 'push' AND first_seen >= ?", [since])


def stop_if_refused_alike(
    db: duckdb.DuckDBPyConnection,
    requests: dict[str, Any],
    since: datetime,
    *,
    finished: bool = False,
) -> None:
    """Raise the configuration error when the push so far was refused alike, after
    withdrawing the rejects it opened."""
    if (fault := endpoint_fault(requests, finished=finished)) is not None:
        withdraw_push_rejects(db, since)
        raise fault


def explain(failure: FincomeError) -> Exception:
    """The one-line reason a push stopped, with its exit code's exception.

    A key Fincome refuses is a configuration error (exit 2), like a token Metronome
    refuses; so are an endpoint that does not exist and a TLS handshake or header that no
    retry can fix, each naming its setting. Anything else (retries spent) is `PushFailed`.
    """
    if isinstance(failure, AuthenticationFailed):
        header = env_key("destination.fincome.api_key_header")
        problem = f"refused by Fincome ({failure}); check it and {header}"
        return ConfigError(env_key("destination.fincome.api_key"), problem)
    if isinstance(failure, MISCONFIGURED):  # a wrong path, a refused TLS handshake
        return ConfigError(env_key(failure.key), " ".join(str(failure).split()))
    text = (
        f"the push stopped: {failure}. What Fincome acknowledged is in the ledger; "
        "the next run continues from there"
    )
    return PushFailed(" ".join(text.split())[:500])
