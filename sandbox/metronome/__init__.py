"""The Metronome emulator: Metronome's v1 API on loopback, over a generated account.

Like moto, state and rules are kept apart from the routes:

- `app.py` routes, bearer auth and error bodies; `admin.py` the `/_emulator/` extras;
  `params.py` query parsing;
- `store.py` the state and its rules (`filters.py`, `paging.py`, `book.py`), `clock.py`
  moving time, `snapshot.py` the state dump;
- `generator.py` the deterministic account: `catalog.py` (plans and charges), `stories.py`
  (customer timelines), `identities.py`, `usage.py`, `rating.py`, `invoices.py`,
  `lifecycle.py` and `history.py` (Stripe statuses, voids, regenerations, corrections);
- `wire.py` exact JSON numbers, timestamps, ids and cursors; `periods.py` the calendar.
"""
