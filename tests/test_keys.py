import json
import stat
from pathlib import Path

import pytest

from harness.core.errors import HarnessError
from harness.core.keys import PRIVATE_MEMBERS, load_key_set, public_jwk
from harness.core.suites import SUITES_BY_NAME, key_specs


def test_key_set_is_cached_private_and_stable(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    first = load_key_set(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = load_key_set(path)
    assert first.keys == second.keys
    for spec in key_specs():
        current, retired = first.private(spec, "current"), first.private(spec, "retired")
        assert current["kid"] != retired["kid"]
        assert current != retired


@pytest.mark.parametrize("damage", ["{not json", "[1, 2]", '{"keys": []}'])
def test_a_damaged_cache_is_refused_with_how_to_regenerate_it(tmp_path: Path,
                                                               damage: str) -> None:
    path = tmp_path / "keys.json"
    path.write_text(damage)
    path.chmod(0o600)
    with pytest.raises(HarnessError, match=r"is damaged .*rm .*keys\.json"):
        load_key_set(path)
    assert path.read_text() == damage  # left for the user to look at
    path.unlink()
    assert load_key_set(path).keys


def test_a_cache_other_users_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    keys = load_key_set(path)
    path.chmod(0o644)
    with pytest.raises(HarnessError, match=r"mode 0644.*may have leaked"):
        load_key_set(path)
    path.chmod(0o600)
    assert load_key_set(path).keys == keys.keys


def test_an_older_format_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"format": "old", "keys": {}}))
    path.chmod(0o600)
    keys = load_key_set(path)
    assert json.loads(path.read_text())["keys"] == keys.keys


def test_public_halves_hold_no_private_member(keys) -> None:
    rsa = SUITES_BY_NAME["JWS RS256"].key
    assert not PRIVATE_MEMBERS & set(keys.public(rsa))
    assert keys.public(rsa)["n"] == keys.private(rsa)["n"]
    hmac = {"kty": "oct", "k": "c2VjcmV0"}
    assert public_jwk(hmac) == hmac  # a shared secret is both halves
    jwks = keys.jwks(rsa, private=False)
    assert [k["kid"] for k in jwks["keys"]] == ["RSA-2048-retired", "RSA-2048-current"]


def test_key_sizes_match_their_specs(keys) -> None:
    import base64

    def octets(value: str) -> int:
        return len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))

    assert octets(keys.private(SUITES_BY_NAME["JWE dir + A256CBC-HS512"].key)["k"]) == 64
    assert octets(keys.private(SUITES_BY_NAME["JWS ES512"].key)["x"]) == 66
    assert octets(keys.private(SUITES_BY_NAME["JWS RS256"].key)["n"]) == 256
