"""Algorithm/key confusion (RFC 8725 §2.1, §3.1): an HMAC token whose secret is the verifier's
public key, as the application holds it, must not verify.

The consumer is an application configured for an asymmetric suite and holding its public key
as SPKI PEM, PKCS#1 PEM, OpenSSH text, DER bytes, JWK or JWKS JSON text or bare public bytes,
either through the adapter's import for that form or handed over untouched (`raw-` configs) to
the library's documented key parameter, as an application that read the text from a file or a
JWKS endpoint does. Whether the consumer verifies a genuine token of its suite with that key is
recorded beside the row (`genuine_verifies`), never a reason to skip: the classic confusion
bugs live exactly in forms a library cannot verify with and still uses as an HMAC secret.
"""

from __future__ import annotations

from typing import Any

from harness.adapters.base import error_text
from harness.core.errors import Unsupported
from harness.core.keyforms import KeyForm
from harness.forge.encoding import b64url, compact, segment
from harness.forge.jws import hmac_signature
from harness.interop.scenario import ConsumerConfig, Context
from scenarios.attacks.jws_common import ASYMMETRIC, BROAD, Catalogue, Forged, offer, valid
from scenarios.payloads import PAYLOAD

FORMS: tuple[KeyForm, ...] = ("pem", "pkcs1", "openssh", "der", "jwk-json")
# The forms an application hands over untouched: the above, JWKS JSON text and bare bytes.
RAW_FORMS: tuple[KeyForm, ...] = (*FORMS, "jwks-json", "raw")
# Per form: the library's own allow-list (default mode; `enabled` mode narrows it to the
# suite's algorithm) and a broad one naming HMAC beside the asymmetric algorithms.
CONFIGS = tuple(config for form in FORMS for config in (
    ConsumerConfig(form, key_form=form),
    ConsumerConfig(f"broad-{form}", key_form=form, algorithms=BROAD))) + tuple(
    config for form in RAW_FORMS for config in (
        ConsumerConfig(f"raw-{form}", key_form=form, raw_key=True),
        ConsumerConfig(f"raw-broad-{form}", key_form=form, algorithms=BROAD, raw_key=True)))

cases = Catalogue(globals(), requirement="RFC 8725 §3.1", suites=ASYMMETRIC, configs=CONFIGS,
                  attack_class="key-confusion", severity="forgery",
                  why="The public key is public: an HMAC under it is made by anyone "
                      "(RFC 8725 §3.1).")


def secret_of(key: Any) -> bytes:
    """The bytes a library that confuses the key would use as the HMAC secret."""
    return key if isinstance(key, bytes) else key.encode()


def _confused(alg: str) -> Any:
    def forge(ctx: Context) -> Forged:
        if ctx.config.key_form == "pkcs1" and ctx.suite.key.kty != "RSA":
            raise Unsupported("PKCS#1 holds RSA keys only")
        key = ctx.verification_key(ctx.suite.key)
        head = segment({"alg": alg, "typ": "JWT"})
        data = f"{head}.{segment(PAYLOAD)}"
        token = compact(data, b64url(hmac_signature(alg, secret_of(key), data.encode())))
        return Forged(token, clean=valid(ctx), key=key)
    return forge


def _run(alg: str) -> Any:
    forge = _confused(alg)

    def run(ctx: Context) -> tuple[bytes, bytes]:
        if (ctx.config.algorithms is None and ctx.mode == "default"
                and ctx.consumer.adapter.requires_allow_list):
            raise Unsupported(f"{ctx.consumer.name} refuses to verify without an allow-list")
        forged = forge(ctx)
        try:
            offer(ctx, Forged(forged.clean or "", key=forged.key))
            ctx.notes["genuine_verifies"] = True
        except Unsupported:
            raise  # declared by the adapter: no call an application can write with this form
        except Exception as error:  # whatever the library answers, the forgery is still sent
            ctx.notes["genuine_verifies"] = False
            ctx.notes["genuine_detail"] = error_text(error)[:300]
        return offer(ctx, forged)
    return run


for _alg in ("HS256", "HS512"):
    cases.add_run(f"{_alg.lower()}_with_public_key_as_secret",
                  f"An {_alg} token whose secret is the verifier's public key, in the form the "
                  "application holds it, is refused.", _run(_alg))
    cases.forges[f"{_alg.lower()}_with_public_key_as_secret"] = _confused(_alg)
