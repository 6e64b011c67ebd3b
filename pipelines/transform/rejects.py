"""The transform's reject: a staged record (or a mapped row) the mapping cannot represent.

The transform hands its rejects to its caller, who stores them with the other stages' in
`fincome_sync.rejects` (`pipelines.rejects.store_transform_rejects`): the transform itself
knows nothing of the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

import orjson


@dataclass(frozen=True)
class TransformReject:
    stage: ClassVar[str] = "transform"  # the stage the ledger files them under
    collection: str  # the Metronome table or Fincome collection the record belongs to
    record_id: str
    reason: str  # one line a person can act on
    payload: Any = None  # the record as it was when it was refused

    def packed(self) -> TransformReject:
        """The same reject with its payload as the JSON text it is stored as.

        A run may refuse thousands of records; held as Python objects until they are stored,
        L's 3,795 refused invoices took about 90 MB, as JSON text 11 MB. A payload orjson
        cannot write (nested deeper than 254 levels, an int beyond 64 bits) stays as it is:
        the ledger writes such junk its own way when it stores it.
        """
        if self.payload is None or isinstance(self.payload, orjson.Fragment):
            return self
        try:
            # as the ledger writes it; text, not bytes: those keep orjson's whole buffer
            text = orjson.dumps(self.payload, default=str).decode()
        except TypeError:
            return self
        return replace(self, payload=orjson.Fragment(text))
