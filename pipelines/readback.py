"""Read back what Fincome holds, by id: the one way `repair`, `show` and a by-id reconcile read.

Fincome has no list endpoint for the imported collections (reference §1.3), so what it holds
is known only record by record: `GET /{collection}/{id}`. `read_back` sends those reads
through the client (its pacing, retries, and at most `max_concurrency` requests in flight)
from a pool of that many threads, keeping only a window of ids in hand so that a million ids
cost no more memory than a hundred. A record Fincome answers 404 for is `None`; any other
failure (auth, retries spent, the process stopping) is raised once the reads in flight are
answered, and no new read starts.

`differing_fields` compares a record Fincome holds with the body we send for it: only the
fields we send (Fincome adds its own, like `created_at`), each normalised by its kind on both
sides (`body.normalize`: `100.0` is `100`, `+00:00` is `Z`), and only those Fincome shows.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from decimal import Decimal
from itertools import islice
from typing import Any

from destinations.fincome import FincomeClient, NotFound
from destinations.fincome.body import BodyError, normalize
from destinations.fincome.schema import collection as collection_spec

Held = dict[str, Any] | None
# ids handed to the pool ahead of the answers: enough to keep every slot busy while the
# caller handles an answer, few enough that memory stays flat
AHEAD_PER_SLOT = 2


def read_back(
    client: FincomeClient, collection: str, ids: Iterable[str]
) -> Generator[tuple[str, Held]]:
    """Fincome's copy of each record by id (None when it answers 404), concurrently within
    the client's max_concurrency and pacing; order not kept."""
    remaining = iter(ids)
    slots = client.max_concurrency
    with ThreadPoolExecutor(slots, thread_name_prefix="fincome-read") as pool:
        pending: dict[Future[Held], str] = {}

        def submit(count: int) -> None:
            for record_id in islice(remaining, count):
                pending[pool.submit(_read, client, collection, record_id)] = record_id

        submit(slots * AHEAD_PER_SLOT)
        try:
            while pending:
                answered, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in answered:
                    record_id = pending.pop(future)
                    held = future.result()  # a failure stops here: no new read starts
                    yield record_id, held
                submit(len(answered))
        finally:
            for future in pending:
                future.cancel()  # those not started; the pool waits for the ones on the wire


def read_one(client: FincomeClient, collection: str, record_id: str) -> Held:
    """Fincome's copy of one record, or None when it answers 404."""
    return _read(client, collection, record_id)


def _read(client: FincomeClient, collection: str, record_id: str) -> Held:
    try:
        return client.get(collection, record_id)
    except NotFound:
        return None


def differing_fields(
    collection: str, body: str | Mapping[str, Any], held: Mapping[str, Any]
) -> list[str]:
    """The fields of `body` (the canonical body we send, or its JSON text) whose value
    Fincome's copy `held` shows differently, in the collection's field order."""
    sent = json.loads(body, parse_float=Decimal) if isinstance(body, str) else body
    differing = []
    for field, kind in collection_spec(collection).body_kinds:
        if field not in held:
            continue  # a field Fincome does not show cannot be compared
        try:
            same = normalize(kind, held[field], field) == normalize(kind, sent.get(field), field)
        except BodyError:  # a value no body of ours could hold: edited by hand, say
            same = False
        if not same:
            differing.append(field)
    return differing
