"""What every adapter offers: its capabilities and four operations on plain data.

Adapters take and return plain data only (JWK dicts, `str` tokens, `bytes` payloads, header
dicts) so that an adapter could run in another process or language. The base class does the
shared part: it refuses what the adapter declares it cannot do with `Unsupported`, turns the
library's own error types into `Rejected` with the library's text, and caches imported keys so
that no operation pays for a key import.
"""

from __future__ import annotations

import json
import os
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar, Literal, TypeVar

from harness.core.claims import ClaimsOptions
from harness.core.errors import HarnessError, Rejected, Unsupported
from harness.core.keys import JWK
from harness.core.suites import Suite

Mode = Literal["default", "enabled"]
MODES: tuple[Mode, ...] = ("default", "enabled")
Serialization = Literal["compact", "flattened", "general"]
SERIALIZATIONS: tuple[Serialization, ...] = ("compact", "flattened", "general")
Operation = Literal["sign", "verify", "encrypt", "decrypt"]
OPERATIONS: tuple[Operation, ...] = ("sign", "verify", "encrypt", "decrypt")
PRODUCING: frozenset[str] = frozenset({"sign", "encrypt"})
# How an application calls the consumer: `jws` is the library's JWS/JWE call (verify, decrypt),
# `jwt` its JWT API (PyJWT `jwt.decode`, jwcrypto `jwt.JWT(jwt=..., key=...)`, ...), which parses
# the payload as a claims set. `resolver` is the library's key-resolving form, where it documents
# one: a key callable the application writes (pick by the header's `kid`, as its docs show), a
# key client (PyJWT's `PyJWKClient`, fetching the JWKS over HTTP) or a verifier holding the key
# set; it takes the `jwks` key form only. The `jwks` form through `jws` or `jwt` is the library's
# key-set parameter (a `KeySet`, a `JWKSet`, a JWKS dict), or declared unsupported.
EntryPoint = Literal["jws", "jwt", "resolver"]
ENTRY_POINTS: tuple[EntryPoint, ...] = ("jws", "jwt", "resolver")
OPERATIONS_OF: dict[str, tuple[str, str]] = {
    "jws": ("_verify", "_decrypt"), "jwt": ("_verify_jwt", "_decrypt_jwt"),
    "resolver": ("_verify_resolved", "_decrypt_resolved")}

T = TypeVar("T")
# What a key argument may be: a JWK, a JWKS (`{"keys": [...]}`), or the key as an application
# might hold it instead, PEM text or raw bytes. Adapters hand each form to the library the
# way its documentation shows.
KeyData = JWK | str | bytes
# None: call the library with its own default allow-list; a list: allow exactly these names.
Allowed = list[str] | None


def is_jwks(key: KeyData) -> bool:
    return isinstance(key, dict) and "keys" in key and "kty" not in key


def claims_bytes(claims: Any) -> bytes:
    """A JWT API's claims as the payload bytes: compact JSON, non-ASCII kept, in the order the
    library parsed them, so a claims set the library returns unchanged equals the bytes signed
    (the harness's payloads are written this way)."""
    return json.dumps(dict(claims), separators=(",", ":"), ensure_ascii=False).encode("utf-8")


HARNESS_DIRECTORY = str(Path(__file__).resolve().parents[1]) + os.sep


def raised_inside(error: BaseException, package: ModuleType) -> bool:
    """Whether `package` raised `error`: of the traceback's frames in the package or in the
    harness, the innermost is the package's. What the package calls (`json`, `binascii`) may
    raise on its behalf; a harness frame nearer the raise means the harness raised it."""
    root = str(Path(package.__file__ or "").resolve().parent) + os.sep
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        where = str(Path(frame.filename).resolve())
        if where.startswith(root):
            return True
        if where.startswith(HARNESS_DIRECTORY):
            return False
    return False


def error_text(error: BaseException) -> str:
    text = str(error).strip() or repr(error)
    return f"{type(error).__name__}: {text}"


