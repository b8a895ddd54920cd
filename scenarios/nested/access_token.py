"""The encrypted access token: an RFC 9068 `at+jwt` signed by one library, then encrypted
(`cty: JWT`), and decrypted and verified by another."""

from __future__ import annotations

import json
from collections.abc import Sequence

from harness.core.keys import kid_for
from harness.core.suites import SUITES_BY_NAME, Suite
from harness.interop.scenario import Context, SuiteChoice, case

SIGNING = ("JWS RS256", "JWS PS256", "JWS ES256", "JWS EdDSA (Ed25519)")
# Hybrid encryption only: a content key wrapped with (or agreed to) the recipient's public key.
ENCRYPTION = (
    "JWE RSA-OAEP-256 + A256GCM",
    "JWE RSA-OAEP + A128CBC-HS256",
    "JWE ECDH-ES+A256KW (P-256) + A256GCM",
    "JWE ECDH-ES (X25519) + A256GCM",
    "JWE ECDH-ES+A128KW (P-384) + A128CBC-HS256",
)

# RFC 9068 §2.2: the claims an access token carries; fixed so the comparison is byte-exact.
ACCESS_TOKEN_CLAIMS = {
    "iss": "https://as.example.com/",
    "sub": "5ba552d67",
    "aud": "https://rs.example.com/",
    "exp": 4102444800,
    "iat": 1764288000,
    "jti": "dbe39bf3a3ba4238a513f51d6e1691c4",
    "client_id": "s6BhdRkqt3",
    "scope": "openid profile",
}
CLAIMS_BYTES = json.dumps(ACCESS_TOKEN_CLAIMS, separators=(",", ":")).encode()


def representative_pairs(selected: Sequence[Suite]) -> list[SuiteChoice]:
    """Pairs of the representative set where the JWS or the JWE part is among the selected."""
    chosen = set(selected)
    return [(SUITES_BY_NAME[jws], SUITES_BY_NAME[jwe]) for jws in SIGNING for jwe in ENCRYPTION
            if SUITES_BY_NAME[jws] in chosen or SUITES_BY_NAME[jwe] in chosen]


@case(requirement="RFC 9068 §2.1, RFC 7519 §5.2", suites=representative_pairs)
def signed_then_encrypted(ctx: Context) -> tuple[bytes, bytes]:
    """An `at+jwt` signed, then encrypted with `cty: JWT`, decrypts and verifies to its claims."""
    signing, encryption = ctx.suites
    inner = ctx.producer.sign(signing, CLAIMS_BYTES, ctx.keys.private(signing.key),
                              header={"typ": "at+jwt", "kid": kid_for(signing.key, "current")})
    outer = ctx.producer.encrypt(encryption, inner.encode("ascii"),
                                 ctx.keys.public(encryption.key),
                                 header={"cty": "JWT",
                                         "kid": kid_for(encryption.key, "current")})
    decrypted = ctx.consumer.decrypt(encryption, outer, ctx.keys.private(encryption.key))
    claims = ctx.consumer.verify(signing, decrypted.decode("ascii"),
                                 ctx.keys.public(signing.key))
    return CLAIMS_BYTES, claims
