"""JWT claims validation (RFC 7519 §4.1, RFC 8725 §3.8–3.10): tokens signed correctly whose
claims are expired, early, for another audience or issuer, or wrongly typed, each under the
library's defaults and under the options an application sets."""
