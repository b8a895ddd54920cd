"""The report's table of peers: every library that ran in another process (another language,
another release), with its language, library, version and runtime as its driver's `info` told
them (`run.json`'s `peers`, from `PeerAdapter.describe()`), and the peers known here that did
not run, with why (`peers_not_run`: left out with --no-peers, or missing)."""

from __future__ import annotations

from typing import Any

import pandas as pd

PEER_COLUMNS = ["peer", "language", "library", "version", "runtime", "release of", "ran"]
PEERS_RULE = ("A peer is a library the harness drives in another process over JSON lines "
              "(peers/README.md): its rows, grids and scorecard line carry the name below.")


def peers_table(meta: dict[str, Any]) -> pd.DataFrame:
    records = []
    for name, peer in (meta.get("peers") or {}).items():
        records.append({"peer": name, "language": peer.get("language") or "?",
                        "library": peer.get("library") or "?",
                        "version": str(peer.get("version") or "?"),
                        "runtime": peer.get("runtime") or "–",
                        "release of": peer.get("release_of") or "–", "ran": "yes"})
    for name, other in (meta.get("peers_not_run") or {}).items():
        records.append({"peer": name, "language": other.get("language") or "?",
                        "library": "–", "version": "–", "runtime": "–", "release of": "–",
                        "ran": f"no: {other.get('why') or 'not recorded'}"})
    return pd.DataFrame.from_records(records, columns=PEER_COLUMNS)


def no_peers_text(meta: dict[str, Any]) -> str:
    return ("No peer took part in this run, and run.json names none left out: only the "
            "in-process Python libraries ran." if "peers_not_run" not in meta else
            "No peer took part in this run.")
