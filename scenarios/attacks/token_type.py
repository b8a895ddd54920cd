"""Token-type confusion (RFC 8725 §3.11, §2.8): a JWE where a JWS is expected and back.

The JWE is encrypted to the very key the verifier holds for signatures (an RSA key used for
RSA-OAEP, an HMAC secret used as a `dir` key), so a consumer that takes any JOSE object its key
can open would hand back a payload nobody signed: anyone with the public key can make it.
"""

from __future__ import annotations

from harness.forge import jwe
from harness.forge import jws as forge_jws
from harness.interop.scenario import ConsumerConfig, Context, case, named_suites
from scenarios.payloads import PAYLOAD

REQUIREMENT = "RFC 8725 §3.11; RFC 7516 §9"
# A broad allow-list of an application that both verifies and decrypts with one configuration.
BROAD = ("HS256", "RS256", "RSA-OAEP", "dir", "A256GCM", "A128CBC-HS256")
CONFIGS = (ConsumerConfig("default"), ConsumerConfig("broad", algorithms=BROAD))
# The JWE each signing key can open: RSA-OAEP to the RSA key, `dir` with the 256-bit HMAC key.
JWE_FOR = {"RS256": ("RSA-OAEP", "A256GCM"), "HS256": ("dir", "A128CBC-HS256")}
JWS_FOR = {"RSA-OAEP": "RS256", "dir": "HS256"}


@case(requirement=REQUIREMENT, expected="reject", producer="forge", configs=CONFIGS,
      suites=named_suites("JWS RS256", "JWS HS256"), attack_class="token-type",
      severity="bypass", why="RFC 8725 §3.11: a verify call that takes a JWE skips the signature "
      "the application asked for; the encrypting party needs only the public key.")
def jwe_where_jws_expected(ctx: Context) -> tuple[bytes, bytes]:
    """A compact JWE encrypted to the verifier's signing key, given to `verify`."""
    alg, enc = JWE_FOR[ctx.suite.alg]
    key = ctx.keys.private(ctx.suite.key)
    token = jwe.encrypt({"alg": alg, "enc": enc, "typ": "JWT"}, PAYLOAD, key).compact()
    return PAYLOAD, ctx.consumer.verify(ctx.suite, token, ctx.verification_key(ctx.suite.key))


@case(requirement=REQUIREMENT, expected="reject", producer="forge", configs=CONFIGS,
      suites=named_suites("JWE RSA-OAEP + A256GCM", "JWE dir + A128CBC-HS256"),
      attack_class="token-type", severity="bypass",
      why="RFC 8725 §3.11: a decrypt call that takes a JWS hands over plaintext that was never "
          "encrypted: the confidentiality the application relies on is skipped.")
def jws_where_jwe_expected(ctx: Context) -> tuple[bytes, bytes]:
    """A compact JWS signed with the decryption key, given to `decrypt`: nothing was encrypted."""
    alg = JWS_FOR[ctx.suite.alg]
    token = forge_jws.sign({"alg": alg, "typ": "JWT"}, PAYLOAD, ctx.keys.private(ctx.suite.key))
    return PAYLOAD, ctx.consumer.decrypt(ctx.suite, token, ctx.decryption_key(ctx.suite.key))
