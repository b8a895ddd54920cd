"""PBES2 parameters from the attacker (RFC 7518 §4.8): the iteration count `p2c` and salt `p2s`.

`p2c` is read from the header before anything is authenticated, so a consumer that derives with
whatever count it is given can be made to spend minutes per token (CVE-2023-6681 in jwcrypto,
CVE-2022-36083 in jose for Node). A correct consumer caps the count and refuses counts that are
not positive integers. RFC 7518 §4.8.1.1 requires a salt input of 8 octets or more; whether a
consumer refuses a shorter one is left to it (the MUST binds the producer), so those cases are
policy.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from harness.interop.scenario import Context, case, named_suites
from scenarios.attacks._jwe import decrypt, forge

SUITES = named_suites("JWE PBES2-HS256+A128KW + A128GCM", "JWE PBES2-HS512+A256KW + A256GCM")
REQUIREMENT = "RFC 7518 §4.8.1.2; RFC 8725 §3.4"
# 10^8 PBKDF2 rounds take a minute or more: a consumer that derives is killed at the timeout,
# 1 s, a hundred times the cost budget's 10 ms floor (4 s, then 2 s before: 12 cells of the
# default run held a worker that long).
HUGE_P2C = 100_000_000
# What a count costs does not depend on the allow-list: each consumer meets it once, in its
# default configuration where that allows PBES2 and with PBES2 enabled where not (`one_mode`).
COUNT_CASE = partial(case, requirement=REQUIREMENT, expected="reject", suites=SUITES,
                           producer="forge", attack_class="pbes2", isolated=True, timeout_s=1.0,
                           memory_mb=512, one_mode=True)
SALT_CASE = partial(case, requirement="RFC 7518 §4.8.1.1", expected="reject", suites=SUITES,
                          producer="forge", attack_class="pbes2", policy=True)


def _count(ctx: Context, p2c: Any) -> tuple[bytes, bytes]:
    return decrypt(ctx, forge(ctx, p2c=p2c).compact())


@COUNT_CASE(severity="dos",
    why="10^8 PBKDF2 rounds: a minute of CPU per token (RFC 8725 §3.12).")
def huge_count(ctx: Context) -> tuple[bytes, bytes]:
    """`p2c` = 10^8: a consumer must refuse it at once rather than derive for a minute."""
    return _count(ctx, HUGE_P2C)


@COUNT_CASE(severity="leniency",
    why="The password is still needed to make the token.")
def zero_count(ctx: Context) -> tuple[bytes, bytes]:
    """`p2c` = 0: PBKDF2 needs a positive iteration count."""
    return _count(ctx, 0)


@COUNT_CASE(severity="leniency",
    why="The password is still needed to make the token.")
def negative_count(ctx: Context) -> tuple[bytes, bytes]:
    """`p2c` = -1000."""
    return _count(ctx, -1000)


@COUNT_CASE(severity="leniency",
    why="The password is still needed to make the token.")
def fractional_count(ctx: Context) -> tuple[bytes, bytes]:
    """`p2c` = 1000.5, not an integer."""
    return _count(ctx, 1000.5)


@COUNT_CASE(severity="dos",
    why="A parser that converts the string derives 10^8 rounds.")
def string_count(ctx: Context) -> tuple[bytes, bytes]:
    """`p2c` = "100000000" as a JSON string (a lenient parser would convert and derive)."""
    return _count(ctx, str(HUGE_P2C))


def _salt(ctx: Context, p2s: bytes) -> tuple[bytes, bytes]:
    return decrypt(ctx, forge(ctx, p2s=p2s, p2c=1000).compact())


@SALT_CASE(severity="leniency",
    why="The password is still needed; only precomputation gets easier.")
def empty_salt(ctx: Context) -> tuple[bytes, bytes]:
    """`p2s` is empty (RFC 7518 §4.8.1.1: the salt input MUST be 8 octets or more)."""
    return _salt(ctx, b"")


@SALT_CASE(severity="leniency",
    why="The password is still needed; only precomputation gets easier.")
def one_byte_salt(ctx: Context) -> tuple[bytes, bytes]:
    """`p2s` is a single octet."""
    return _salt(ctx, b"\x01")
