"""The key-generation sheet (`keygen.csv`, `keygen-sheet.png`) and the RFC 7638 thumbprint
agreement (`thumbprints.csv`), made by calling each library's own key generation, export and
thumbprint in the harness's process; no private key is written.

Each library is asked for every key type it offers with its defaults (no size or curve where
its call allows that; where it requires one, the RFC minimum, and the sheet says "size
required"), and for two keys RFC 7518 forbids: an RSA key of 1024 bits (§3.3, §4.2: 2048 bits
or more MUST be used) and a 128-bit HMAC key (§3.2: a key of at least the hash size, 256 bits
for HS256). Thumbprints of the key set's public keys (every key type, with their `kid`) and of
the RFC 7638 §3.1 example are held against the strict reference (`harness.forge.thumbprint`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI
import matplotlib.pyplot as plt
import pandas as pd

from harness.adapters.base import Adapter, error_text
from harness.core.errors import Unsupported
from harness.core.keys import JWK, PRIVATE_MEMBERS, KeySet
from harness.core.suites import key_specs
from harness.forge.thumbprint import (
    REQUIRED_MEMBERS,
    RFC7638_EXAMPLE,
    RFC7638_EXAMPLE_NAME,
    thumbprint,
)
from harness.interop.keygen import (
    RFC_MINIMUM_BITS,
    SAMPLES,
    KeyRequest,
    export_defects,
    request_for,
)

KEYGEN_CSV = "keygen.csv"
KEYGEN_CHART = "keygen-sheet.png"
THUMBPRINTS_CSV = "thumbprints.csv"
CURVES = {"EC": ("P-256", "P-384", "P-521", "secp256k1"),
          "OKP": ("Ed25519", "Ed448", "X25519", "X448")}
FORBIDDEN = (
    ("RSA", 1024, "RFC 7518 §3.3, §4.2: RSA keys of 2048 bits or more MUST be used"),
    ("oct", 128, "RFC 7518 §3.2: an HS256 key MUST be at least 256 bits (the hash size)"),
)
MINIMUM_RULE = {"RSA": "§3.3, §4.2", "oct": "§3.2, for HS256"}
KEYGEN_COLUMNS = ("library", "version", "request", "kty", "crv", "asked", "required",
                  "outcome", "bits", "kid", "alg", "use", "generated_members", "export_members",
                  "jwks_members", "export_defects", "warning", "below_minimum", "rfc_forbids",
                  "allowed",
                  "detail", "api", "note")
THUMBPRINT_COLUMNS = ("library", "version", "key", "kty", "thumbprint", "reference", "agrees",
                      "detail")


def _requests(adapter: Adapter) -> list[tuple[str, KeyRequest, str]]:
    """(request label, what is asked, what RFC 7518 forbids about it) for one library."""
    asked = [("default", request_for(adapter, "RSA"), "")]
    for kty in ("EC", "OKP"):
        # No curve first: which curve a new user gets (or that the call needs one).
        asked.append(("default curve", request_for(adapter, kty), ""))
        asked += [("default", request_for(adapter, kty, crv=crv), "") for crv in CURVES[kty]]
    asked.append(("default", request_for(adapter, "oct"), ""))
    asked += [("forbidden", KeyRequest(kty, None, bits), rule) for kty, bits, rule in FORBIDDEN]
    return asked


def _bits(jwk: JWK) -> int | None:
    member = {"RSA": "n", "oct": "k"}.get(str(jwk.get("kty")))
    value = jwk.get(member or "")
    if not isinstance(value, str):
        return None
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    return int.from_bytes(raw, "big").bit_length() if member == "n" else len(raw) * 8


def _where(name: str, generated: JWK, public: JWK, jwks_key: JWK) -> str:
    """Where `kid`/`alg`/`use` is set: in the generated key, the exports, or nowhere."""
    places = [label for label, jwk in (("generated", generated), ("JWK export", public),
                                       ("JWKS export", jwks_key)) if name in jwk]
    return ", ".join(places) if places else "no"


def _asked_text(request: KeyRequest) -> str:
    parts = [f"kty={request.kty}"]
    if request.crv:
        parts.append(f"crv={request.crv}")
    if request.size:
        parts.append(f"size={request.size}")
    return " ".join(parts)


def keygen_row(adapter: Adapter, label: str, request: KeyRequest, rule: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "library": adapter.name, "version": adapter.version, "request": label,
        "kty": request.kty, "crv": request.crv or "", "asked": _asked_text(request),
        "required": f"{request.required} required" if request.required else "",
        "rfc_forbids": rule, "api": adapter.keygen_api or "", "note": adapter.keygen_note}
    symmetric = request.kty == "oct"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            generated = adapter.generate_key(request.kty, request.crv, request.size)
            public = adapter.export_jwk(generated, private=symmetric)
            jwks = adapter.export_jwks(generated, private=symmetric)
        except Unsupported as why:
            return {**row, "outcome": "unsupported", "allowed": "", "detail": str(why)}
        except Exception as error:  # a refusal, in whatever type the library raises it
            return {**row, "outcome": "refused", "allowed": "no" if rule else "",
                    "detail": error_text(error)}
    said = list(dict.fromkeys(str(w.message) for w in caught
                              if not issubclass(w.category, DeprecationWarning)))
    keys = jwks.get("keys") or []
    jwks_key = keys[0] if keys and isinstance(keys[0], dict) else {}
    defects = _sampled_defects(adapter, request, generated, public)
    if jwks_key:
        defects += [f"JWKS: {d}" for d in export_defects(generated, jwks_key,
                                                         public=not symmetric)]
    else:
        defects.append("the JWKS export holds no key")
    private_members = sorted(set(generated) & PRIVATE_MEMBERS)
    bits = _bits(generated)
    minimum = RFC_MINIMUM_BITS.get(request.kty)
    below = (f"{request.kty} {bits} bits by default, under RFC 7518's {minimum} "
             f"({MINIMUM_RULE[request.kty]})"
             if label == "default" and minimum and bits is not None and bits < minimum else "")
    return {**row, "outcome": "generated", "crv": generated.get("crv", request.crv or ""),
            "bits": bits, "below_minimum": below, "kid": _where("kid", generated, public, jwks_key),
            "alg": _where("alg", generated, public, jwks_key),
            "use": _where("use", generated, public, jwks_key),
            "generated_members": " ".join(sorted(generated)),
            "export_members": " ".join(sorted(public)),
            "jwks_members": " ".join(sorted(jwks_key)),
            "export_defects": "; ".join(defects), "warning": "; ".join(said),
            "allowed": "yes" if rule else "",
            "detail": "" if private_members or symmetric else
            "the generated key holds no private member: a public key"}


def _sampled_defects(adapter: Adapter, request: KeyRequest, generated: JWK,
                     public: JWK) -> list[str]:
    """The export's defects; for EC and OKP over `SAMPLES` keys, since a dropped leading zero
    octet shows in only some of them (half of all P-521 keys, 1 in 256 on P-256)."""
    symmetric = request.kty == "oct"
    found = [export_defects(generated, public, public=not symmetric)]
    if request.kty in CURVES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(SAMPLES - 1):
                more = adapter.generate_key(request.kty, request.crv, request.size)
                found.append(export_defects(more, adapter.export_jwk(more)))
    counted: dict[str, int] = {}
    for defects in found:
        for defect in dict.fromkeys(defects):
            counted[defect] = counted.get(defect, 0) + 1
    if len(found) == 1:
        return list(counted)
    return [f"{defect} in {count} of {len(found)} keys" for defect, count in counted.items()]


def keygen_table(adapters: Sequence[Adapter]) -> pd.DataFrame:
    rows = [keygen_row(adapter, label, request, rule) for adapter in adapters
            for label, request, rule in _requests(adapter)]
    return pd.DataFrame(rows, columns=list(KEYGEN_COLUMNS)).astype({"bits": "Int64"})


# -- thumbprints ------------------------------------------------------------------------------

def _digest(text: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode("utf-8")).digest()) \
        .rstrip(b"=").decode("ascii")


def diagnose(jwk: JWK, got: str) -> str:
    """Which departure from RFC 7638 gives the library's thumbprint, when a known one does."""
    kty = str(jwk.get("kty"))
    required = {name: jwk.get(name) for name in REQUIRED_MEMBERS.get(kty, ())}
    public = {k: v for k, v in jwk.items() if k not in PRIVATE_MEMBERS or kty == "oct"}
    tries = (
        (json.dumps(public, sort_keys=True, separators=(",", ":")),
         "hashes members beyond the required ones (kid, alg, ...): RFC 7638 §3.2 takes only "
         "the required members"),
        (json.dumps({k: jwk[k] for k in jwk if k in required}, separators=(",", ":")),
         "hashes the members in the JWK's own order: RFC 7638 §3.3 orders them "
         "lexicographically"),
        (json.dumps(dict(sorted(required.items()))),
         "hashes JSON with whitespace: RFC 7638 §3.3 allows no whitespace or line breaks"),
    )
    for text, why in tries:
        if _digest(text) == got:
            return why
    return "differs from the RFC 7638 §3 computation (required members of §3.2, in the " \
           "order and form of §3.3)"


