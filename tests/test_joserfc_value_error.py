"""joserfc 0.9 and 1.0 refuse with a plain ValueError: a rejection for those releases, and only
when joserfc itself raised it; a ValueError from the harness's own code stays an error."""

from __future__ import annotations

import pytest
from joserfc import jwk

from harness.adapters import joserfc_adapter
from harness.adapters.base import raised_inside
from harness.core.errors import Rejected
from harness.core.keyforms import unb64
from harness.interop.runner import _classify, error_source


def _library_raises() -> bytes:
    # joserfc's own `guess_key` refuses what is no key with a plain ValueError (jwk.py).
    jwk.guess_key("no key", None)  # type: ignore[arg-type]
    return b""


def _harness_raises() -> bytes:
    # A harness bug: the harness's own base64url decoding of a malformed value, which the
    # standard library (base64) raises as binascii.Error, a ValueError.
    return unb64("a")


def test_a_value_error_from_inside_joserfc_is_its_refusal_on_those_releases(
        monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = joserfc_adapter.JoserfcAdapter()
    monkeypatch.setattr(joserfc_adapter, "REFUSES_WITH_VALUE_ERROR", True)
    with pytest.raises(Rejected, match="ValueError: Invalid key"):
        adapter._call(_library_raises)
    with pytest.raises(ValueError) as raised:
        adapter._call(_harness_raises)
    assert not raised_inside(raised.value, joserfc_adapter.joserfc)
    # ...and the runner records it as the harness's error, not a refusal.
    actual, _, _, extra = _classify(lambda: (b"", adapter._call(_harness_raises)))
    assert actual == "error" and extra["error_source"] == "harness"
    assert error_source(raised.value) == "harness"


def test_a_later_release_keeps_the_value_error_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(joserfc_adapter, "REFUSES_WITH_VALUE_ERROR", False)
    with pytest.raises(ValueError):
        joserfc_adapter.JoserfcAdapter()._call(_library_raises)
