"""JWE cases: RFC 7516."""
