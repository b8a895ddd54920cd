"""Which peers exist and which are on this machine; libraries and peers selected together.

A peer in another language lives in `peers/<dir>/` with a `peer.json` manifest (see
`peers/README.md`): its name (`jose@6`), language, command line (run in its folder), the files
it needs there (`node_modules`, a built binary) and one line saying how to get it. A folder with
a `driver.mjs` and no manifest is a node peer named after the folder. `HARNESS_PEERS` names
another folder of peers (the tests' fake peer).

Another release of a Python library is a peer too: `--with pyjwt==2.10.0` (or `--library
pyjwt@2.10.0`) builds its venv once (`peer_venv`) and runs the harness's own adapter there.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from harness.adapters import REGISTRY, adapter_names, installed_adapters
from harness.adapters.base import Adapter
from harness.adapters.peer import DEFAULT_TIMEOUT_S, PeerAdapter, PeerSpec
from harness.adapters.peer_venv import parse_pin, release_peer
from harness.core.errors import HarnessError

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


def peers_folder() -> Path:
    return Path(os.environ.get("HARNESS_PEERS") or REPO_ROOT / "peers")


@dataclass(frozen=True)
class PeerEntry:
    spec: PeerSpec
    # Why it cannot run here (a missing runtime, an uninstalled dependency), with how to get it.
    missing: str | None = None


def _entry(folder: Path, manifest: dict[str, object]) -> PeerEntry:
    command = [str(part) for part in manifest["command"]]  # type: ignore[union-attr]
    how = str(manifest.get("how_to_get") or f"see {folder}/README.md")
    env = {str(k): str(v) for k, v in dict(manifest.get("env") or {}).items()}  # type: ignore[call-overload]
    spec = PeerSpec(name=str(manifest["name"]), command=tuple(command),
                    language=str(manifest.get("language") or "?"), cwd=str(folder), env=env,
                    how_to_get=how, timeout_s=float(manifest.get("timeout_s")  # type: ignore[arg-type]
                                                    or DEFAULT_TIMEOUT_S),
                    memory_mb=int(manifest["memory_mb"]) if manifest.get("memory_mb") else None)  # type: ignore[call-overload]
    program = command[0]
    if not (shutil.which(program) or (folder / program).exists()):
        return PeerEntry(spec, f"{program} is not installed; {how}")
    for needed in manifest.get("requires") or []:  # type: ignore[union-attr]
        if not (folder / str(needed)).exists():
            return PeerEntry(spec, f"{folder.name}/{needed} is missing; {how}")
    return PeerEntry(spec)


def discover_peers(root: Path | None = None) -> dict[str, PeerEntry]:
    """Every peer declared under the peers folder, on this machine or not."""
    root = root or peers_folder()
    found: dict[str, PeerEntry] = {}
    if not root.is_dir():
        return found
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        path = folder / "peer.json"
        if path.exists():
            try:
                manifest = json.loads(path.read_text())
                entry = _entry(folder, manifest)
            except (ValueError, KeyError, TypeError) as error:
                raise HarnessError(f"{path}: not a valid peer manifest ({error})") from error
        elif (folder / "driver.mjs").exists():
            entry = _entry(folder, {
                "name": folder.name, "language": "javascript",
                "command": ["node", "driver.mjs"],
                "requires": ["node_modules"] if (folder / "package.json").exists() else [],
                "how_to_get": f"install node and npm, then `npm ci` in peers/{folder.name}"})
        else:
            continue
        found[entry.spec.name] = entry
    return found


def _pin_of(name: str) -> str | None:
    """`pyjwt@2.10.0` named as a library is the pin `pyjwt==2.10.0`."""
    library, at, version = name.partition("@")
    return f"{library}=={version}" if at and library in REGISTRY and version else None


def installed_libraries(names: list[str], pins: list[str]) -> tuple[list[Adapter],
                                                                  dict[str, str]]:
    """The adapters a run uses: the named libraries and peers (all installed libraries and
    every peer on this machine when none is named), then one peer per release pin. Missing ones
    are returned with why when they were not named; a named one that is missing is an error."""
    peers = discover_peers()
    pins = list(pins) + [pin for name in names if (pin := _pin_of(name))]
    names = [name for name in names if not _pin_of(name)]
    unknown = [name for name in names if name not in REGISTRY and name not in peers]
    if unknown:
        known = [*adapter_names(), *peers]
        raise HarnessError(f"unknown library {', '.join(map(repr, unknown))}; known: "
                           f"{', '.join(known)} (and releases: --with pyjwt==2.10.0)")
    for pin in pins:
        parse_pin(pin)  # a malformed pin fails before anything is built
    named = bool(names)
    python = [n for n in names if n in REGISTRY] if names else adapter_names()
    loaded: list[Adapter] = []
    missing: dict[str, str] = {}
    if python:
        loaded, missing = installed_adapters(python)
        if names and missing:
            raise HarnessError("; ".join(missing.values()))
    for name in ([n for n in names if n in peers] if names else list(peers)):
        entry = peers[name]
        if entry.missing:
            if named:
                raise HarnessError(f"peer {name} is not on this machine: {entry.missing}")
            missing[name] = entry.missing
            continue
        try:
            loaded.append(PeerAdapter(entry.spec))
        except HarnessError as error:
            if named:
                raise
            missing[name] = str(error)
    for pin in dict.fromkeys(pins):
        loaded.append(PeerAdapter(release_peer(pin)))
    return loaded, missing


def peers_meta(adapters: list[Adapter]) -> dict[str, dict[str, object]]:
    """What `run.json` records of each peer: language, version, runtime, command."""
    return {a.name: a.describe() for a in adapters if isinstance(a, PeerAdapter)}


def close_peers(adapters: list[Adapter]) -> None:
    for adapter in adapters:
        if isinstance(adapter, PeerAdapter):
            adapter.close()


def describe_peers(adapters: list[Adapter]) -> list[str]:
    """One line per peer for the run's first lines: name, language, library, runtime."""
    return [f"peer {a.name}: {a.language}, {a.info.get('name', '?')} {a.version}"
            + (f", {a.runtime}" if a.runtime else "") for a in adapters
            if isinstance(a, PeerAdapter)]


if __name__ == "__main__":  # `python -m harness.adapters.peer_registry`: what is here
    for peer_name, peer_entry in discover_peers().items():
        print(f"{peer_name:20} {peer_entry.missing or 'ok'}", file=sys.stdout)
