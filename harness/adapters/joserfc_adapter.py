"""joserfc: JWS and JWE, compact and JSON (flattened and general) serialization.

Its registries allow only the algorithms it marks "recommended" unless the caller passes an
`algorithms` list, which is exactly the difference between `default` and `enabled` mode.
"""

from __future__ import annotations

import json
from typing import Any

from joserfc import jwe, jwk, jws
from joserfc.errors import JoseError

from harness.adapters.base import Adapter, Mode, Serialization, allow_list, is_jwks
from harness.keys import JWK
from harness.suites import Suite

JSON_FORMS: frozenset[Serialization] = frozenset({"compact", "flattened", "general"})


class JoserfcAdapter(Adapter):
    name = "joserfc"
    distribution = "joserfc"
    rejection_errors = (JoseError,)
    produces = {"JWS": JSON_FORMS, "JWE": JSON_FORMS}
    consumes = {"JWS": JSON_FORMS, "JWE": JSON_FORMS}

    def supports(self, suite: Suite) -> bool:
        if suite.family == "JWS":
            return suite.alg in jws.JWSRegistry.algorithms
        names = jwe.JWERegistry.algorithms
        return suite.alg in names["alg"] and suite.enc in names["enc"]

    def allows_by_default(self, suite: Suite) -> bool:
        if suite.family == "JWS":
            return self.supports(suite) and jws.JWSRegistry.algorithms[suite.alg].recommended
        recommended = jwe.JWERegistry.recommended
        return suite.alg in recommended and suite.enc in recommended

    def _key(self, key: JWK) -> Any:
        if is_jwks(key):
            return self.imported(key, "jwks", jwk.KeySet.import_key_set)
        return self.imported(key, "key", jwk.import_key)

    def _sign(self, suite: Suite, payload: bytes, key: JWK, header: dict[str, Any],
              mode: Mode, serialization: Serialization) -> str:
        protected = {"alg": suite.alg, **header}
        allowed = allow_list(suite, mode)
        if serialization == "compact":
            return jws.serialize_compact(protected, payload, self._key(key), algorithms=allowed)
        members: Any = {"protected": protected}
        if serialization == "general":
            members = [members]
        return json.dumps(jws.serialize_json(members, payload, self._key(key),
                                             algorithms=allowed))

    def _verify(self, suite: Suite, token: str, key: JWK, mode: Mode,
                serialization: Serialization) -> bytes:
        allowed = allow_list(suite, mode)
        if serialization == "compact":
            result = jws.deserialize_compact(token, self._key(key), algorithms=allowed)
        else:
            result = jws.deserialize_json(json.loads(token), self._key(key), algorithms=allowed)
        return result.payload

    def _encrypt(self, suite: Suite, plaintext: bytes, key: JWK, header: dict[str, Any],
                 mode: Mode, serialization: Serialization) -> str:
        protected = {"alg": suite.alg, "enc": suite.enc, **header}
        allowed = allow_list(suite, mode, header)
        if serialization == "compact":
            return jwe.encrypt_compact(protected, plaintext, self._key(key), algorithms=allowed)
        form = jwe.GeneralJSONEncryption if serialization == "general" else \
            jwe.FlattenedJSONEncryption
        message = form(protected, plaintext)
        message.add_recipient(None, self._key(key))
        return json.dumps(jwe.encrypt_json(message, None, algorithms=allowed))

    def _decrypt(self, suite: Suite, token: str, key: JWK, mode: Mode,
                 serialization: Serialization) -> bytes:
        allowed = allow_list(suite, mode)
        if serialization == "compact":
            result = jwe.decrypt_compact(token, self._key(key), algorithms=allowed)
        else:
            result = jwe.decrypt_json(json.loads(token), self._key(key), algorithms=allowed)
        return result.plaintext or b""
