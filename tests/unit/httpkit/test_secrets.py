"""Redaction of a secret in every form a message can quote it."""

from __future__ import annotations

import json

import pytest

from httpkit import redact, secret_forms

SECRET = "sk-live-0123456789\n"


@pytest.mark.parametrize(
    "quoted",
    [SECRET, SECRET.strip(), repr(SECRET), repr(SECRET.encode()), f"b'Bearer {SECRET!r}'"],
)
def test_a_secret_is_redacted_in_every_form_a_message_quotes_it(quoted: str) -> None:
    text = redact(f"refused: {quoted} (twice: {quoted})", SECRET)
    assert "0123456789" not in text
    assert text.count("[redacted]") == 2


def test_redacting_nothing_changes_nothing() -> None:
    assert redact("nothing to hide", "") == "nothing to hide"


def test_every_form_of_a_secret_with_quotes_and_non_ascii_is_known() -> None:
    secret = 'k"\\é\n'
    forms = secret_forms(secret)
    assert json.dumps(secret)[1:-1] in forms
    assert repr(secret.encode())[2:-1] in forms
    assert "k%22%5C%C3%A9" in forms
    assert "" not in secret_forms("   ")