def thumbprint_table(adapters: Sequence[Adapter], keys: KeySet) -> pd.DataFrame:
    inputs: list[tuple[str, JWK]] = [(RFC7638_EXAMPLE_NAME, RFC7638_EXAMPLE)]
    inputs += [(spec.id, keys.public(spec)) for spec in key_specs()]
    rows = []
    for adapter in adapters:
        for name, jwk in inputs:
            expected = thumbprint(jwk)
            row = {"library": adapter.name, "version": adapter.version, "key": name,
                   "kty": jwk["kty"], "reference": expected}
            try:
                got = adapter.thumbprint(dict(jwk))
            except Unsupported as why:
                rows.append({**row, "thumbprint": "", "agrees": "unsupported",
                             "detail": str(why)})
                continue
            except Exception as error:
                rows.append({**row, "thumbprint": "", "agrees": "error",
                             "detail": error_text(error)})
                continue
            agrees = got == expected
            rows.append({**row, "thumbprint": got, "agrees": "yes" if agrees else "no",
                         "detail": "" if agrees else diagnose(jwk, got)})
    return pd.DataFrame(rows, columns=list(THUMBPRINT_COLUMNS))


# -- chart, summary, files --------------------------------------------------------------------

def keygen_chart(table: pd.DataFrame, thumbs: pd.DataFrame, target: Path) -> Path:
    """Left: the default RSA modulus and oct key sizes per library, against the RFC 7518
    minimums. Right: whether each library generates what RFC 7518 forbids, and whether its
    thumbprints agree with RFC 7638."""
    libraries = list(dict.fromkeys(table["library"]))
    defaults = table[(table["request"] == "default") & table["crv"].eq("")]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 1.6 + 0.55 * len(libraries)),
                                      gridspec_kw={"width_ratios": [3, 2]})
    height = 0.38
    for offset, (kty, colour, minimum) in enumerate((("RSA", "#4c72b0", 2048),
                                                     ("oct", "#dd8452", 256))):
        for i, library in enumerate(libraries):
            row = defaults[(defaults["library"] == library) & (defaults["kty"] == kty)]
            y = i + (offset - 0.5) * height
            if row.empty or row["outcome"].iloc[0] != "generated":
                why = "no key generation" if row.empty or \
                    row["outcome"].iloc[0] == "unsupported" else "refused"
                left.text(70, y, f"{kty}: {why}", va="center", fontsize=7, color="#666666")
                continue
            bits = float(row["bits"].iloc[0])
            required = row["required"].iloc[0]
            left.barh(y, bits, height=height, color=colour,
                      hatch="///" if required else None, edgecolor="white")
            label = f"{kty} {int(bits)}" + (" (size required: RFC minimum given)" if required
                                             else "")
            left.text(bits * 1.08, y, label, va="center", fontsize=7,
                      color="#c62828" if bits < minimum else "black")
        left.axvline(minimum, color=colour, linestyle="--", linewidth=1)
    left.set_yticks(range(len(libraries)), libraries)
    left.set_ylim(len(libraries) - 0.4, -0.7)
    left.set_xscale("log", base=2)
    left.set_xlim(64, 2 ** 15)
    ticks = [2 ** n for n in range(7, 15)]
    left.set_xticks(ticks, [str(t) for t in ticks], fontsize=8)
    left.set_xlabel("bits a new user gets by default (dashed: RFC 7518 minimum, oct 256 for "
                    "HS256, RSA 2048)")
    left.set_title("Default key sizes", fontsize=10)

    columns = ["RSA 1024", "oct 128", "thumbprints"]
    colours = {"refused": "#2e7d32", "allowed": "#c62828", "n/a": "#bdbdbd",
               "agree": "#2e7d32", "disagree": "#c62828"}
    for i, library in enumerate(libraries):
        mine = table[(table["library"] == library) & (table["request"] == "forbidden")]
        cells = []
        for kty in ("RSA", "oct"):
            row = mine[mine["kty"] == kty]
            outcome = row["outcome"].iloc[0] if not row.empty else "unsupported"
            cells.append("n/a" if outcome == "unsupported" else
                         "allowed" if outcome == "generated" else "refused")
        agree = thumbs[(thumbs["library"] == library) & (thumbs["agrees"] != "unsupported")]
        cells.append("n/a" if agree.empty else
                     "agree" if (agree["agrees"] == "yes").all() else "disagree")
        for j, text in enumerate(cells):
            right.add_patch(plt.Rectangle((j, i - 0.5), 1, 1, facecolor=colours[text],
                                          edgecolor="white"))
            right.text(j + 0.5, i, text, ha="center", va="center", fontsize=8, color="white")
    right.set_xlim(0, len(columns))
    right.set_ylim(len(libraries) - 0.5, -0.5)
    right.set_xticks([j + 0.5 for j in range(len(columns))], columns, fontsize=8)
    right.set_yticks(range(len(libraries)), libraries)
    right.set_title("Generates what RFC 7518 forbids? RFC 7638 agrees?", fontsize=10)
    for spine in right.spines.values():
        spine.set_visible(False)
    fig.suptitle("Keys the libraries make (keygen.csv, thumbprints.csv)", fontsize=11)
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target


