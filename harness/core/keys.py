"""The key set: one current and one retired key per key spec, as JWK dicts.

Generated once with `cryptography` (no library under test makes the keys it is judged on),
cached in a git-ignored file with mode 0600, and shared by every library so that interop is
tested on identical key material. Private keys never go under `results/`.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import secrets
import stat
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519

from harness.core.errors import HarnessError
from harness.core.suites import KeySpec, key_specs

ROLES = ("retired", "current")
KEY_SET_FORMAT = 1
DEFAULT_KEY_SET_PATH = Path(".cache") / "keyset.json"
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})

JWK = dict[str, Any]

_EC_CURVES = {
    "P-256": ec.SECP256R1,
    "P-384": ec.SECP384R1,
    "P-521": ec.SECP521R1,
    "secp256k1": ec.SECP256K1,
}
_OKP_CURVES = {
    "Ed25519": ed25519.Ed25519PrivateKey,
    "Ed448": ed448.Ed448PrivateKey,
    "X25519": x25519.X25519PrivateKey,
    "X448": x448.X448PrivateKey,
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64(value: int, length: int | None = None) -> str:
    length = length or max(1, (value.bit_length() + 7) // 8)
    return b64url(value.to_bytes(length, "big"))


def _rsa_jwk(bits: int) -> JWK:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    priv = key.private_numbers()
    pub = priv.public_numbers
    return {
        "kty": "RSA", "n": _int_b64(pub.n), "e": _int_b64(pub.e), "d": _int_b64(priv.d),
        "p": _int_b64(priv.p), "q": _int_b64(priv.q), "dp": _int_b64(priv.dmp1),
        "dq": _int_b64(priv.dmq1), "qi": _int_b64(priv.iqmp),
    }


def _ec_jwk(crv: str) -> JWK:
    key = ec.generate_private_key(_EC_CURVES[crv]())
    size = (key.curve.key_size + 7) // 8
    pub = key.public_key().public_numbers()
    return {
        "kty": "EC", "crv": crv, "x": _int_b64(pub.x, size), "y": _int_b64(pub.y, size),
        "d": _int_b64(key.private_numbers().private_value, size),
    }


def _okp_jwk(crv: str) -> JWK:
    from cryptography.hazmat.primitives import serialization as ser

    key = _OKP_CURVES[crv].generate()
    raw_private = key.private_bytes(ser.Encoding.Raw, ser.PrivateFormat.Raw, ser.NoEncryption())
    raw_public = key.public_key().public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw)
    return {"kty": "OKP", "crv": crv, "x": b64url(raw_public), "d": b64url(raw_private)}


def _oct_jwk(param: str) -> JWK:
    if param == "password":
        # PBES2 takes a password, so the key is printable text rather than random bytes.
        return {"kty": "oct", "k": b64url(secrets.token_urlsafe(24).encode("ascii"))}
    return {"kty": "oct", "k": b64url(secrets.token_bytes(int(param) // 8))}


def generate_jwk(spec: KeySpec) -> JWK:
    if spec.kty == "RSA":
        return _rsa_jwk(int(spec.param))
    if spec.kty == "EC":
        return _ec_jwk(spec.param)
    if spec.kty == "OKP":
        return _okp_jwk(spec.param)
    if spec.kty == "oct":
        return _oct_jwk(spec.param)
    raise ValueError(f"no generator for key type {spec.kty!r}")


def public_jwk(jwk: JWK) -> JWK:
    """The public half of a JWK; a symmetric key is its own "public" key."""
    if jwk["kty"] == "oct":
        return dict(jwk)
    return {name: value for name, value in jwk.items() if name not in PRIVATE_MEMBERS}


def kid_for(spec: KeySpec, role: str) -> str:
    return f"{spec.id}-{role}"


@dataclass(frozen=True)
class KeySet:
    """Keys by spec id and role (`current`, `retired`).

    Derived dicts (public halves, JWKS) are made once and handed out as the same objects, since
    adapters cache imported keys by the identity of the dict they were given.
    """

    keys: dict[str, dict[str, JWK]]
    _derived: dict[tuple[str, ...], Any] = field(default_factory=dict, compare=False,
                                                 repr=False)

    def private(self, spec: KeySpec, role: str = "current") -> JWK:
        try:
            return self.keys[spec.id][role]
        except KeyError:
            raise KeyError(f"the key set has no {role} key for {spec.id}") from None

    def public(self, spec: KeySpec, role: str = "current") -> JWK:
        return self.derived(("public", spec.id, role),
                            lambda: public_jwk(self.private(spec, role)))

    def jwks(self, spec: KeySpec, private: bool) -> dict[str, list[JWK]]:
        """A JWKS holding the retired and the current key, retired first."""
        pick = self.private if private else self.public
        return self.derived(("jwks", spec.id, "private" if private else "public"),
                            lambda: {"keys": [pick(spec, role) for role in ROLES]})

    def derived(self, slot: tuple[str, ...], make: Callable[[], Any]) -> Any:
        """What `make` derives from these keys (a public half, a JWKS, a key in another form),
        made once per process and `slot` and handed out as the same object."""
        if slot not in self._derived:
            self._derived[slot] = make()
        return self._derived[slot]


def generate_key_set(specs: Iterable[KeySpec]) -> KeySet:
    keys: dict[str, dict[str, JWK]] = {}
    for spec in specs:
        keys[spec.id] = {}
        for role in ROLES:
            jwk = generate_jwk(spec)
            jwk["kid"] = kid_for(spec, role)
            keys[spec.id][role] = jwk
    return KeySet(keys)


def _write_private(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def load_key_set(path: Path | None = None) -> KeySet:
    """Load the cached key set, generating (or completing) it when needed.

    A cache that cannot be read, or that other users can read, is refused rather than
    replaced behind the user's back: the message says how to regenerate it. One from an older
    format is replaced, since it only holds keys the harness generated.
    """
    path = path or Path(os.environ.get("HARNESS_KEYS", DEFAULT_KEY_SET_PATH))
    path.parent.mkdir(parents=True, exist_ok=True)
    # Processes starting together (a load test's workers, a fresh cache) must agree on one key
    # set: the first generates it under the lock, the others then read it.
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _load_or_generate(path)


def _refuse(path: Path, why: str) -> HarnessError:
    return HarnessError(f"the key cache {path} {why}; delete it (rm {path}) and the next run "
                        "generates a new key set")


def _load_or_generate(path: Path) -> KeySet:
    wanted = key_specs()
    cached: dict[str, dict[str, JWK]] = {}
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise _refuse(path, f"is readable or writable by other users (mode {mode:04o}), so "
                          "its private keys may have leaked")
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise _refuse(path, f"is damaged ({error})") from None
        if not isinstance(stored, dict) or not isinstance(stored.get("keys", {}), dict):
            raise _refuse(path, "is damaged (not a key set object)")
        if stored.get("format") == KEY_SET_FORMAT:
            cached = stored["keys"]
    missing = [spec for spec in wanted
               if not all(role in cached.get(spec.id, {}) for role in ROLES)]
    if missing or not path.exists():
        cached.update(generate_key_set(missing).keys)
        _write_private(path, json.dumps({"format": KEY_SET_FORMAT, "keys": cached}, indent=1))
    return KeySet(cached)
