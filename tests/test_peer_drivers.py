"""The peer drivers against a real Python library, over the peer protocol.

Starts `peers/jose6/driver.mjs` (installed by `make node-peers`), asks `info`, and runs one JWS
and one JWE suite both ways against joserfc: the peer produces and joserfc consumes, and back.
Every other driver that is installed here (node, or built by `make peers`) answers `info` and
one HS256 round trip with joserfc; one that is not is skipped with how to get it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import pytest

from harness.adapters import load_adapter
from harness.core.keys import KeySet, load_key_set
from harness.core.suites import ALL_SUITES, MADE_UP_SUITE, SUITES_BY_NAME
from tests.peer_protocol_client import PEERS, ROOT, PeerClient, b64, suite_object, unb64

JOSE6 = ROOT / "peers" / "jose6"
JOSE6_MISSING = ("node is not installed" if shutil.which("node") is None else
                 None if (JOSE6 / "node_modules" / "jose").is_dir() else
                 "the jose 6 peer is not installed (make node-peers)")

JWS = SUITES_BY_NAME["JWS ES256"]
JWE = SUITES_BY_NAME["JWE ECDH-ES+A128KW (X25519) + A256GCM"]
CLAIMS = b'{"sub":"peer-test","aud":"api"}'


@pytest.fixture(scope="module")
def peer() -> Iterator[PeerClient]:
    if JOSE6_MISSING:
        pytest.skip(JOSE6_MISSING)
    with PeerClient(PEERS["jose"]) as client:
        yield client


@pytest.fixture(scope="module")
def keys() -> KeySet:
    return load_key_set()


def request(suite, serialization="compact", **fields):  # type: ignore[no-untyped-def]
    return {"suite": suite_object(suite), "serialization": serialization, "mode": "default",
            "algorithms": None, "header": {}, "entry_point": "jws", **fields}


def test_info_declares_what_jose6_implements(peer: PeerClient) -> None:
    info = peer.call("info", suites=[suite_object(s) for s in (*ALL_SUITES, MADE_UP_SUITE)])
    assert info["name"] == "jose" and info["version"].startswith("6.")
    assert info["runtime"].startswith("node v")
    supported = set(info["supports"])
    assert {JWS.name, JWE.name} <= supported
    assert MADE_UP_SUITE.name not in supported
    # jose 6 dropped RSA1_5 and has no Ed448; PBES2 needs an explicit allow-list.
    assert not any("RSA1_5" in name or "Ed448" in name for name in supported)
    pbes2 = {s.name for s in ALL_SUITES if s.alg.startswith("PBES2")}
    assert pbes2 <= supported and not pbes2 & set(info["allows_by_default"])
    assert set(info["allows_by_default"]) <= supported
    assert info["produces"]["JWE"] == ["compact", "flattened", "general"]


def test_a_made_up_suite_is_unsupported_not_an_error(peer: PeerClient, keys: KeySet) -> None:
    answer = peer.send("sign", **request(MADE_UP_SUITE, payload=b64(CLAIMS),
                                         key=keys.private(MADE_UP_SUITE.key)))
    assert "unsupported" in answer, answer


def test_jws_both_ways_with_joserfc(peer: PeerClient, keys: KeySet) -> None:
    joserfc = load_adapter("joserfc")
    token = peer.call("sign", **request(JWS, payload=b64(CLAIMS), key=keys.private(JWS.key)))
    assert joserfc.verify(JWS, token, keys.public(JWS.key), mode="default") == CLAIMS
    theirs = joserfc.sign(JWS, CLAIMS, keys.private(JWS.key), mode="default")
    result = peer.call("verify", **request(JWS, token=theirs, key=keys.public(JWS.key)))
    assert unb64(result["payload"]) == CLAIMS
    claims = peer.call("verify", **request(JWS, token=theirs, key=keys.public(JWS.key),
                                           entry_point="jwt"))
    assert json.loads(unb64(claims["payload"])) == json.loads(CLAIMS)


def test_jws_with_a_flipped_signature_is_rejected(peer: PeerClient, keys: KeySet) -> None:
    token = peer.call("sign", **request(JWS, payload=b64(CLAIMS), key=keys.private(JWS.key)))
    head, _body, signature = token.split(".")
    forged = ".".join([head, b64(b'{"sub":"admin"}'), signature])
    answer = peer.send("verify", **request(JWS, token=forged, key=keys.public(JWS.key)))
    assert "rejected" in answer, answer


def test_jwe_both_ways_with_joserfc_in_general_json(peer: PeerClient, keys: KeySet) -> None:
    joserfc = load_adapter("joserfc")
    token = peer.call("encrypt", **request(JWE, "general", plaintext=b64(CLAIMS),
                                           key=keys.public(JWE.key)))
    assert joserfc.decrypt(JWE, json.dumps(token), keys.private(JWE.key), mode="default",
                           serialization="general") == CLAIMS
    theirs = joserfc.encrypt(JWE, CLAIMS, keys.public(JWE.key), mode="default")
    result = peer.call("decrypt", **request(JWE, token=theirs, key=keys.private(JWE.key)))
    assert unb64(result["plaintext"]) == CLAIMS


def test_a_plaintext_over_max_bytes_is_answered_by_its_size(peer: PeerClient,
                                                              keys: KeySet) -> None:
    token = load_adapter("joserfc").encrypt(JWE, CLAIMS, keys.public(JWE.key), mode="default")
    fields = request(JWE, token=token, key=keys.private(JWE.key))
    assert peer.send("decrypt", **fields, max_bytes=len(CLAIMS) - 1)["oversize"] == len(CLAIMS)
    within = peer.call("decrypt", **fields, max_bytes=len(CLAIMS))
    assert unb64(within["plaintext"]) == CLAIMS


def test_batch_and_bench(peer: PeerClient, keys: KeySet) -> None:
    sign = request(JWS, payload=b64(CLAIMS), key=keys.private(JWS.key))
    answers = peer.batch([{"op": "sign", **sign}, {"op": "nonsense"}])
    assert "result" in answers[0] and "unsupported" in answers[1], answers
    timing = peer.call("bench", operation="sign", n=20, request=sign)
    assert timing["n"] == 20 and timing["seconds"] > 0


def installed(command: list[str]) -> str | None:
    """Why this peer cannot start here, or None when it can."""
    program, script = command[0], command[-1]
    if program in ("node", "perl"):
        if shutil.which(program) is None:
            return f"{program} is not installed"
        folder = (ROOT / script).parent
        if program == "node" and not (folder / "node_modules").is_dir():
            return f"{folder.name} is not installed (make node-peers)"
        if program == "perl" and not (ROOT / ".cache" / "peers").is_dir():
            return "the Perl peer's packages are installed by make peers"
        return None
    return None if (ROOT / program).is_file() else f"{program} is not built (make peers)"


@pytest.mark.parametrize("name", [name for name in PEERS if name != "jose"])
def test_every_other_peer_answers_info_and_verifies_joserfc(name: str, keys: KeySet) -> None:
    """Each driver declares HS256 and verifies joserfc's token, and joserfc verifies its own;
    it answers an op it does not know as unsupported."""
    why = installed(PEERS[name])
    if why:
        pytest.skip(why)
    joserfc = load_adapter("joserfc")
    suite = SUITES_BY_NAME["JWS HS256"]
    with PeerClient(PEERS[name]) as peer:
        info = peer.call("info", suites=[suite_object(s) for s in (suite, MADE_UP_SUITE)])
        assert info["supports"] == [suite.name]
        theirs = joserfc.sign(suite, CLAIMS, keys.private(suite.key), mode="default")
        result = peer.call("verify", **request(suite, token=theirs, key=keys.public(suite.key)))
        assert unb64(result["payload"]) == CLAIMS
        token = peer.call("sign", **request(suite, payload=b64(CLAIMS),
                                            key=keys.private(suite.key)))
        assert joserfc.verify(suite, token, keys.public(suite.key), mode="default") == CLAIMS
        # peers/README.md: an op the driver does not know is `unsupported` (the harness's ping).
        assert "unsupported" in peer.send("nonsense")


@pytest.mark.parametrize("name", list(PEERS))
def test_a_payload_outside_base64url_is_refused_or_read_not_answered_with_memory(
        name: str, keys: KeySet) -> None:
    """Wycheproof's tc369: a correct HMAC over a payload segment holding `#`. A driver answers
    what the library did: a refusal, or the payload its decoder read ("Test", skipping the
    `#`), never bytes of its own memory (the latchset-jose driver once returned its unwritten
    buffer)."""
    import base64
    import hashlib
    import hmac

    why = installed(PEERS[name])
    if why:
        pytest.skip(why)
    suite = SUITES_BY_NAME["JWS HS256"]
    secret = keys.private(suite.key)
    signing_input = b64(b'{"alg":"HS256"}') + ".####VGVzdA"
    raw = base64.urlsafe_b64decode(secret["k"] + "=" * (-len(secret["k"]) % 4))
    signature = b64(hmac.new(raw, signing_input.encode(), hashlib.sha256).digest())
    token = f"{signing_input}.{signature}"
    with PeerClient(PEERS[name]) as peer:
        answers = [peer.send("verify", **request(suite, token=token, key=keys.public(suite.key)))
                   for _ in range(3)]
    for answer in answers:
        if "result" in answer:
            assert unb64(answer["result"]["payload"]) == b"Test", answer
        else:
            assert "rejected" in answer or "unsupported" in answer, answer


def test_make_peers_without_root_says_in_one_line_what_to_install(tmp_path) -> None:
    """No package installed and not root (a fake `id` and `dpkg-query` first on PATH): one line
    naming each missing package once, exit 0, nothing built."""
    import os
    import subprocess

    fake = tmp_path / "bin"
    fake.mkdir()
    for name, body in (("id", "echo 1000"), ("dpkg-query", "exit 1")):
        (fake / name).write_text(f"#!/bin/sh\n{body}\n")
        (fake / name).chmod(0o755)
    done = subprocess.run(["sh", str(ROOT / "peers" / "debian-peers.sh")], capture_output=True,
                          text=True, timeout=10,
                          env={**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"})
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and "needs root" in lines[0]
    packages = lines[0].split("apt-get install ")[1].split(" (then")[0].split()
    assert len(packages) == len(set(packages)) and "librhonabwy-dev" in packages


def test_every_driver_folder_of_drivers_md_is_a_known_peer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Each peer the registry knows maps to its source folder (jsonwebtoken's is
    jsonwebtoken-rs), so a built driver is never left out of a run unnoticed."""
    from harness.adapters.peer_registry import KNOWN_PEERS, discover_peers, name_folder

    monkeypatch.setenv("HARNESS_PEERS", str(ROOT / "peers"))

    for name, _, command, needs, _ in KNOWN_PEERS:
        assert (ROOT / "peers" / name_folder(command, needs)).is_dir(), name
    assert set(discover_peers()) >= {name for name, *_ in KNOWN_PEERS}


def test_perl_without_the_crypt_jwt_modules_is_a_missing_peer_not_a_dying_one(
        monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """A perl that cannot load Crypt::JWT (the Debian packages not installed) makes crypt-jwt a
    peer that is skipped with how to get it, not one whose `info` dies with Perl's @INC dump."""
    from harness.adapters.peer_registry import discover_peers

    fake_perl = tmp_path / "perl"
    fake_perl.write_text("#!/bin/sh\necho \"Can't locate Crypt/JWT.pm in @INC\" >&2\nexit 2\n")
    fake_perl.chmod(0o755)
    monkeypatch.setenv("HARNESS_PEERS", str(ROOT / "peers"))
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    missing = discover_peers()["crypt-jwt"].missing
    assert missing is not None and missing.startswith(
        "the Perl modules Crypt::JWT, JSON::XS and CryptX are not installed; `make peers`")
