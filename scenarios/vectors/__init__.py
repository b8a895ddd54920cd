"""Published known answers (Wycheproof, RFC 7520 via the JOSE cookbook, RFC 7797, RFC 8037) as
declared cases: every vector is a case whose token the vector holds (producer `vector`)."""
