"""`zip: DEF` decompression bombs (RFC 7516 §4.1.3; CVE-2024-28102 in jwcrypto, CVE-2024-33664 in
python-jose): a token of a few hundred KiB that inflates to gigabytes.

Which sizes must a consumer refuse? No RFC sets a limit (RFC 8725 §3.6 only advises against
compressing at all), and a JWE may legitimately carry a large compressed document. The tiers:

- 1 MiB from ~1 KiB, and 100 MiB from ~100 KiB: policy. A consumer may accept them (jwcrypto
  caps the plaintext at 100 MiB by default, joserfc at 250 KiB); the rows record the memory.
- 1 GiB from ~1 MiB: reject. No access token needs it, it is more than the cap the cases run
  under (512 MiB), and both CVE fixes refuse it. A consumer that inflates it is a `hang`.

Between them, a range of sizes around the caps libraries use (joserfc 250 KiB, jwcrypto's
compressed-input and plaintext caps, the 64 MiB memory budget), from ~16 KiB to ~200 KiB of
compressed zeros (16 to 200 MiB): policy too, since a consumer may accept them, but a consumer
that refuses one only after inflating it is judged by the cost budgets of `harness.core.cost`
(`dos`), whether or not it reaches the hard limit.

The range also varies the compression ratio (10:1 to 300:1 of partly random blocks, beside
zeros at about 1000:1), from ~50 KiB to ~250 KiB compressed, so a cap on the compressed input
and a cap on the plaintext are each met from both sides.

Raw DEFLATE is what `DEF` means; the zlib-wrapped (RFC 1950) form is not RFC 1951 DEFLATE, so a
consumer may refuse it even when small, and must refuse it when it is a bomb.
"""

from __future__ import annotations

from functools import partial

from harness.core.errors import Rejected
from harness.forge import jwe
from harness.interop.scenario import Context, case, named_suites
from scenarios.attacks._jwe import forge

SUITES = named_suites("JWE dir + A256GCM", "JWE A256KW + A256CBC-HS512")
REQUIREMENT = "RFC 7516 §4.1.3; RFC 8725 §3.6; CVE-2024-28102"
MIB = 1 << 20
# A consumer that checks refuses within 30 ms. The tiers a consumer may accept keep 5 s, so the
# slowest inflater (node-jose, 200 MiB in about 1 s) still answers; the 1 GiB tier, which must
# be refused, stops at 2 s: a consumer still inflating then is a `hang` whatever it would do
# later (node-jose reaches its own string limit after 5.3 s), and each such cell holds a worker
# for the whole timeout (10 s, then 5 s before: a tenth of the default run with the node peers).
LIMITS = {"isolated": True, "timeout_s": 5.0, "memory_mb": 512}
# What inflating costs does not depend on the allow-list either: each consumer meets a bomb
# once, in its default configuration where that allows the suite, enabled where not.
ATTACK_TIER = partial(case, requirement=REQUIREMENT, expected="reject", suites=SUITES,
                            producer="forge", attack_class="zip-bomb", one_mode=True,
                            **{**LIMITS, "timeout_s": 2.0})
POLICY_TIER = partial(case, requirement=REQUIREMENT, expected="reject", suites=SUITES,
                            producer="forge", attack_class="zip-bomb", policy=True, one_mode=True,
                            **LIMITS)
# The range around the caps runs on one suite in default mode: what it measures is inflation,
# which neither the key management nor the allow-list changes.
RANGE_TIER = partial(case, requirement=REQUIREMENT, expected="reject",
                     suites=named_suites("JWE dir + A256GCM"), modes=("default",),
                     producer="forge", attack_class="zip-bomb", policy=True, **LIMITS)


def _bomb(ctx: Context, size: int, wrapped: bool = False, ratio: int | None = None
          ) -> tuple[bytes, bytes]:
    compressed = jwe.ratio_bomb(size, ratio) if ratio else jwe.deflate_bomb(size, wrapped)
    token = forge(ctx, {"zip": "DEF"}, plaintext=b"", compressed=compressed).compact()
    try:
        received = ctx.consumer.decrypt(ctx.suite, token, ctx.decryption_key(ctx.suite.key))
    except Rejected as refusal:
        # A library that wraps every exception (jwcrypto before 1.5.4) reports running out of
        # memory as a refusal: it did inflate until the cap stopped it, which is a hang.
        if "MemoryError" in str(refusal):
            raise MemoryError(f"the library ran out of memory inflating: {refusal}") from refusal
        raise
    if ratio:
        block = jwe.ratio_block(ratio)
        exact = len(received) == size and all(
            received[at:at + len(block)] == block for at in range(0, size, len(block)))
        return (received if exact else f"<{size} bytes of {ratio}:1 blocks>".encode()), received
    # What was sealed is `size` zero bytes; compare without building them (1 GiB would not fit).
    exact = len(received) == size and not received.strip(b"\0")
    return (received if exact else f"<{size} zero bytes>".encode()), received


@POLICY_TIER(severity="dos",
    why="Inflating costs the consumer 1000 times what the token weighs.")
