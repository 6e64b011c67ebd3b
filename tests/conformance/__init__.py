"""The conformance ring: Metronome's official SDK against our Metronome emulator.

The oracle is `metronome-sdk==4.12.0` (a dev dependency, imported only here and never by
the runtime: it parses money as float). Its Stainless models are the wire format; the ring
proves the emulator serves exactly that, so the source and transform tests built on the
emulator are tests against what Metronome sends.

- `test_endpoints.py`: every endpoint the source reads (`sources/metronome/settings.py`,
  plus `POST /v2/contracts/list` and `/v2/contracts/get`), called through the SDK with
  `_strict_response_validation=True` and small pages, so the SDK's own cursor handling
  walks each list; the walk must visit exactly the records `/_emulator/state` holds.
- `test_records.py`: every record `/_emulator/state` holds, validated against its model.
- `test_invoice_filters.py`: each filter the SDK offers on the invoice list either does
  what its docstring says or is refused with a 400; none is silently ignored.
- `test_shapes.py`: the checker itself.

Problems are reported as paths (`invoices[17].payer.contract_id: Field required`), and a
field the model does not declare is a problem too (Stainless models accept extras, so an
invented field would otherwise pass). Each account of `conftest.ACCOUNTS` is checked:
the pinned one, larger seeds, contract-only and mixed plan/contract accounts.

The run's counts (endpoints called, records validated per model and account, errors) are
printed in the terminal summary and written to `conformance-counts.json` in pytest's base
temp dir: `.venv/bin/python -m pytest tests/conformance --basetemp=/tmp/ring` then read
`/tmp/ring/conformance-counts.json`. Mismatches found along the way are described for the
emulator's owner in `/work/notes/conformance_findings.md`.
"""
