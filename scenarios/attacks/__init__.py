"""Forged and hostile tokens every consumer must refuse (RFC 8725 and the RFCs it cites)."""
