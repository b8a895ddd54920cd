"""What the JWS attack modules share: a forged token with its defect-free twin, the consumer
call, attacker keys, and a way to declare many cases from a table.

A module declares each case with `Catalogue.add(name, doc, forge)`, where `forge(ctx)` returns a
`Forged`. Tests read the same catalogue to check every forged token's structure and that its
defect-free twin (`clean`) verifies in a real library, so a case tests its defect and not a
broken forge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from harness.adapters.base import KeyData, Serialization
from harness.core.keys import JWK, generate_jwk, public_jwk
from harness.core.suites import SUITES_BY_NAME, KeySpec, Suite
from harness.forge.encoding import b64url, compact, encode_json, segment
from harness.forge.jws import raw_signature
from harness.interop.scenario import ConsumerConfig, Context, case, named_suites
from scenarios.payloads import PAYLOAD

Forge = Callable[[Context], "Forged"]
# One suite per key type, the usual representative choice of the attack modules.
REPRESENTATIVE = ("JWS HS256", "JWS RS256", "JWS ES256", "JWS EdDSA (Ed25519)")
# HMAC, RSA and ECDSA: where the key type does not change what a case checks.
HMAC_RSA_EC = ("JWS HS256", "JWS RS256", "JWS ES256")
ASYMMETRIC = ("JWS RS256", "JWS ES256", "JWS EdDSA (Ed25519)")
# An allow-list an application writes to accept every algorithm its issuers use.
BROAD = ("HS256", "RS256", "ES256", "EdDSA")
DEFAULT_CONFIGS = (ConsumerConfig("default"), ConsumerConfig("broad", algorithms=BROAD))


@dataclass(frozen=True)
class Forged:
    """A hostile token. `clean`: the same token without its defect, which a correct consumer
    accepts with the same key (None when there is no such twin). `key`: the consumer's key when
    the case does not use the configured verification key. `suite`: what the consumer is
    configured for, when it is not the case's suite."""

    token: str
    clean: str | None = None
    key: KeyData | None = None
    serialization: Serialization = "compact"
    suite: Suite | None = None
    payload: bytes = PAYLOAD
    # The key `clean` verifies with, when it is neither `key` nor the configured key.
    clean_key: KeyData | None = None


def suite(name: str) -> Suite:
    return SUITES_BY_NAME[name]


def consumer_key(ctx: Context, forged: Forged) -> KeyData:
    target = forged.suite or ctx.suite
    return forged.key if forged.key is not None else ctx.verification_key(target.key)


def offer(ctx: Context, forged: Forged) -> tuple[bytes, bytes]:
    """Hand the forged token to the consumer; return (payload the forge put in, what came back)."""
    target = forged.suite or ctx.suite
    received = ctx.consumer.verify(target, forged.token, consumer_key(ctx, forged),
                                   serialization=forged.serialization)
    return forged.payload, received


def signed(header: Any, payload: bytes, jwk: JWK, alg: str) -> tuple[str, str]:
    """(encoded header, compact token) with the header exactly as given (dict, text or bytes)."""
    head = segment(header)
    data = f"{head}.{segment(payload)}".encode("ascii")
    return head, compact(head, segment(payload), b64url(raw_signature(alg, jwk, data)))


def sign_text(head: str, body: str, jwk: JWK, alg: str) -> str:
    """A compact token over segments given as text, signed exactly as they are written."""
    return compact(head, body, b64url(raw_signature(alg, jwk, f"{head}.{body}".encode())))


def valid(ctx: Context, header: dict[str, Any] | None = None, payload: bytes = PAYLOAD) -> str:
    """A correct token of the case's suite by the consumer's current key."""
    jwk = ctx.keys.private(ctx.suite.key)
    return signed({"alg": ctx.suite.alg, **(header or {})}, payload, jwk, ctx.suite.alg)[1]


def with_signature(change: Callable[[str, str], str]) -> Forge:
    """The genuine token with its signature segment's text replaced by `change(text, alg)`."""
    def forge(ctx: Context) -> Forged:
        clean = valid(ctx)
        head, body, signature = clean.split(".")
        return Forged(compact(head, body, change(signature, ctx.suite.alg)), clean=clean)
    return forge


@cache
def attacker_key(spec: KeySpec) -> JWK:
    """A key the attacker holds: never in the key set, made once per process."""
    return {**generate_jwk(spec), "kid": f"attacker-{spec.id}"}


def attacker_public(spec: KeySpec) -> JWK:
    return public_jwk(attacker_key(spec))


def json_text(value: Any) -> str:
    return encode_json(value).decode()


class Catalogue:
    """Declares cases into a module's namespace from a table, with shared `@case` arguments,
    and keeps each case's forge for the tests."""

    def __init__(self, namespace: dict[str, Any], **defaults: Any) -> None:
        self.namespace, self.defaults = namespace, defaults
        self.forges: dict[str, Forge] = {}

    def add(self, name: str, doc: str, forge: Forge, **overrides: Any) -> None:
        def run(ctx: Context) -> tuple[bytes, bytes]:
            return offer(ctx, forge(ctx))
        self.add_run(name, doc, run, **overrides)
        self.forges[name] = forge

    def add_run(self, name: str, doc: str, run: Callable[[Context], tuple[bytes, bytes]],
                **overrides: Any) -> None:
        if name in self.namespace:
            raise ValueError(f"case {name!r} declared twice")
        run.__doc__, run.__name__, run.__qualname__ = doc, name, name
        # Discovery keeps functions that belong to the scenario module itself.
        run.__module__ = self.namespace["__name__"]
        arguments = {"expected": "reject", "producer": "forge", **self.defaults, **overrides}
        if isinstance(arguments.get("suites"), tuple):
            arguments["suites"] = named_suites(*arguments["suites"])
        self.namespace[name] = case(**arguments)(run)
