"""HTTP resilience shared by the Metronome and Fincome clients.

Knows neither API:
- one retry policy (429, 408, 5xx, transport errors, answers the caller cannot use), within
  a budget per request; Retry-After is read strictly and honoured only when it fits in what
  is left of that budget (`WaitBeyondBudget` otherwise);
- a total deadline per attempt (connect, headers, whole body), which httpx lacks;
- faults no retry can fix (TLS, certificates, illegal headers) raised at once
  (`setup_fault`), described without quoting the request; every form a message can quote a
  secret in (`secret_forms`, `redact`);
- the process-wide stop switch every wait and request honours (`PROCESS_STOP`);
- client-side pacing that slows down on 429s, request statistics, base-URL safety checks
  and an `httpx.Client` that keeps no cookies;
- one line per attempt (method, path, status, milliseconds; `requestlog`), logged at DEBUG
  and handed to whoever listens (a run's progress snapshot counts requests there).
"""

from httpkit.client import CookielessClient
from httpkit.faults import SetupFault, setup_fault
from httpkit.pacing import AdaptivePacer
from httpkit.requestlog import RequestLine, listening
from httpkit.retry import RetryPolicy, WaitBeyondBudget, retry_after_seconds
from httpkit.secrets import redact, secret_forms
from httpkit.sender import ResilientSender
from httpkit.stats import RequestStats
from httpkit.stopping import PROCESS_STOP, StopRequested, StopSwitch
from httpkit.urls import InsecureBaseURLError, check_base_url

__all__ = [
    "PROCESS_STOP",
    "AdaptivePacer",
    "CookielessClient",
    "InsecureBaseURLError",
    "RequestLine",
    "RequestStats",
    "ResilientSender",
    "RetryPolicy",
    "SetupFault",
    "StopRequested",
    "StopSwitch",
    "WaitBeyondBudget",
    "check_base_url",
    "listening",
    "redact",
    "retry_after_seconds",
    "secret_forms",
    "setup_fault",
]
