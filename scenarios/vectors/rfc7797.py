"""RFC 7797 (`b64: false`, the cookbook's `rfc7797/`): the unencoded-payload examples. The
extension is optional and marked critical, so a library without it must refuse: the rows are
policy, reported and never judged (a library that accepts must give back the exact payload)."""

from scenarios.vectors._cookbook import folder_cases

DATA_CASES = folder_cases("rfc7797", "JWS", policy="RFC 7797 is an optional extension")
