"""`billing-sync reconcile`: Metronome staging vs the ledger vs Fincome read back.

| module | what |
|---|---|
| `metronome.py` | staged invoices -> the documents Fincome should hold (the transform's rules) |
| `ledger.py` | `fincome_sync.ledger` -> the documents billing-sync pushed (acknowledged bodies) |
| `fincome.py` | Fincome's views and metrics -> the documents it holds, its own monthly totals |
| `compare.py` | differences per document, totals per month and currency |
| `result.py`, `wording.py` | the outcome, its JSON and plain-language wording |
| `report.py`, `chart.py` | the self-contained HTML report with its SVG chart |
| `runner.py` | `reconcile(db, client, options)` |
"""
