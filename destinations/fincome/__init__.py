"""The Fincome destination: HTTP client, ledger and the `fincome` dlt destination factory."""
