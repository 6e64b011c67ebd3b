"""The Fincome API emulator: strict where the real service is strict, and stricter where a
sloppy client would get away with something there.

- `app.py` HTTP surface (`build_app`), auth, control plane and faults from `sandbox.common`;
- `models.py` / `fields.py` / `validation.py` the seed's bodies and how they are checked;
- `schema.py` / `store.py` collections, references, delete rules, atomic writes;
- `readapi.py` the read API; `metrics.py`, `mrr.py`, `facts.py`, `money.py`,
  `dimensions.py`, `periods.py` the metrics; `views.py`, `view_query.py`, `filters.py` the
  views;
- `errors.py` / `wire.py` FastAPI-shaped errors, exact-money JSON.
"""
