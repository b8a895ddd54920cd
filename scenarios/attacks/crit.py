"""`crit` (RFC 7515 §4.1.11): a recipient that does not understand a listed extension MUST
refuse the JWS; the list must be an array of names present in the protected header. An empty
list and registered names in the list are producer errors a recipient MAY refuse: policy."""

from __future__ import annotations

import json
from typing import Any

from harness.forge.encoding import b64url, segment
from harness.forge.jws import raw_signature
from harness.interop.scenario import Context
from scenarios.attacks.jws_common import (
    DEFAULT_CONFIGS,
    HMAC_RSA_EC,
    Catalogue,
    Forged,
    json_text,
    valid,
)
from scenarios.payloads import PAYLOAD

SUITES = HMAC_RSA_EC
cases = Catalogue(globals(), requirement="RFC 7515 §4.1.11", suites=SUITES,
                  configs=DEFAULT_CONFIGS, attack_class="crit", severity="bypass",
                  why=("RFC 7515 §4.1.11: the producer says the token MUST be rejected by whoever"
                       " does not understand the extension; ignoring it skips a check the "
                       "producer relies on."))


def _with(extra: dict[str, Any]) -> Any:
    def forge(ctx: Context) -> Forged:
        return Forged(valid(ctx, extra), clean=valid(ctx))
    return forge


cases.add("unknown_extension",
          "`crit: [\"urn:example:must-understand\"]` naming an extension present in the header "
          "that no library knows is refused.",
          _with({"crit": ["urn:example:must-understand"], "urn:example:must-understand": 1}))
cases.add("name_absent_from_header",
          "`crit` naming an extension that is not in the header is refused (it is not "
          "understood either).",
          _with({"crit": ["urn:example:absent"]}), severity="leniency",
          why="The extension is not in the header, so ignoring `crit` skips nothing.")
cases.add("not_a_list",
          "`crit` as a string rather than an array is refused.",
          _with({"crit": "urn:example:must-understand", "urn:example:must-understand": 1}))
cases.add("known_and_unknown",
          "`crit` listing `b64` (understood by some) and an unknown extension is refused.",
          _with({"crit": ["b64", "urn:example:must-understand"], "b64": True,
                 "urn:example:must-understand": 1}))
cases.add("empty_list",
          "`crit: []`: producers MUST NOT send it, recipients MAY refuse it.",
          _with({"crit": []}), policy=True, severity="leniency",
          why="An empty list demands nothing.")
cases.add("registered_name",
          "`crit: [\"alg\"]` lists a name RFC 7515 defines: recipients MAY refuse it.",
          _with({"crit": ["alg"]}), policy=True, severity="leniency",
          why="`alg` is understood by every consumer anyway.")


def _in_unprotected(ctx: Context) -> Forged:
    """Flattened JSON with `crit` (and its extension) in the unprotected header only."""
    protected = segment({"alg": ctx.suite.alg})
    payload = segment(PAYLOAD)
    signature = raw_signature(ctx.suite.alg, ctx.keys.private(ctx.suite.key),
                              f"{protected}.{payload}".encode())
    member = {"protected": protected, "payload": payload, "signature": b64url(signature)}
    forged = {**member, "header": {"crit": ["urn:example:must-understand"],
                                   "urn:example:must-understand": 1}}
    return Forged(json_text(forged), clean=json.dumps(member), serialization="flattened")


cases.add("in_unprotected_header",
          "`crit` naming an unknown extension in the unprotected header of a JSON "
          "serialization is refused: `crit` MUST be integrity protected.",
          _in_unprotected)
