"""JWE JSON serialization (RFC 7516 §7.2): recipients, header locations, duplicate names.

The JOSE header of a JSON JWE is the union of the protected header, the shared unprotected
header and the recipient's header, and RFC 7516 §7.2.1 requires their names to be disjoint: a
consumer that lets an unprotected (unauthenticated) value stand beside or over a protected one
lets anyone on the path change how the token is processed. Every token below would decrypt
under one reading of its header; a correct consumer refuses it.
"""

from __future__ import annotations

import json
import os
from functools import partial

from harness.forge import jwe
from harness.forge.encoding import encode_json, segment
from harness.interop.scenario import ConsumerConfig, Context, case, named_suites
from scenarios.attacks._jwe import decrypt, forge
from scenarios.payloads import PAYLOAD

SUITES = named_suites("JWE A128KW + A128GCM", "JWE RSA-OAEP-256 + A128GCM")
# A consumer that allows both content encryptions, so a refusal is about the header, not the
# allow-list.
OTHER_ENC = "A256GCM"
# Another key management for the same key: what a conflicting recipient `alg` names.
OTHER_ALG = {"A128KW": "A128GCMKW", "RSA-OAEP-256": "RSA-OAEP"}
CONFIGS = (ConsumerConfig("default"),
           ConsumerConfig("broad", algorithms=("A128KW", "A128GCMKW", "RSA-OAEP-256", "RSA-OAEP",
                                               "A128GCM", OTHER_ENC)))
DISJOINT_CASE = partial(case, requirement="RFC 7516 §7.2.1", expected="reject", suites=SUITES,
                     producer="forge", configs=CONFIGS, attack_class="jwe-json")


@DISJOINT_CASE(severity="malleability",
    why=("The genuine ciphertext with its key management removed: a second encoding of one sealed"
         " token."))
def empty_recipients(ctx: Context) -> tuple[bytes, bytes]:
    """General JSON with `recipients: []` and a genuine iv, ciphertext and tag."""
    members = forge(ctx).general_members()
    members["recipients"] = []
    return decrypt(ctx, json.dumps(members), "general")


@case(requirement="RFC 7516 §5.2 step 18", expected="reject", suites=SUITES, producer="forge",
      configs=CONFIGS, attack_class="jwe-json", severity="forgery",
      why="No recipient's key decrypts: accepting it means plaintext nobody sealed for this key.")
def only_bad_recipients(ctx: Context) -> tuple[bytes, bytes]:
    """Two recipients whose encrypted keys are random bytes: no recipient decrypts."""
    token = forge(ctx)
    size = len(token.recipients[0].encrypted_key)
    token.recipients = [jwe.Recipient(os.urandom(size)) for _ in range(2)]
    return decrypt(ctx, token.general(), "general")


@DISJOINT_CASE(severity="leniency",
    why="The repeated value agrees with the protected one.")
def alg_in_protected_and_recipient_header(ctx: Context) -> tuple[bytes, bytes]:
    """`alg` both in the protected header and, with the same value, in the recipient's header."""
    token = forge(ctx, recipient_header={"alg": ctx.suite.alg})
    return decrypt(ctx, token.general(), "general")


@DISJOINT_CASE(severity="leniency",
    why="The repeated value agrees with the protected one.")
def enc_in_protected_and_unprotected(ctx: Context) -> tuple[bytes, bytes]:
    """`enc` both in the protected and, with the same value, in the shared unprotected header."""
    token = forge(ctx, unprotected={"enc": ctx.suite.enc})
    return decrypt(ctx, token.flattened(), "flattened")


def _conflict(ctx: Context, sealed_with: str) -> tuple[bytes, bytes]:
    protected = {"alg": ctx.suite.alg, "enc": ctx.suite.enc}
    token = forge(ctx, {"enc": sealed_with}, protected=encode_json(protected),
                  unprotected={"enc": OTHER_ENC})
    return decrypt(ctx, token.flattened(), "flattened")


