"""HTTP resilience shared by the Metronome and Fincome clients.

Knows neither API: one retry policy (429, 408, 5xx, transport errors; honours Retry-After),
client-side pacing that slows down on 429s, request statistics, base-URL safety checks and
an `httpx.Client` that keeps no cookies.
"""

from httpkit.client import CookielessClient
from httpkit.pacing import AdaptivePacer
from httpkit.retry import RetryPolicy, retry_after_seconds
from httpkit.sender import ResilientSender
from httpkit.stats import RequestStats
from httpkit.urls import InsecureBaseURLError, check_base_url

__all__ = [
    "AdaptivePacer",
    "CookielessClient",
    "InsecureBaseURLError",
    "RequestStats",
    "ResilientSender",
    "RetryPolicy",
    "check_base_url",
    "retry_after_seconds",
]
