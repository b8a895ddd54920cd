"""JWS cases: RFC 7515."""
