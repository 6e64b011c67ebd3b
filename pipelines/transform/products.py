"""Fincome products: the Metronome products that synced lines (or their prices) refer to.

| Fincome field | from | rule |
|---|---|---|
| id | line item `product_id` | (1) |
| name | plan charge `product_name` | else the newest synced line item's `name` (2) |
| custom_properties | - | `{}` |

(1) Line items without a product: `metronome:unlinked`; invoice adjustments:
    `metronome:adjustment`. These two synthetic products have fixed names.
(2) Newest by invoice date, then line id, so the choice does not depend on input order.
"""

from __future__ import annotations

from destinations.fincome.rows import ProductRow
from pipelines.transform.catalog import CatalogUsage, CatalogView
from pipelines.transform.lines import ADJUSTMENT_PRODUCT, UNLINKED_PRODUCT

SYNTHETIC_PRODUCT_NAMES = {
    ADJUSTMENT_PRODUCT: "Invoice adjustments (Metronome)",
    UNLINKED_PRODUCT: "Charges without a product (Metronome)",
}


def product_rows(view: CatalogView, usage: CatalogUsage) -> list[ProductRow]:
    """One row per product the synced lines and prices use, ordered by id."""
    return [
        {
            "id": product_id,
            "name": SYNTHETIC_PRODUCT_NAMES.get(product_id)
            or view.charge_product_names.get(product_id)
            or line_name,
            "custom_properties": {},
        }
        for product_id, (_, line_name) in sorted(usage.products.items())
    ]
