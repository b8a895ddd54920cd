"""RFC 7520 §4 (the JOSE cookbook's `jws/`): every signature example, in each serialization it
publishes, verified with the example's key."""

from scenarios.vectors._cookbook import folder_cases

DATA_CASES = folder_cases("jws", "JWS")
