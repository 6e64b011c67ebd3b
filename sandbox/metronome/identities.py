"""Who the generated customers are: names, contact custom fields and ingest aliases.

About one name in seven is non-ASCII (accents, CJK, emoji) so a loader meets unicode early;
`SPOTLIGHT_NAMES` are handed to the first customers so even a dozen-customer account has
one of each kind.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.metronome.wire import iso

SPOTLIGHT_NAMES = (
    "Société Générale des Données",  # accents
    "株式会社さくらクラウド",  # CJK
    "Rocket 🚀 Labs",  # emoji
)

_UNICODE_NAMES = (
    "Müller & Söhne GmbH",
    "Ñandú Analítica S.L.",
    "Łódź Logistics Sp. z o.o.",
    "Øresund Energi ApS",
    "Crème Brûlée Studios",
    "北京云数科技有限公司",
    "서울 데이터 주식회사",
    "Θάλασσα Shipping",
    "Café ☕ Collective",
    "Zürich Fintech AG",
    "São Paulo Pagamentos Ltda.",
    "Ángel Robotics",
)

_FIRST = (
    "Acme", "Blue", "Bright", "Cedar", "Cobalt", "Delta", "Ember", "Falcon", "Granite",
    "Harbor", "Indigo", "Juniper", "Kestrel", "Lumen", "Maple", "Nimbus", "Orbit", "Pine",
    "Quartz", "Redwood", "Summit", "Tidal", "Umbra", "Vertex", "Willow", "Zenith",
)  # fmt: skip
_SECOND = (
    "Analytics", "Apps", "Bio", "Cloud", "Commerce", "Data", "Devices", "Dynamics", "Energy",
    "Foods", "Games", "Health", "Insights", "Labs", "Logistics", "Media", "Metrics",
    "Networks", "Payments", "Robotics", "Security", "Software", "Systems", "Travel",
)  # fmt: skip
_SUFFIX = ("Inc.", "LLC", "Ltd.", "Corp.", "Co.", "Group", "", "")

_COUNTRIES = {
    "usd": ("US", "US", "US", "US", "CA", "GB", "AU", "SG", "JP", "IN"),
    "eur": ("FR", "DE", "ES", "IT", "NL", "IE", "BE", "PT", "AT", "FI"),
}
_SEGMENTS = ("SMB", "Mid-Market", "Enterprise")


@dataclass(frozen=True)
class Identity:
    name: str
    custom_fields: dict[str, str]
    ingest_aliases: list[str]
    salesforce_account_id: str | None


def customer_detail(
    customer_id: str,
    identity: Identity,
    created_at: datetime,
    updated_at: datetime,
    archived_at: datetime | None,
) -> dict[str, Any]:
    """Metronome's CustomerDetail of a generated customer (plan or contract)."""
    return {
        "id": customer_id,
        "external_id": identity.ingest_aliases[0],
        "ingest_aliases": identity.ingest_aliases,
        "name": identity.name,
        "custom_fields": identity.custom_fields,
        "customer_config": {"salesforce_account_id": identity.salesforce_account_id},
        "created_at": iso(created_at),
        "updated_at": iso(updated_at),
        "archived_at": iso(archived_at) if archived_at else None,
    }


def make_identity(rng: random.Random, index: int, segment: str, region: str) -> Identity:
    name = _name(rng, index)
    slug = _slug(name) or f"customer{index}"
    fields = {
        "email": f"billing@{slug}.example.com",
        "country": rng.choice(_COUNTRIES[region]),
        "zip_code": _zip_code(rng),
        "segment": segment,
    }
    if rng.random() < 0.06:  # some accounts never filled in a postal code
        del fields["zip_code"]
    aliases = [f"{slug}-{index:05d}"]
    if rng.random() < 0.3:
        aliases.append(f"org_{rng.getrandbits(40):010x}")
    salesforce = f"001{rng.getrandbits(48):012X}" if segment != "SMB" else None
    return Identity(name, fields, aliases, salesforce)


def segment_of(family: str) -> str:
    return {"starter": "SMB", "enterprise": "Enterprise", "quarterly": "Enterprise"}.get(
        family, "Mid-Market"
    )


def _name(rng: random.Random, index: int) -> str:
    if index < len(SPOTLIGHT_NAMES):
        return SPOTLIGHT_NAMES[index]
    if rng.random() < 0.14:
        return rng.choice(_UNICODE_NAMES)
    suffix = rng.choice(_SUFFIX)
    return " ".join(part for part in (rng.choice(_FIRST), rng.choice(_SECOND), suffix) if part)


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def _zip_code(rng: random.Random) -> str:
    return f"{rng.randrange(1000, 99999):05d}"
