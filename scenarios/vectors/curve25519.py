"""RFC 8037 (the cookbook's `curve25519/`): the Ed25519 signature and the X25519 ECDH-ES
encryption examples."""

from scenarios.vectors._cookbook import example_cases
from scenarios.vectors._files import vectors_root

FOLDER = vectors_root() / "jose-cookbook" / "curve25519"

DATA_CASES = (example_cases(FOLDER / "jws.json", vectors_root(), "JWS")
              + example_cases(FOLDER / "ecdh-es.json", vectors_root(), "JWE"))