class Adapter(ABC):
    """One library. Subclasses set the class attributes and implement the `_` operations."""

    name: ClassVar[str]
    distribution: ClassVar[str]
    # The library's own error types: raising one of these means "the library refused".
    rejection_errors: ClassVar[tuple[type[BaseException], ...]] = ()
    # Serializations the library offers, per family and direction.
    produces: ClassVar[dict[str, frozenset[Serialization]]] = {}
    consumes: ClassVar[dict[str, frozenset[Serialization]]] = {}
    # The library refuses to verify without an explicit allow-list (so "no allow-list" is not a
    # configuration an application can write with it).
    requires_allow_list: ClassVar[bool] = False
    # Entry points the library documents for consuming a token, each with where it is
    # documented; `jws` is every adapter's `_verify`/`_decrypt`, `jwt` its `_verify_jwt` and
    # `_decrypt_jwt`, `resolver` its `_verify_resolved` and `_decrypt_resolved`. An entry point
    # not listed is declared `Unsupported`.
    entry_points: ClassVar[dict[str, str]] = {"jws": "the adapter's JWS/JWE call"}

    def __init__(self) -> None:
        # Keyed by id() of the JWK dict, which is kept alive beside its import so the id is
        # never reused; a lookup by identity costs far less than any operation.
        self._imported: dict[tuple[int, str], tuple[KeyData, Any]] = {}

    # -- capabilities -------------------------------------------------------------------------

    @property
    def version(self) -> str:
        return metadata.version(self.distribution)

    @abstractmethod
    def supports(self, suite: Suite) -> bool:
        """The library implements the suite, at least once the algorithm is enabled."""

    @abstractmethod
    def allows_by_default(self, suite: Suite) -> bool:
        """The library accepts the suite as a new user calls it, with its own allow-lists."""

    def check(self, suite: Suite, mode: Mode, operation: Operation,
              serialization: Serialization = "compact", explicit: bool = False) -> None:
        """Raise `Unsupported` for what the adapter declares the library cannot do.

        `explicit`: the caller passes its own allow-list, so the library's default one is moot.
        """
        self.check_mode(suite, mode, explicit)
        offered = (self.produces if operation in PRODUCING else self.consumes).get(suite.family)
        if not offered or serialization not in offered:
            direction = "produce" if operation in PRODUCING else "consume"
            raise Unsupported(f"{self.name} cannot {direction} {suite.family} in "
                              f"{serialization} serialization")

    def check_mode(self, suite: Suite, mode: Mode, explicit: bool = False) -> None:
        """The part of `check` that depends on the mode: `Unsupported` when the library does
        not implement the suite, or (in `default` mode, without the caller's own allow-list)
        does not allow it by default."""
        if not self.supports(suite):
            raise Unsupported(f"{self.name} does not implement {suite.name}")
        if mode == "default" and not explicit and not self.allows_by_default(suite):
            raise Unsupported(f"{self.name} does not allow {suite.name} by default")

    @staticmethod
    def allow_list(suite: Suite, mode: Mode, algorithms: Sequence[str] | None = None) -> Allowed:
        """The allow-list an operation passes to the library.

        An explicit list (a consumer configured narrowly or broadly) wins; `enabled` mode allows
        exactly the suite's names (and `DEF`, since a JWE consumer cannot know in advance whether
        a token is compressed); `default` mode leaves the library to its own defaults.
        """
        if algorithms is not None:
            return list(algorithms)
        if mode == "default":
            return None
        names = [suite.alg] + ([suite.enc] if suite.enc else [])
        return [*names, "DEF"] if suite.family == "JWE" else names

    # -- operations ---------------------------------------------------------------------------

    def sign(self, suite: Suite, payload: bytes, key: KeyData, *, mode: Mode,
             header: dict[str, Any] | None = None, serialization: Serialization = "compact",
             algorithms: Sequence[str] | None = None) -> str:
        self.check(suite, mode, "sign", serialization, explicit=algorithms is not None)
        return self._call(self._sign, suite, payload, key, dict(header or {}),
                          self.allow_list(suite, mode, algorithms), serialization)

    def verify(self, suite: Suite, token: str, key: KeyData, *, mode: Mode,
               serialization: Serialization = "compact",
               algorithms: Sequence[str] | None = None,
               entry_point: EntryPoint = "jws") -> bytes:
        """Return the payload. `key` may be a JWKS (`{"keys": [...]}`) to pick from by kid.
        `entry_point="jwt"`: through the library's JWT API; the claims come back as bytes."""
        self.check(suite, mode, "verify", serialization, explicit=algorithms is not None)
        self.check_entry_point(entry_point, key)
        operation = getattr(self, OPERATIONS_OF[entry_point][0])
        return self._call(operation, suite, token, key,
                          self.allow_list(suite, mode, algorithms), serialization)

    def encrypt(self, suite: Suite, plaintext: bytes, key: KeyData, *, mode: Mode,
                header: dict[str, Any] | None = None, serialization: Serialization = "compact",
                algorithms: Sequence[str] | None = None) -> str:
        self.check(suite, mode, "encrypt", serialization, explicit=algorithms is not None)
        return self._call(self._encrypt, suite, plaintext, key, dict(header or {}),
                          self.allow_list(suite, mode, algorithms), serialization)

    def decrypt(self, suite: Suite, token: str, key: KeyData, *, mode: Mode,
                serialization: Serialization = "compact",
                algorithms: Sequence[str] | None = None,
                entry_point: EntryPoint = "jws") -> bytes:
        """Return the plaintext. `key` may be a JWKS (`{"keys": [...]}`) to pick from by kid."""
        self.check(suite, mode, "decrypt", serialization, explicit=algorithms is not None)
        self.check_entry_point(entry_point, key)
        operation = getattr(self, OPERATIONS_OF[entry_point][1])
        return self._call(operation, suite, token, key,
                          self.allow_list(suite, mode, algorithms), serialization)

    def check_entry_point(self, entry_point: EntryPoint, key: KeyData | None = None) -> None:
        if entry_point not in self.entry_points:
            raise Unsupported(f"{self.name} documents no {entry_point} entry point")
        if entry_point == "resolver" and key is not None and not is_jwks(key):
            raise Unsupported("the resolver entry point resolves a key from a key set (JWKS)")

    def validate_claims(self, suite: Suite, token: str, key: KeyData, options: ClaimsOptions,
                        *, mode: Mode, algorithms: Sequence[str] | None = None
                        ) -> dict[str, Any]:
        """Verify a compact JWS JWT and validate its claims; return the claims.

        The library's own JWT API does the claims validation, configured from `options` (an
        unset field leaves the library's default). Implement `_validate_claims`.
        """
        self.check(suite, mode, "verify", "compact", explicit=algorithms is not None)
        return self._call(self._validate_claims, suite, token, key, options,
                          self.allow_list(suite, mode, algorithms))

    def prepared(self, operation: Operation, suite: Suite, key: KeyData, *, mode: Mode,
                 serialization: Serialization = "compact",
                 algorithms: Sequence[str] | None = None) -> Callable[[Any], Any]:
        """`operation` bound to its suite, key and allow-list: a callable of the data alone.

        For timed loops: `check()` and `allow_list()` run once here instead of on every call,
        while each call still goes through the adapter's own operation and error translation,
        exactly as `sign`/`verify`/`encrypt`/`decrypt` do. The key is imported on the first
        call and cached, so call it once before timing.
        """
        self.check(suite, mode, operation, serialization, explicit=algorithms is not None)
        allowed = self.allow_list(suite, mode, algorithms)
        call = self._call
        if operation in PRODUCING:
            produce = self._sign if operation == "sign" else self._encrypt

            def run_producing(data: Any) -> Any:
                return call(produce, suite, data, key, {}, allowed, serialization)
            return run_producing
        consume = self._verify if operation == "verify" else self._decrypt

        def run_consuming(data: Any) -> Any:
            return call(consume, suite, data, key, allowed, serialization)
        return run_consuming

    def _call(self, operation: Callable[..., T], *args: Any) -> T:
        try:
            return operation(*args)
        except (Rejected, Unsupported):
            raise
        except self.rejection_errors as error:
            raise Rejected(error_text(error)) from error

    @abstractmethod
    def _sign(self, suite: Suite, payload: bytes, key: KeyData, header: dict[str, Any],
              allowed: Allowed, serialization: Serialization) -> str: ...

    @abstractmethod
    def _verify(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                serialization: Serialization) -> bytes: ...

    def _encrypt(self, suite: Suite, plaintext: bytes, key: KeyData, header: dict[str, Any],
                 allowed: Allowed, serialization: Serialization) -> str:
        raise Unsupported(f"{self.name} does not implement JWE")

    def _decrypt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                 serialization: Serialization) -> bytes:
        raise Unsupported(f"{self.name} does not implement JWE")

    def _verify_jwt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                    serialization: Serialization) -> bytes:
        """Verify through the library's JWT API, as an application decoding an access token
        does; return the claims as `claims_bytes` (or the payload bytes the API hands back)."""
        raise Unsupported(f"{self.name}: the harness has no JWT API call for it")

    def _decrypt_jwt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                     serialization: Serialization) -> bytes:
        """Decrypt an encrypted JWT through the library's JWT API."""
        raise Unsupported(f"{self.name}'s JWT API does not decrypt JWE")

    def _verify_resolved(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                         serialization: Serialization) -> bytes:
        """Verify through the library's key-resolving form, with `key` (a JWKS) as the
        application's key store: the resolver picks by the header's `kid` the way the library's
        documentation writes it; return the claims as `claims_bytes`."""
        raise Unsupported(f"{self.name} documents no key-resolving entry point")

    def _decrypt_resolved(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                          serialization: Serialization) -> bytes:
        raise Unsupported(f"{self.name}'s key-resolving entry point does not decrypt JWE")

    def _validate_claims(self, suite: Suite, token: str, key: KeyData, options: ClaimsOptions,
                         allowed: Allowed) -> dict[str, Any]:
        """Call the library's JWT decode with `options` translated to its API: leeway, expected
        audience and issuer, required claims; raise its own error types on refusal. A library
        with no JWT claims API keeps this default."""
        raise Unsupported(f"{self.name}: the harness has no JWT claims validation for it")

    # -- keys ---------------------------------------------------------------------------------

    def imported(self, jwk: KeyData, purpose: str, importer: Callable[[Any], Any]) -> Any:
        """The library's key object for `jwk`, imported once per process and purpose."""
        slot = (id(jwk), purpose)
        hit = self._imported.get(slot)
        if hit is not None and hit[0] is jwk:
            return hit[1]
        key = importer(jwk)
        self._imported[slot] = (jwk, key)
        return key

    # -- several signatures and recipients (RFC 7515 §7.2.1, RFC 7516 §7.2.1) ------------------

    def sign_multi(self, signers: Sequence[tuple[Suite, KeyData, dict[str, Any]]],
                   payload: bytes, *, mode: Mode,
                   algorithms: Sequence[str] | None = None) -> str:
        """A general JSON JWS with one signature per signer: (suite, private key, protected
        header members besides `alg`, e.g. its `kid`). Implement `_sign_multi`."""
        # The algorithms are checked as for any token; whether the library writes several
        # signatures is its `_sign_multi`'s to declare (jwcrypto writes general JSON only then).
        for suite, _, _ in signers:
            self.check(suite, mode, "sign", "compact", explicit=algorithms is not None)
        allowed = self._union_allow_list([s for s, _, _ in signers], mode, algorithms)
        return self._call(self._sign_multi, [(s, k, dict(h)) for s, k, h in signers],
                          payload, allowed)

    def encrypt_multi(self, recipients: Sequence[tuple[Suite, KeyData, dict[str, Any]]],
                      plaintext: bytes, *, mode: Mode,
                      algorithms: Sequence[str] | None = None) -> str:
        """A general JSON JWE to every recipient: (suite, public key, per-recipient header
        members besides `alg`, e.g. its `kid`). Every suite names the same `enc`, which goes in
        the protected header; each `alg` goes in its recipient's header. Implement
        `_encrypt_multi`."""
        encs = {suite.enc for suite, _, _ in recipients}
        if len(encs) != 1:
            raise ValueError(f"the recipients' suites name several enc values: {encs}")
        for suite, _, _ in recipients:
            self.check(suite, mode, "encrypt", "compact", explicit=algorithms is not None)
        allowed = self._union_allow_list([s for s, _, _ in recipients], mode, algorithms)
        return self._call(self._encrypt_multi, [(s, k, dict(h)) for s, k, h in recipients],
                          plaintext, allowed)

    def _union_allow_list(self, suites: Sequence[Suite], mode: Mode,
                          algorithms: Sequence[str] | None) -> Allowed:
        lists = [self.allow_list(suite, mode, algorithms) for suite in suites]
        if any(allowed is None for allowed in lists):
            return None
        return list(dict.fromkeys(name for allowed in lists for name in allowed or []))

    def _sign_multi(self, signers: list[tuple[Suite, KeyData, dict[str, Any]]],
                    payload: bytes, allowed: Allowed) -> str:
        raise Unsupported(self._no_multi("JWS", "signatures"))

    def _encrypt_multi(self, recipients: list[tuple[Suite, KeyData, dict[str, Any]]],
                       plaintext: bytes, allowed: Allowed) -> str:
        raise Unsupported(self._no_multi("JWE", "recipients"))

    def _no_multi(self, family: str, what: str) -> str:
        if "general" not in self.produces.get(family, frozenset()):
            return f"{self.name} cannot produce {family} in general JSON serialization"
        return f"the harness knows no call of {self.name} that writes several {what}"

    # -- algorithm names ------------------------------------------------------------------------

    def registered_names(self) -> dict[str, list[str]]:
        """The algorithm names the library registers, read from its own registry objects, by
        location (`JWS alg`, `JWE alg`, `JWE enc`, `JWE zip`; `any` when the library keeps one
        registry for all). Raise `Unsupported` when it exposes none."""
        raise Unsupported(f"the harness reads no algorithm registry of {self.name}")
    # -- key generation, export and thumbprints (RFC 7517, RFC 7638) --------------------------

    # The library's documented key-generation call, or None when it has none (declared, so the
    # keygen cells and sheet say `unsupported` with this reason instead of guessing).
    keygen_api: ClassVar[str | None] = None
    # Key types whose generation call has no default for the size (RSA, oct) or the curve (EC,
    # OKP): kty -> "size" or "curve". The harness then passes the RFC minimum itself.
    keygen_requires: ClassVar[dict[str, str]] = {}
    # What else a new user meets in the generation call (a default that is not a private key).
    keygen_note: ClassVar[str] = ""

    def generate_key(self, kty: str, crv: str | None = None, size: int | None = None) -> JWK:
        """A new private key made by the library's own generation call, returned as the JWK
        dict the library's own export writes. `crv`/`size` None: the library's default."""
        if self.keygen_api is None:
            raise Unsupported(f"{self.name} has no key-generation API")
        wanted = self.keygen_requires.get(kty)
        if (wanted == "size" and size is None) or (wanted == "curve" and crv is None):
            raise Unsupported(f"{self.name}'s key generation requires a {wanted} for {kty}")
        return _plain(self._call(self._generate_key, kty, crv, size))

    def export_jwk(self, jwk: JWK, private: bool = False) -> JWK:
        """`jwk` imported into the library and exported through its own JWK export."""
        return _plain(self._call(self._export_jwk, jwk, private))

    def export_jwks(self, jwk: JWK, private: bool = False) -> JWK:
        """A JWKS holding `jwk`, written by the library's own key-set export."""
        return _plain(self._call(self._export_jwks, jwk, private))

    def thumbprint(self, jwk: JWK) -> str:
        """The library's RFC 7638 SHA-256 thumbprint of `jwk`."""
        return str(self._call(self._thumbprint, jwk))

    def _generate_key(self, kty: str, crv: str | None, size: int | None) -> JWK:
        raise Unsupported(f"{self.name} has no key-generation API")

    def _export_jwk(self, jwk: JWK, private: bool) -> JWK:
        raise Unsupported(f"{self.name}: the harness has no JWK export call for it")

    def _export_jwks(self, jwk: JWK, private: bool) -> JWK:
        raise Unsupported(f"{self.name}: the harness has no JWKS export call for it")

    def _thumbprint(self, jwk: JWK) -> str:
        raise Unsupported(f"{self.name} offers no RFC 7638 thumbprint")


    # -- resource server (RFC 9068 §4) --------------------------------------------------------

    # How the adapter validates an access token, for the rows: the library calls it makes, and
    # where it composes the library's JWE call with its JWT call or reads a header the library
    # leaves to the application.
    access_token_api: ClassVar[str] = ""

    def validate_access_token(self, token: str, *, signing: Suite, verification_key: KeyData,
                              issuer: str, audience: str, encryption: Suite | None = None,
                              decryption_key: KeyData | None = None) -> dict[str, Any]:
        """Validate an access token as a resource server must (RFC 9068 §4); return its claims.

        Decrypt the outer JWE when `encryption` is given (the resource server registered for
        encrypted tokens), verify the inner JWS with the signing algorithm alone, check `exp`,
        `iss` = `issuer`, `aud` holds `audience` and the header `typ` is `at+jwt`, through the
        library's own JWT API and claims options. A resource server names the algorithms it
        registered, so the allow-lists are exactly the suites' names. Implement
        `_validate_access_token`; refusals raise `Rejected`.
        """
        self.check(signing, "enabled", "verify", "compact", explicit=True)
        if encryption is not None:
            self.check(encryption, "enabled", "decrypt", "compact", explicit=True)
            if decryption_key is None:
                raise HarnessError("an encrypted access token needs a decryption key")
        check = AccessTokenCheck(signing, verification_key, issuer, audience, encryption,
                                 decryption_key)
        return self._call(self._validate_access_token, token, check)

    def _validate_access_token(self, token: str, check: AccessTokenCheck) -> dict[str, Any]:
        raise Unsupported(f"{self.name}: the harness has no access-token validation for it")


