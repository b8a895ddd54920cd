"""The vocabulary every layer shares: suites, keys and key forms, errors, outcomes, claims
options and the run folder. It imports nothing else of the harness."""
