"""The ledger side: what billing-sync pushed and Fincome acknowledged, from the stored bodies.

One SQL query over `fincome_sync.ledger` sums the acknowledged line bodies of every invoice
and credit note (`amount_excluding_tax_after_discount`, credit note lines' `amount`), with
the date, status and customer of the document's own body: the same arithmetic Fincome's
views do on what it stores, so the ledger and Fincome agree when the ledger tells the truth.
A credit note's customer is its invoice's. Void invoices count nothing.
"""

from __future__ import annotations

import duckdb

from pipelines.reconcile.documents import VOID, Documents, Held, month_of, to_amount

LEDGER = "fincome_sync.ledger"

_QUERY = f"""
WITH lines AS (
    SELECT
        CASE collection WHEN 'invoice_line_items' THEN 'invoices' ELSE 'credit_notes' END
            AS parent_collection,
        COALESCE(parent_id, body->>'invoice_id', body->>'credit_note_id') AS parent_id,
        CAST(COALESCE(body->>'amount_excluding_tax_after_discount', body->>'amount')
             AS DECIMAL(38, 9)) AS amount,
        body->>'currency_code' AS currency
    FROM {LEDGER}
    WHERE collection IN ('invoice_line_items', 'credit_note_line_items')
),
totals AS (
    SELECT parent_collection, parent_id, sum(amount) AS amount,
           string_agg(DISTINCT currency, ',' ORDER BY currency) AS currency
    FROM lines
    GROUP BY parent_collection, parent_id
)
SELECT
    document.collection,
    document.id,
    COALESCE(document.body->>'customer_id', invoice.body->>'customer_id') AS customer_id,
    totals.currency,
    document.body->>'date' AS date,
    COALESCE(totals.amount, 0) AS amount,
    document.body->>'status' AS status
FROM {LEDGER} AS document
LEFT JOIN totals
    ON totals.parent_collection = document.collection AND totals.parent_id = document.id
LEFT JOIN {LEDGER} AS invoice
    ON document.collection = 'credit_notes' AND invoice.collection = 'invoices'
    AND invoice.id = document.body->>'invoice_id'
WHERE document.collection IN ('invoices', 'credit_notes')
"""


def read_ledger(db: duckdb.DuckDBPyConnection) -> Documents:
    """Every invoice and credit note the ledger holds, worth its acknowledged lines."""
    exists = db.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'fincome_sync' AND table_name = 'ledger'"
    ).fetchone()
    if not exists or not exists[0]:
        return {}  # nothing pushed yet
    documents: Documents = {}
    cursor = db.execute(_QUERY)
    while batch := cursor.fetchmany(10_000):
        for collection, document_id, customer_id, currency, date, amount, status in batch:
            is_invoice = collection == "invoices"
            total = to_amount(amount)
            documents[document_id] = Held(
                kind="invoice" if is_invoice else "credit_note",
                id=document_id,
                customer_id=customer_id,
                currency=currency,
                month=month_of(date),
                amount=total if is_invoice else abs(total),
                status=status or "",
                counted=status != VOID,
            )
    return documents