@dataclass(frozen=True)
class AccessTokenCheck:
    """What a resource server holds to validate its access tokens: the suites it registered,
    its keys (imported once, through the adapter's key cache) and the values it expects."""

    signing: Suite
    verification_key: KeyData
    issuer: str
    audience: str
    encryption: Suite | None = None
    decryption_key: KeyData | None = None

    @property
    def signing_algorithms(self) -> list[str]:
        return [self.signing.alg]

    @property
    def encryption_algorithms(self) -> list[str]:
        """The JWE names the resource server registered (no `zip`: an access token it expects
        is never compressed)."""
        suite = self.encryption
        return [] if suite is None else [suite.alg, *([suite.enc] if suite.enc else [])]


# RFC 9068 §4: "The resource server MUST verify that the typ header value is "at+jwt" or
# "application/at+jwt""; RFC 7515 §4.1.9: media type names compare case-insensitively.
AT_JWT = frozenset({"at+jwt", "application/at+jwt"})


def require_at_jwt(header: dict[str, Any], library: str) -> None:
    """The header check for a library whose JWT API returns the header and leaves `typ` to the
    application (its documented way): refuse anything but `at+jwt`."""
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in AT_JWT:
        raise Rejected(f"{library}: header typ {typ!r} is not at+jwt (RFC 9068 §4; checked on "
                       f"the header the library returns)")


def _plain(value: Any) -> Any:
    """Library key objects that are dict subclasses (jwskate's) as plain JSON data."""
    return json.loads(json.dumps(value))