@DISJOINT_CASE(severity="malleability",
    why=("A header member the tag does not cover stands beside or over the protected one: a "
         "second reading of a token the key holder sealed (RFC 7516 §7.2.1)."))
def unprotected_enc_overrides(ctx: Context) -> tuple[bytes, bytes]:
    """Protected `enc` A128GCM, unprotected `enc` A256GCM; sealed with the unprotected one."""
    return _conflict(ctx, OTHER_ENC)


@DISJOINT_CASE(severity="malleability",
    why=("A header member the tag does not cover stands beside or over the protected one: a "
         "second reading of a token the key holder sealed (RFC 7516 §7.2.1)."))
def unprotected_enc_ignored(ctx: Context) -> tuple[bytes, bytes]:
    """Protected `enc` A128GCM, a conflicting unprotected `enc`; sealed with the protected one."""
    return _conflict(ctx, ctx.suite.enc or "")


@DISJOINT_CASE(severity="malleability",
    why=("A header member the tag does not cover stands beside or over the protected one: a "
         "second reading of a token the key holder sealed (RFC 7516 §7.2.1)."))
def recipient_alg_overrides(ctx: Context) -> tuple[bytes, bytes]:
    """Protected `alg` A128KW, the recipient's header `alg` A128GCMKW (RSA-OAEP-256 and
    RSA-OAEP likewise); the key is managed with the recipient's, unprotected, one."""
    suite = ctx.suite
    token = jwe.encrypt({"enc": suite.enc}, PAYLOAD, ctx.keys.private(suite.key),
                        protected=encode_json({"alg": suite.alg, "enc": suite.enc}),
                        recipient_header={"alg": OTHER_ALG[suite.alg]})
    return decrypt(ctx, token.general(), "general")


@DISJOINT_CASE(severity="malleability",
    why=("A header member the tag does not cover stands beside or over the protected one: a "
         "second reading of a token the key holder sealed (RFC 7516 §7.2.1)."))
def recipient_alg_ignored(ctx: Context) -> tuple[bytes, bytes]:
    """Protected `alg` and a conflicting recipient `alg`; managed with the protected one."""
    token = forge(ctx, recipient_header={"alg": OTHER_ALG[ctx.suite.alg]})
    return decrypt(ctx, token.general(), "general")


@case(requirement="RFC 7516 §4; RFC 7515 §5.2 step 4", expected="reject", suites=SUITES,
      producer="forge", configs=CONFIGS, attack_class="jwe-json", severity="malleability",
      why="Two readings of one protected header; the one a strict parser keeps fails.")
def duplicate_enc_first_wins(ctx: Context) -> tuple[bytes, bytes]:
    """A protected header naming `enc` twice, sealed under the FIRST value: a consumer must
    reject duplicates or take the last one (which fails), never the first."""
    raw = (f'{{"alg":"{ctx.suite.alg}","enc":"{ctx.suite.enc}","enc":"{OTHER_ENC}"}}').encode()
    return decrypt(ctx, forge(ctx, protected=raw).compact())


@case(requirement="RFC 7516 §7.2.2; RFC 8259 §4", expected="reject", suites=SUITES,
      producer="forge", configs=CONFIGS, attack_class="jwe-json", severity="malleability",
      why="Two protected members: a second encoding of the genuine token.")
def duplicate_protected_member(ctx: Context) -> tuple[bytes, bytes]:
    """Flattened JSON with two `protected` members: the genuine one first, then another header
    (with `zip`); a consumer taking the last one fails the tag, one taking the first accepts."""
    token = forge(ctx)
    genuine = json.dumps(token.flattened_members())
    other = segment({"alg": ctx.suite.alg, "enc": ctx.suite.enc, "zip": "DEF"})
    text = genuine[:-1] + f', "protected": "{other}"}}'
    return decrypt(ctx, text, "flattened")