def raw_1mib(ctx: Context) -> tuple[bytes, bytes]:
    """Raw DEFLATE, 1 KiB inflating to 1 MiB of zeros: the consumer may accept (policy)."""
    return _bomb(ctx, MIB)


@POLICY_TIER(severity="dos",
    why="100 MiB of memory for one token (RFC 8725 §3.9 on compression).")
def raw_100mib(ctx: Context) -> tuple[bytes, bytes]:
    """Raw DEFLATE, 100 KiB inflating to 100 MiB: policy; the memory it took is recorded."""
    return _bomb(ctx, 100 * MIB)


@ATTACK_TIER(severity="dos",
    why="1 GiB of memory for one 1 MiB token.")
def raw_1gib(ctx: Context) -> tuple[bytes, bytes]:
    """Raw DEFLATE, 1 MiB inflating to 1 GiB: must be refused without inflating it."""
    return _bomb(ctx, 1024 * MIB)


@POLICY_TIER(severity="leniency",
    why="zlib-wrapped DEFLATE is not RFC 1951 (RFC 7516 §4.1.3); 1 MiB costs little.")
def zlib_1mib(ctx: Context) -> tuple[bytes, bytes]:
    """zlib-wrapped DEFLATE (not RFC 1951), 1 KiB to 1 MiB: accepting it is leniency (policy)."""
    return _bomb(ctx, MIB, wrapped=True)


@ATTACK_TIER(severity="dos",
    why="1 GiB of memory for one 1 MiB token.")
def zlib_1gib(ctx: Context) -> tuple[bytes, bytes]:
    """zlib-wrapped DEFLATE, 1 MiB to 1 GiB: must be refused."""
    return _bomb(ctx, 1024 * MIB, wrapped=True)


# The range around the caps: (MiB of zeros, description). Zeros compress ~1000:1, so each
# token is about as many KiB as it inflates to MiB; 200 MiB makes a token above the 256 KiB
# under which memory growth is judged, so it is judged by its CPU time alone.
RANGE = ((16, "16 KiB to 16 MiB, past joserfc's 250 KiB cap"),
         (80, "80 KiB to 80 MiB: above the 64 MiB memory budget from a token under 256 KiB"),
         (200, "200 KiB to 200 MiB, past jwcrypto's 100 MiB plaintext cap"))


def _tier(mib: int) -> object:
    def run(ctx: Context) -> tuple[bytes, bytes]:
        return _bomb(ctx, mib * MIB)
    return run


for _mib, _what in RANGE:
    _run = _tier(_mib)
    _run.__name__ = _run.__qualname__ = f"raw_{_mib}mib"  # type: ignore[attr-defined]
    _run.__doc__ = (f"Raw DEFLATE, {_what}: the consumer may accept (policy); refusing it only "
                    "after inflating it is a `dos`.")
    globals()[_run.__name__] = RANGE_TIER(severity="dos")(_run)  # type: ignore[arg-type]
del _run, _mib, _what


# The same range by compression ratio as well as size: (MiB inflated, ratio, description). A
# lower ratio is a bigger token for the same inflation, so these sit on both sides of the caps
# on the compressed input (jwcrypto's 256 KiB, python-jose's 250 KiB token) and on the
# plaintext (250 KiB in joserfc, Authlib and python-jose; jwcrypto's 100 MiB). Measured sizes
# (compressed / base64 token): 104/138, 49/65, 148/197, 247/329, 156/208 KiB.
RATIOS = ((1, 10, "104 KiB at 10:1 to 1 MiB, past the 250 KiB plaintext caps"),
          (4, 100, "49 KiB at 100:1 to 4 MiB"),
          (12, 100, "148 KiB at 100:1 to 12 MiB, under jwcrypto's 256 KiB compressed cap"),
          (20, 100, "247 KiB at 100:1 to 20 MiB, just under jwcrypto's compressed cap and "
                    "over python-jose's 250 KiB token cap"),
          (32, 300, "156 KiB at 300:1 to 32 MiB"))


# Through the JWE call alone: every library's JWT API decrypts through that same call, and the
# blocks are no claims set (a JWT API would refuse them as JSON after inflating, not before).
RATIO_TIER = partial(RANGE_TIER, entry_points=("jws",))


def _ratio_tier(mib: int, ratio: int) -> object:
    def run(ctx: Context) -> tuple[bytes, bytes]:
        return _bomb(ctx, mib * MIB, ratio=ratio)
    return run


for _mib, _ratio, _what in RATIOS:
    _run = _ratio_tier(_mib, _ratio)
    _run.__name__ = _run.__qualname__ = f"ratio{_ratio}_{_mib}mib"  # type: ignore[attr-defined]
    _run.__doc__ = (f"Raw DEFLATE, {_what}: the consumer may accept (policy); refusing it only "
                    "after inflating it is a `dos`.")
    globals()[_run.__name__] = RATIO_TIER(severity="dos")(_run)  # type: ignore[arg-type]
del _run, _mib, _ratio, _what
