"""Test isolation: no developer environment variable, settings file or dlt home leaks in.

This runs before any test module imports dlt: it strips every variable dlt or billing-sync
would read, points dlt at a throw-away project folder holding only the committed
`.dlt/config.toml` (never a developer's `.dlt/secrets.toml`), and the deployment's settings
folder (`pipelines/settings_files.py`: a user's `~/.config/billing-sync`) at an empty one.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ISOLATED_PREFIXES = (
    "SOURCES__", "DESTINATION__", "MAPPING__", "BILLING_SYNC_", "DLT_", "RUNTIME__",
    "NORMALIZE__", "LOAD__", "EXTRACT__", "DATA_WRITER__", "PIPELINES__", "METRONOME_",
    "FINCOME_",
)  # fmt: skip

for _name in list(os.environ):
    if _name.startswith(ISOLATED_PREFIXES):
        del os.environ[_name]

_sandbox = Path(tempfile.mkdtemp(prefix="billing-sync-tests-"))
atexit.register(shutil.rmtree, _sandbox, ignore_errors=True)
(_sandbox / "project" / ".dlt").mkdir(parents=True)
shutil.copy(REPO / ".dlt" / "config.toml", _sandbox / "project" / ".dlt" / "config.toml")
os.environ["DLT_PROJECT_DIR"] = str(_sandbox / "project")
os.environ["DLT_DATA_DIR"] = str(_sandbox / "dlt-home")
os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
(_sandbox / "deployment").mkdir()
os.environ["BILLING_SYNC_CONFIG_DIR"] = str(_sandbox / "deployment")  # a user's: never read
os.environ.pop("XDG_CONFIG_HOME", None)

pytest_plugins = [
    "tests.fixtures.metronome",
    "tests.fixtures.fincome",
    "tests.fixtures.foreign",
    "tests.fixtures.other_fincome",
]