def summary_lines(table: pd.DataFrame, thumbs: pd.DataFrame) -> list[str]:
    lines = ["Key generation (keygen.csv): defaults a new user gets; forbidden by RFC 7518 "
             "yet generated"]
    for library, mine in table.groupby("library", sort=False):
        made = mine[mine["outcome"] == "generated"]
        if made.empty:
            lines.append(f"  {library}: {mine['detail'].iloc[0]}")
            continue
        defaults = mine[(mine["request"] == "default") & mine["kty"].isin(["RSA", "oct"])]
        sizes = ", ".join(
            f"{r.kty} {int(r.bits)}" + (" (size required)" if r.required else "")
            if r.outcome == "generated" else f"{r.kty} {r.outcome}"
            for r in defaults.itertuples())
        curve = mine[mine["request"] == "default curve"]
        curves = ", ".join(f"{r.kty} {r.crv}" + (" (curve required)" if r.required else "")
                           for r in curve.itertuples() if r.outcome == "generated")
        kid = made["kid"].iloc[0]
        forbidden = mine[(mine["request"] == "forbidden") & (mine["outcome"] == "generated")]
        allowed = ", ".join(f"{r.kty} {int(r.bits)}" for r in forbidden.itertuples()) or "none"
        defects = "; ".join(f"{r.crv or r.kty} {r.export_defects}"
                            for r in made[made["export_defects"] != ""].itertuples())
        below = "; ".join(b for b in made["below_minimum"] if b)
        lines.append(f"  {library}: {sizes}; {curves}; kid: {kid}; forbidden allowed: "
                     f"{allowed}" + (f"; DEFAULT TOO SMALL: {below}" if below else "")
                     + (f"; export defects: {defects}" if defects else ""))
    judged = thumbs[thumbs["agrees"].isin(["yes", "no", "error"])]
    if not judged.empty:
        by = judged.groupby("library", sort=False)["agrees"].agg(
            lambda a: f"{(a == 'yes').sum()}/{len(a)}")
        lines.append("  RFC 7638 thumbprints agree with the reference: "
                     + ", ".join(f"{lib} {text}" for lib, text in by.items()))
        for row in judged[judged["agrees"] != "yes"].itertuples():
            lines.append(f"    {row.library} {row.key}: {row.detail}")
    return lines


def write_keygen_sheet(adapters: Sequence[Adapter], keys: KeySet, folder: Path,
                       charts: bool = True) -> tuple[list[Path], list[str]]:
    """`keygen.csv`, `thumbprints.csv` and the chart; the summary lines to print."""
    table, thumbs = keygen_table(adapters), thumbprint_table(adapters, keys)
    written = [folder / KEYGEN_CSV, folder / THUMBPRINTS_CSV]
    table.to_csv(written[0], index=False)
    thumbs.to_csv(written[1], index=False)
    if charts:
        written.append(keygen_chart(table, thumbs, folder / KEYGEN_CHART))
    return written, summary_lines(table, thumbs)
