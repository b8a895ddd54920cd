"""RFC 7520 §5 and §6 (the JOSE cookbook's `jwe/` and the nesting example): every encryption
example, in each serialization it publishes, decrypted with the example's key."""

from scenarios.vectors._cookbook import example_cases, folder_cases
from scenarios.vectors._files import vectors_root

NESTING = "jose-cookbook/6.nesting_signatures_and_encryption.json"

DATA_CASES = folder_cases("jwe", "JWE") + example_cases(
    vectors_root() / NESTING, vectors_root(), "JWE", part="encrypt")
