"""jwskate: JWS (compact, flattened and general JSON) and JWE (compact only).

What it implements is read from its key classes: each JWK type lists its signature and key
management algorithms, `SymmetricJwk` its content encryption algorithms and `JweCompact` its
PBES2 algorithms (used with a password, which the adapter takes from the oct JWK's `k`). It
implements no compression: it cannot produce `zip`, and it does not inflate one it receives.
Algorithms it marks `read_only` (RSA1_5) it decrypts but refuses to encrypt with.

Verifying a JWS needs the algorithm named by the caller (or by the key's `alg`), so both modes
pass it, as its documentation does. Decrypting a JWE without `alg` follows the token's `alg`
for any algorithm the key type supports, which is its `default` mode; `enabled` passes `alg`
(its password API, for PBES2, takes no `alg` and accepts the three PBES2 algorithms).

Entry points: `JwsCompact.verify` / `JweCompact.decrypt` and the JWT API, `Jwt(token)` (a
`SignedJwt`, and its `verify_signature(key, alg=/algs=)`; for five parts a `JweCompact`, and its
`decrypt(key)`: https://guillp.github.io/jwskate/);
its `JwtVerifier` (issuer, audience, a JWKS), which looks the token's kid up in its key set (or
tries every verification key when there is none), is the `resolver` entry point; it verifies
with public keys only, so an HMAC key set is declared unsupported there. The compact calls take
a `JwkSet` and look the token's kid up themselves (`JwkSet.get_jwk_by_kid`); its JSON JWS forms
and its password API (PBES2) take one key, so the `jwks` form is declared unsupported there. Its
key parameters take a JWK (a `Jwk`, a dict or a `cryptography` key), not key text: handing text
over untouched is declared unsupported.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from binapy import BinaPy
from jwskate import (
    ECJwk,
    InvalidJwk,
    InvalidJwt,
    JweCompact,
    Jwk,
    JwkSet,
    JwsCompact,
    JwsJsonFlat,
    JwsJsonGeneral,
    Jwt,
    JwtVerifier,
    MismatchingAuthTag,
    OKPJwk,
    RSAJwk,
    SignedJwt,
    SymmetricJwk,
    UnsupportedAlg,
)
from jwskate.jwa.base import InvalidKey
from jwskate.jwe.compact import InvalidJwe
from jwskate.jwk.alg import ExpectedAlgRequired, MismatchingAlg
from jwskate.jwk.base import UnsupportedKeyType
from jwskate.jwk.ec import UnsupportedEllipticCurve
from jwskate.jwk.jwks import NoKeyFoundWithThisKid
from jwskate.jwk.okp import UnsupportedOKPCurve
from jwskate.jws import InvalidJws, InvalidSignature
from jwskate.jwt.signed import ExpiredJwt, InvalidClaim

from harness.adapters.base import (
    AccessTokenCheck,
    Adapter,
    Allowed,
    KeyData,
    Serialization,
    claims_bytes,
    is_jwks,
    require_at_jwt,
)
from harness.core.claims import ClaimsOptions
from harness.core.errors import Rejected, Unsupported
from harness.core.jose_registry import library_name
from harness.core.keyforms import handed_over
from harness.core.suites import CONTENT_KEY_BITS, Suite

KEY_CLASSES: dict[str, type[Jwk]] = {"oct": SymmetricJwk, "RSA": RSAJwk, "EC": ECJwk,
                                     "OKP": OKPJwk}


T = TypeVar("T")

class JwskateAdapter(Adapter):
    name = "jwskate"
    distribution = "jwskate"
    # jwskate has no common base class: these are the error types it defines and documents.
    rejection_errors = (InvalidJws, InvalidJwe, InvalidJwt, InvalidSignature, InvalidJwk,
                        InvalidKey, UnsupportedAlg, ExpectedAlgRequired, MismatchingAlg,
                        UnsupportedKeyType,
                        UnsupportedEllipticCurve, UnsupportedOKPCurve, NoKeyFoundWithThisKid,
                        MismatchingAuthTag, ExpiredJwt, InvalidClaim)
    produces = {"JWS": frozenset({"compact", "flattened", "general"}),
                "JWE": frozenset({"compact"})}
    consumes = {"JWS": frozenset({"compact", "flattened", "general"}),
                "JWE": frozenset({"compact"})}
    entry_points = {"jws": "jwskate.JwsCompact.verify, jwskate.JweCompact.decrypt",
                    "jwt": "jwskate.Jwt(token).verify_signature, JweCompact.decrypt "
                           "(https://guillp.github.io/jwskate/)",
                    "resolver": "jwskate.JwtVerifier(jwkset, issuer=None, alg=...).verify "
                                "(https://guillp.github.io/jwskate/, public keys only)"}

    def supports(self, suite: Suite) -> bool:
        if suite.key.param == "password":
            return (suite.alg in JweCompact.PBES2_ALGORITHMS
                    and suite.enc in SymmetricJwk.ENCRYPTION_ALGORITHMS)
        key_class = KEY_CLASSES.get(suite.key.kty)
        if key_class is None or not self._curve_supported(suite):
            return False
        if suite.family == "JWS":
            # Under its own name where it spells a registered one otherwise (a finding).
            return self._alg(suite) in key_class.SIGNATURE_ALGORITHMS
        return (suite.alg in key_class.KEY_MANAGEMENT_ALGORITHMS
                and suite.enc in SymmetricJwk.ENCRYPTION_ALGORITHMS)

    @staticmethod
    def _curve_supported(suite: Suite) -> bool:
        if suite.key.kty == "EC":
            return suite.key.param in ECJwk.CURVES
        if suite.key.kty == "OKP":
            return suite.key.param in OKPJwk.CURVES
        return True

    @staticmethod
    def _read_only(suite: Suite) -> bool:
        key_class = KEY_CLASSES.get(suite.key.kty)
        algorithm = key_class.KEY_MANAGEMENT_ALGORITHMS.get(suite.alg) if key_class else None
        return bool(getattr(algorithm, "read_only", False))

    def allows_by_default(self, suite: Suite) -> bool:
        return self.supports(suite)

    def _key(self, key: KeyData, suite: Suite) -> Jwk | JwkSet:
        if is_jwks(key):
            return self.imported(key, "jwks", JwkSet)
        if handed_over(key):
            raise Unsupported("jwskate's key parameters take a JWK, not key text")
        if isinstance(key, str | bytes):
            symmetric = suite.key.kty == "oct"
            return self.imported(key, f"text-{symmetric}",
                                 lambda data: _import_text(data, symmetric))
        return self.imported(key, "key", Jwk)

    def _signature_algs(self, suite: Suite, allowed: Allowed) -> dict[str, Any]:
        # Verifying always names the algorithm; an explicit allow-list goes in as `algs`, the
        # suite's own name as jwskate spells it.
        if allowed is None:
            return {"alg": self._alg(suite)}
        return {"algs": [self._alg(suite) if name == suite.alg else name for name in allowed]}

    @staticmethod
    def _password(key: KeyData) -> bytes:
        # PBES2 takes the password itself; the oct JWK carries it base64url-encoded in `k`.
        return bytes(BinaPy(key["k"]).decode_from("b64u"))

    def _sign(self, suite: Suite, payload: bytes, key: KeyData, header: dict[str, Any],
              allowed: Allowed, serialization: Serialization) -> str:
        jwk = self._key(key, suite)
        if serialization == "compact":
            return str(JwsCompact.sign(payload, jwk, alg=self._alg(suite),
                                       extra_headers=header))
        if serialization == "general":
            return JwsJsonGeneral.sign(payload, (jwk, self._alg(suite), header)).to_json()
        return JwsJsonFlat.sign(payload, jwk, alg=self._alg(suite),
                                extra_protected_headers=header).to_json()

    def _verify(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                serialization: Serialization) -> bytes:
        jwk = self._key(key, suite)
        if serialization == "compact":
            return bytes(JwsCompact(token).verify(jwk, **self._signature_algs(suite, allowed))
                         .payload)
        parsed = json.loads(token)
        message = JwsJsonGeneral(parsed) if serialization == "general" else JwsJsonFlat(parsed)
        if isinstance(jwk, JwkSet):
            raise Unsupported("jwskate's JSON JWS verify_signature takes one key, not a JwkSet")
        if not message.verify_signature(jwk, **self._signature_algs(suite, allowed)):
            raise Rejected("jwskate: verify_signature returned False")
        return bytes(message.payload)

    def _encrypt(self, suite: Suite, plaintext: bytes, key: KeyData, header: dict[str, Any],
                 allowed: Allowed, serialization: Serialization) -> str:
        if "zip" in header:
            raise Unsupported("jwskate implements no JWE compression (zip)")
        if self._read_only(suite):
            raise Unsupported(f"jwskate implements {suite.alg} for decryption only (read_only)")
        if suite.key.param == "password":
            if header:
                raise Unsupported("jwskate's encrypt_with_password takes no extra header")
            token = JweCompact.encrypt_with_password(plaintext, self._password(key),
                                                     alg=suite.alg, enc=suite.enc)
        else:
            token = JweCompact.encrypt(plaintext, self._key(key, suite), enc=suite.enc,
                                       alg=suite.alg,
                                       extra_headers=header)
        return str(token)

    def _decrypt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                 serialization: Serialization) -> bytes:
        return self._decrypt_message(JweCompact(token), suite, key, allowed)

    def _decrypt_message(self, message: JweCompact, suite: Suite, key: KeyData,
                         allowed: Allowed) -> bytes:
        if suite.key.param == "password":
            if is_jwks(key):
                raise Unsupported("jwskate's decrypt_with_password takes a password, not a "
                                  "JwkSet")
            # Its password API has no allow-list beyond the PBES2 algorithms themselves.
            return bytes(message.decrypt_with_password(self._password(key)))
        if allowed is None:
            return bytes(message.decrypt(self._key(key, suite)))
        # Its allow-list names key management algorithms only, not `enc` or `zip` values.
        algs = [name for name in allowed if name not in CONTENT_KEY_BITS and name != "DEF"]
        return bytes(message.decrypt(self._key(key, suite), algs=algs))

    def _verify_jwt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                    serialization: Serialization) -> bytes:
        parsed = _jwt_of(token, serialization, SignedJwt)
        if not parsed.verify_signature(self._key(key, suite),
                                       **self._signature_algs(suite, allowed)):
            raise Rejected("jwskate: SignedJwt.verify_signature returned False")
        return claims_bytes(parsed.claims)

    def _decrypt_jwt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                     serialization: Serialization) -> bytes:
        # Its JWT API parses a five-part token as a `JweCompact` and leaves the claims to the
        # caller, so the plaintext comes back as the bytes it decrypted.
        parsed = _jwt_of(token, serialization, JweCompact)
        return self._decrypt_message(parsed, suite, key, allowed)

    def _validate_claims(self, suite: Suite, token: str, key: KeyData, options: ClaimsOptions,
                         allowed: Allowed) -> dict[str, Any]:
        # Its claims API, `JwtVerifier`, refuses every key that is not public, so no HMAC JWT
        # (the claims cases' tokens) can be checked there; checking the claims one by one with
        # `SignedJwt` would be the harness's logic, not the library's.
        raise Unsupported("jwskate's JwtVerifier verifies with public keys only: no HS256 JWT")

    # -- several signatures and recipients, and the registry's names (added last) -------------

    def _sign_multi(self, signers: list[tuple[Suite, KeyData, dict[str, Any]]],
                    payload: bytes, allowed: Allowed) -> str:
        # `JwsJsonGeneral.sign(payload, *(jwk, alg, extra_protected_headers))`.
        parameters = [(self._key(key, suite), self._alg(suite), header)
                      for suite, key, header in signers]
        return JwsJsonGeneral.sign(payload, *parameters).to_json()

    def registered_names(self) -> dict[str, list[str]]:
        signing: list[str] = []
        key_management: list[str] = list(JweCompact.PBES2_ALGORITHMS)
        for key_class in KEY_CLASSES.values():
            signing += list(key_class.SIGNATURE_ALGORITHMS)
            key_management += list(key_class.KEY_MANAGEMENT_ALGORITHMS)
        return {"JWS alg": signing, "JWE alg": key_management,
                "JWE enc": list(SymmetricJwk.ENCRYPTION_ALGORITHMS)}

    def _alg(self, suite: Suite) -> str:
        """The name jwskate implements the suite's registered `alg` under (its `ES256k` for
        ES256K): a user of jwskate names the algorithm as jwskate does."""
        key_class = KEY_CLASSES.get(suite.key.kty)
        offered = set(key_class.SIGNATURE_ALGORITHMS) if key_class else set()
        return library_name(suite.alg, offered) or suite.alg

    keygen_api = "jwskate.Jwk.generate(kty=..., crv=/key_size=...) (https://guillp.github.io/jwskate/)"
    keygen_requires = {"EC": "curve", "OKP": "curve"}

    def _generate_key(self, kty: str, crv: str | None, size: int | None) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if crv is not None:
            params["crv"] = crv
        if size is not None:
            params["key_size"] = size
        return Jwk.generate(kty=kty, **params).to_dict()

    def _export_jwk(self, data: dict[str, Any], private: bool) -> dict[str, Any]:
        key = Jwk(data)
        return (key if private else key.public_jwk()).to_dict()

    def _export_jwks(self, data: dict[str, Any], private: bool) -> dict[str, Any]:
        key_set = JwkSet(keys=[Jwk(data)])
        # `public_jwks()` leaves symmetric keys out: a secret is never public.
        return json.loads((key_set if private else key_set.public_jwks()).to_json())

    def _thumbprint(self, data: dict[str, Any]) -> str:
        return Jwk(data).thumbprint()

    access_token_api = ("JWE: JweCompact.decrypt_jwt (jwskate's nested-JWT call); then its "
                        "claims API, JwtVerifier(issuer, audience, alg, verifiers=[the typ "
                        "check, its documented custom-verifier hook]).verify; JwtVerifier takes "
                        "public keys only, so an HS256 access token is unsupported")

    def _validate_access_token(self, token: str, check: AccessTokenCheck) -> dict[str, Any]:
        if check.signing.key.kty == "oct":
            raise Unsupported("jwskate's JwtVerifier verifies with public keys only: no HS256 "
                              "access token")
        if check.encryption is not None:
            decryption = self._key(check.decryption_key, check.encryption)
            signed = JweCompact(token).decrypt_jwt(decryption, algs=[check.encryption.alg])
        else:
            signed = SignedJwt(token)
        verifier = self.imported(
            check.verification_key,
            f"verifier {check.signing.alg} {check.issuer} {check.audience}",
            lambda key: JwtVerifier(_public(self._key(key, check.signing)), issuer=check.issuer,
                                    audience=check.audience, alg=check.signing.alg,
                                    verifiers=[_at_jwt]))
        verifier.verify(signed)
        return dict(signed.claims)


    def _verify_resolved(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                         serialization: Serialization) -> bytes:
        if serialization != "compact":
            raise Unsupported("jwskate's JwtVerifier takes compact tokens only")
        key_set = self._key(key, suite)
        if not isinstance(key_set, JwkSet) or key_set.is_private:
            raise Unsupported("jwskate's JwtVerifier verifies with public keys only")
        verifier = self.imported(key, f"verifier-{suite.alg}-{allowed}", lambda data: JwtVerifier(
            key_set, issuer=None, **self._signature_algs(suite, allowed)))
        verifier.verify(token)
        return claims_bytes(SignedJwt(token).claims)


def _import_text(data: str | bytes, symmetric: bool) -> Jwk:
    """PEM and DER through jwskate's own importers. Bytes become a raw secret only where the
    application is configured for a symmetric suite: the adapter never turns key material it
    was given for a public-key suite into an HMAC secret itself."""
    raw = data.encode() if isinstance(data, str) else data
    if raw.lstrip().startswith(b"-----BEGIN"):
        return Jwk.from_pem(raw)
    if isinstance(data, str):
        raise Unsupported("jwskate imports keys from JWK, PEM or DER, not from this text")
    if symmetric:
        return SymmetricJwk.from_bytes(raw)
    return Jwk.from_der(raw)


def _public(key: Jwk | JwkSet) -> Jwk | JwkSet:
    return key.public_jwk() if isinstance(key, Jwk) and key.is_private else key


def _at_jwt(token: SignedJwt) -> None:
    require_at_jwt(dict(token.headers), "jwskate")


def _jwt_of(token: str, serialization: Serialization, kind: type[T]) -> T:
    """What jwskate's `Jwt(token)` makes of a compact token, refused unless it is `kind`."""
    if serialization != "compact":
        raise Unsupported("jwskate's Jwt takes compact tokens only")
    parsed = Jwt(token)
    if not isinstance(parsed, kind):
        raise Rejected(f"jwskate: Jwt() parsed a {type(parsed).__name__}, not a "
                       f"{kind.__name__}")
    return parsed
