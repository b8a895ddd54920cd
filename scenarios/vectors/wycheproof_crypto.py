"""Wycheproof `json_web_crypto_test.json`: every test a case `tc<tcId>` (see `_wycheproof`)."""

from scenarios.vectors._wycheproof import wycheproof_cases

DATA_CASES = wycheproof_cases("json_web_crypto_test.json")
