"""The transform: the only code that knows both Metronome's and Fincome's vocabularies.

- `engine.transform(catalog, bundles, options, as_of)` maps staged Metronome objects to the
  desired Fincome rows (the typed rows of `destinations.fincome.rows`) and the records it
  cannot represent (`rejects.TransformReject`); pure and streaming.
- `options.MappingOptions`: the `[mapping]` choices; `config.load_mapping_options()` reads
  them through dlt.
- `runner.run_transform(db, options, as_of)` reads staging and rewrites the `fincome` tables.

One module per Fincome entity (customers, products, prices, subscriptions,
contract_subscriptions, invoices, invoice_line_items, credit_notes), each opening with its
field table; contract_lines.py holds the rule of each contract-era line item type, bundle.py
what is skipped as not revenue, money.py the currency and rounding rules.
"""
