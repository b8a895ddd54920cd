"""The `conformance` of a row: what the strict reference says about the tokens the producing
library made in the cell, judged with the key the case used.

`conformant`; the first rule a token breaks (for a nested token, the first token that breaks
one); "not judged: ..." when the reference cannot judge it; None when no library produced a
token (a `forge` row, or a producer that declared the suite unsupported or failed). Each
distinct token is judged once per process: deterministic signatures (HS*, RS*, EdDSA) repeat
across consumers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.core.keys import JWK, KeySet, public_jwk
from harness.forge.reference import CONFORMANT, NOT_JUDGED, conformance
from harness.interop.scenario import Produced

ISOLATED = NOT_JUDGED + "the token was made in an isolated child process"
_MEMO_LIMIT = 20_000
_memo: dict[tuple[str, str], str] = {}
_private_by_kid: dict[int, dict[str, JWK]] = {}


def recipient_private_key(keys: KeySet, public: dict[str, Any]) -> JWK | None:
    """The key set's private key whose `kid` the recipient's public key carries."""
    index = _private_by_kid.get(id(keys))
    if index is None:
        index = {jwk["kid"]: jwk for roles in keys.keys.values() for jwk in roles.values()
                 if "kid" in jwk}
        _private_by_kid.clear()
        _private_by_kid[id(keys)] = index
    kid = public.get("kid") if isinstance(public, dict) else None
    return index.get(kid) if isinstance(kid, str) else None


def judge(produced: Produced, keys: KeySet) -> str:
    if produced.verdict:
        return produced.verdict
    if not isinstance(produced.key, dict) or "keys" in produced.key:
        return NOT_JUDGED + "the producer was given a key that is not one JWK"
    if produced.family == "JWS":
        key: JWK | None = public_jwk(produced.key)
    else:
        key = produced.private or recipient_private_key(keys, produced.key)
        if key is None:
            return NOT_JUDGED + "the recipient's private key is not in the key set"
    slot = (produced.token, key.get("kid", "") if key else "")
    if slot not in _memo:
        if len(_memo) >= _MEMO_LIMIT:
            _memo.clear()
        try:
            _memo[slot] = conformance(produced.token, key) if isinstance(
                produced.token, str) else NOT_JUDGED + "the producer returned no text token"
        except Exception as error:  # a reference bug must not end the run; the row says it
            _memo[slot] = NOT_JUDGED + f"the reference failed: {type(error).__name__}: {error}"
    return _memo[slot]


def row_conformance(produced: Sequence[Produced], keys: KeySet) -> str | None:
    """The row's value: the first non-conformant verdict, else a "not judged", else conformant."""
    if not produced:
        return None
    verdicts = [judge(token, keys) for token in produced]
    broken = [v for v in verdicts if v != CONFORMANT and not v.startswith(NOT_JUDGED)]
    if broken:
        return broken[0]
    unjudged = [v for v in verdicts if v.startswith(NOT_JUDGED)]
    return unjudged[0] if unjudged else CONFORMANT
