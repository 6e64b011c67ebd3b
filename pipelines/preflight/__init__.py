"""The pre-flight: what `billing-sync check` reports, and the cheap part `sync` runs first.

- `routes.py`: the rule that tells a served path ("not found") from no such route;
- `reader.py`: quick, bounded reads (one attempt, a short timeout);
- `apis.py`: each API reachable, TLS right, authenticated; Fincome's paths, views, metrics;
- `binding.py`, `accounts.py`: the accounts a data dir belongs to (`accounts.json`);
- `findings.py`: what was found, and what to fix;
- `sync.py`: the cheap part, before `sync`'s extract.
"""
