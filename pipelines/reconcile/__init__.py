"""`billing-sync reconcile`: Metronome staging vs the ledger vs Fincome read back.

| module | what |
|---|---|
| `metronome.py` | staged invoices -> the documents Fincome should hold (the transform's rules) |
| `ledger.py` | `fincome_sync.ledger` -> the documents billing-sync pushed (acknowledged bodies) |
| `discovery.py` | which of Fincome's views and metrics to read, chosen by what they describe |
| `fincome.py` | a chosen view -> the documents Fincome holds; the chosen metrics per month |
| `byid.py` | Fincome's documents read one by one by id (all, or a sample) |
| `coverage.py` | each kind of document: its view, else by id, else unread, and why |
| `compare.py` | differences per document, totals per month and currency |
| `result.py`, `wording.py`, `guidance.py` | the outcome and its JSON, its plain-language wording, the next steps |
| `report.py`, `chart.py` | the self-contained HTML report with its SVG chart |
| `runner.py` | `reconcile(db, client, options, sample_size=None)` |
"""  # noqa: E501
