"""The reconcile HTML report renders in headless Chromium (skipped when none is installed).

The screenshot and the page are kept under `test-artifacts/` at the repository root, so a
person (or CI) can look at what finance will see.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.reconcile.report import write_report
from tests.unit.reconcile.sample import sample_reconciliation

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WIDTH, HEIGHT = 1280, 2000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def chromium() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(f"no Chromium on PATH (looked for {', '.join(CHROMIUM_NAMES)}): "
                "install Debian's `chromium` to check the report renders")  # fmt: skip


def _screenshot(chromium: str, page: Path, png: Path, profile: Path) -> None:
    command = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", f"--screenshot={png}",
        f"--window-size={WIDTH},{HEIGHT}", page.as_uri(),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert png.exists(), f"no screenshot (exit {done.returncode}): {done.stderr[-2000:]}"


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data.startswith(PNG_SIGNATURE), "not a PNG file"
    chunks, position = [], len(PNG_SIGNATURE)
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        chunks.append((kind, data[position + 8 : position + 8 + length]))
        position += 12 + length  # length, type, data, CRC
    return chunks


def test_the_report_renders_in_headless_chromium(chromium: str, tmp_path: Path) -> None:
    page = write_report(
        tmp_path / "reconcile.html",
        sample_reconciliation(),
        generated_at=datetime(2026, 6, 15, 8, 0, tzinfo=UTC),
        source="data dir /srv/billing-sync (sample account)",
    )
    png = tmp_path / "reconcile.png"
    _screenshot(chromium, page, png, tmp_path / "profile")

    chunks = _png_chunks(png.read_bytes())
    kind, header = chunks[0]
    assert kind == b"IHDR"
    assert struct.unpack(">II", header[:8]) == (WIDTH, HEIGHT)
    pixels = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    # a blank page is one colour: its filtered rows hold a handful of byte values at most
    assert len(set(pixels)) > 64, "the screenshot is blank"

    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(png, ARTIFACTS / "reconcile-report.png")
    shutil.copy(page, ARTIFACTS / "reconcile-report.html")
    print(f"reconcile report screenshot: {ARTIFACTS / 'reconcile-report.png'}")
