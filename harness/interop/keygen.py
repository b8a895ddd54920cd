"""Keys the libraries make: what the harness asks a library's key generation for, the material
it gets back (the generated private JWK and the library's own exports of it), and what is wrong
with an export.

Generated material is kept per process, keyed by library and request, so a worker generates each
key once and every consumer of a producer's cells sees the same key. It lives in memory only:
private keys never go to `results/` or git.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from harness.adapters.base import Adapter
from harness.core.errors import ProducerFailed, Rejected
from harness.core.keys import JWK, PRIVATE_MEMBERS
from harness.core.suites import Suite
from harness.forge.thumbprint import REQUIRED_MEMBERS

# What the harness passes when a library's generation call has no default (RFC 7518 §3.3 and
# §4.2: RSA keys of 2048 bits or more; §3.2: an HMAC key as long as the hash, 256 for HS256).
RFC_MINIMUM_BITS = {"RSA": 2048, "oct": 256}
MEMBER_RULE = {"RSA": "RFC 7518 §6.3.1", "EC": "RFC 7518 §6.2.1", "OKP": "RFC 8037 §2",
               "oct": "RFC 7518 §6.4.1"}


@dataclass(frozen=True)
class KeyRequest:
    """One call of a library's key generation: `size`/`crv` None leaves the library's default;
    `required` names what the call could not do without ("size", "curve"), which the harness
    then supplied itself."""

    kty: str
    crv: str | None = None
    size: int | None = None
    required: str = ""


def request_for(adapter: Adapter, kty: str, crv: str | None = None, size: int | None = None,
                fallback_bits: int | None = None) -> KeyRequest:
    """The request as a new user makes it; where the library requires a size or curve the
    caller left out, the RFC minimum (or `fallback_bits`, a size the algorithm fixes)."""
    wanted = adapter.keygen_requires.get(kty, "")
    if wanted == "size" and size is None:
        return KeyRequest(kty, crv, fallback_bits or RFC_MINIMUM_BITS[kty], "size")
    if wanted == "curve" and crv is None:
        return KeyRequest(kty, "P-256" if kty == "EC" else "Ed25519", size, "curve")
    return KeyRequest(kty, crv, size)


def suite_request(adapter: Adapter, suite: Suite) -> KeyRequest:
    """The key a suite's cross-check generates: the library's defaults for RSA and for an HMAC
    key, the suite's curve for EC and OKP, and for a JWE oct key the size its algorithm fixes."""
    kty, param = suite.key.kty, suite.key.param
    if kty in ("EC", "OKP"):
        return request_for(adapter, kty, crv=param)
    if kty == "oct" and suite.family == "JWE":
        return request_for(adapter, kty, size=int(param))
    return request_for(adapter, kty, fallback_bits=int(param) if param.isdigit() else None)


@dataclass(frozen=True)
class Material:
    """A generated key and the library's own exports of it. For an oct key the "public" exports
    hold the secret: a symmetric key is shared, never published."""

    private: JWK
    public: JWK
    public_jwks: JWK
    private_jwks: JWK

    @property
    def jwks_key(self) -> JWK:
        keys = self.public_jwks.get("keys") or [{}]
        return keys[0] if isinstance(keys[0], dict) else {}

    @property
    def kid(self) -> str | None:
        kid = self.jwks_key.get("kid", self.private.get("kid"))
        return kid if isinstance(kid, str) else None


# The octets RFC 7518 §6.2.1.2/§6.2.1.3/§6.2.2.1 (EC: the full coordinate size, leading zeros
# kept) and RFC 8037 §2 (OKP: the key's own length) require.
FULL_OCTETS = {"P-256": 32, "P-384": 48, "P-521": 66, "secp256k1": 32, "Ed25519": 32,
               "Ed448": 57, "X25519": 32, "X448": 56}
COORDINATE_RULE = {"EC": "RFC 7518 §6.2.1.2: the full size of a coordinate",
                   "OKP": "RFC 8037 §2"}


def _octets(value: str) -> int:
    return len(value) * 3 // 4


# EC and OKP keys generated per request: some export defects show in some keys only.
SAMPLES = 8
_generated: dict[tuple[str, KeyRequest], Material] = {}


def generate(adapter: Adapter, request: KeyRequest) -> Material:
    """The library's key for `request` and its exports (once per process and request).
    `Unsupported` as the adapter declares it; a refusal by the library is `ProducerFailed`."""
    slot = (adapter.name, request)
    if slot in _generated:
        return _generated[slot]
    with warnings.catch_warnings():
        # What the library warns about its own defaults is the sheet's business (keygen.csv).
        warnings.simplefilter("ignore")
        try:
            material = _made(adapter, request)
            # A dropped leading zero octet shows in some EC/OKP keys only (half of all P-521
            # keys): of SAMPLES keys, the first whose export breaks a rule, so that a run
            # shows the defect whichever key its worker happened to draw.
            for _ in range(SAMPLES - 1 if request.kty in ("EC", "OKP") else 0):
                if export_defects(material.private, material.public):
                    break
                material = _made(adapter, request)
        except Rejected as error:
            raise ProducerFailed(f"{adapter.name} could not generate or export a {request.kty} "
                                 f"key: {error}") from error
    _generated[slot] = material
    return material


def _made(adapter: Adapter, request: KeyRequest) -> Material:
    symmetric = request.kty == "oct"
    private = adapter.generate_key(request.kty, request.crv, request.size)
    return Material(private, adapter.export_jwk(private, private=symmetric),
                    adapter.export_jwks(private, private=symmetric),
                    adapter.export_jwks(private, private=True))


def export_defects(private: JWK, exported: JWK, public: bool = True) -> list[str]:
    """What an export of `private` gets wrong: a required member missing or changed (RFC 7517
    §4, RFC 7518 §6, RFC 8037 §2), or, in a public export, a private key parameter (RFC 7518
    §6.2.2, §6.3.2; RFC 8037 §2)."""
    kty = private.get("kty")
    rule = MEMBER_RULE.get(str(kty), "RFC 7517 §4")
    defects = []
    if exported.get("kty") != kty:
        defects.append(f"kty {exported.get('kty')!r}, not the generated key's {kty!r} "
                       "(RFC 7517 §4.1)")
    for name in REQUIRED_MEMBERS.get(str(kty), ()):
        if name == "kty":
            continue
        if name not in exported:
            defects.append(f"lacks its required member {name!r} ({rule})")
        elif exported[name] != private.get(name):
            defects.append(f"member {name!r} differs from the generated key's ({rule})")
    octets = FULL_OCTETS.get(str(exported.get("crv")))
    for name in ("x", "y", "d") if octets and kty in ("EC", "OKP") else ():
        value = exported.get(name)
        if isinstance(value, str) and _octets(value) != octets:
            defects.append(f"member {name!r} is not {octets} octets "
                           f"({COORDINATE_RULE[str(kty)]})")
    if public and kty != "oct":
        leaked = sorted(set(exported) & PRIVATE_MEMBERS)
        if leaked:
            defects.append(f"a public export carries the private key parameters {leaked} "
                           "(RFC 7518 §6.2.2, §6.3.2; RFC 8037 §2)")
    return defects
