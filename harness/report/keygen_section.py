"""The report's key-generation part: one line per library from the run's `keygen.csv` and
`thumbprints.csv` (written by `harness interop` when the keygen scenario ran)."""

from __future__ import annotations

import pandas as pd

KEYGEN_RULE = (
    "Each library's own key generation, called as a new user calls it: no size or curve where "
    "the call allows that (where it requires one, the harness gives the RFC minimum: RSA 2048, "
    "oct 256). RFC 7518 forbids RSA keys under 2048 bits (§3.3, §4.2) and HMAC keys shorter "
    "than the hash (§3.2): the sheet also asks for RSA 1024 and a 128-bit oct key. Thumbprints "
    "of the key set's public keys and of the RFC 7638 §3.1 example are held against the "
    "harness's strict RFC 7638 computation. The cross-check cells are the `keygen.*` rows.")
OVERVIEW_COLUMNS = ("library", "RSA default", "oct default", "default curve", "kid",
                    "forbidden keys generated", "export defects", "thumbprints")


def _size(rows: pd.DataFrame, kty: str) -> str:
    row = rows[(rows["request"] == "default") & (rows["kty"] == kty)]
    if row.empty or row["outcome"].iloc[0] != "generated":
        return "–" if row.empty else row["outcome"].iloc[0]
    text = f"{row['bits'].iloc[0]} bits"
    if row["required"].iloc[0]:
        text += f" ({row['required'].iloc[0]})"
    return text + (" ✗ under RFC 7518's minimum" if row["below_minimum"].iloc[0] else "")


def keygen_overview(keygen: pd.DataFrame, thumbs: pd.DataFrame | None) -> pd.DataFrame:
    lines = []
    for library, rows in keygen.groupby("library", sort=False):
        made = rows[rows["outcome"] == "generated"]
        if made.empty:
            lines.append([library, rows["detail"].iloc[0], "", "", "", "", "", ""])
            continue
        curves = rows[rows["request"] == "default curve"]
        curve = ", ".join(f"{r.kty} {r.crv}" + (f" ({r.required})" if r.required else "")
                          for r in curves.itertuples() if r.outcome == "generated")
        rsa = made[made["kty"] == "RSA"]
        forbidden = rows[(rows["request"] == "forbidden") & (rows["outcome"] == "generated")]
        defects = made[made["export_defects"] != ""]
        agree = "–"
        if thumbs is not None:
            mine = thumbs[(thumbs["library"] == library)
                          & thumbs["agrees"].isin(["yes", "no", "error"])]
            if len(mine):
                agree = f"{(mine['agrees'] == 'yes').sum()}/{len(mine)} agree"
        lines.append([library, _size(rows, "RSA"), _size(rows, "oct"), curve,
                      rsa["kid"].iloc[0] if len(rsa) else made["kid"].iloc[0],
                      ", ".join(f"{r.kty} {r.bits}" for r in forbidden.itertuples()) or "none",
                      "; ".join(f"{r.crv or r.kty}: {r.export_defects}"
                                for r in defects.itertuples()) or "none", agree])
    return pd.DataFrame(lines, columns=list(OVERVIEW_COLUMNS))


def disagreements(thumbs: pd.DataFrame | None) -> pd.DataFrame:
    if thumbs is None:
        return pd.DataFrame(columns=["library", "key", "detail"])
    return thumbs[thumbs["agrees"].isin(["no", "error"])][["library", "key", "detail"]]
