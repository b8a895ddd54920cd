"""Which peers exist and which are on this machine; libraries and peers selected together.

A peer in another language lives in `peers/<dir>/` with a `peer.json` manifest (see
`peers/README.md`): its name (`jose@6`), language, command line (run in its folder), the files
it needs there (`node_modules`, a built binary) and one line saying how to get it. A folder with
a `driver.mjs`, a `package.json` and no manifest is a node peer named after the folder; the
drivers of peers/DRIVERS.md are known by name (`KNOWN_PEERS`). `HARNESS_PEERS` names
another folder of peers (the tests' fake peer).

Another release of a Python library is a peer too: `--with pyjwt==2.10.0` (or `--library
pyjwt@2.10.0`) builds its venv once (`peer_venv`) and runs the harness's own adapter there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
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


NODE = "install node and npm, then `make node-peers` (npm ci in peers/<dir>)"
DEBIAN = "`make peers` as root (Debian packages; builds the driver under .cache/peers/)"
# The drivers under peers/ (peers/DRIVERS.md), as the Makefile installs them: run from the
# repository's root. (name, language, command, files it needs, how to get it)
KNOWN_PEERS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...], str], ...] = (
    ("jose", "javascript", ("node", "peers/jose6/driver.mjs"), ("peers/jose6/node_modules",),
     NODE),
    ("jose@5", "javascript", ("node", "peers/jose5/driver.mjs"), ("peers/jose5/node_modules",),
     NODE),
    ("node-jose", "javascript", ("node", "peers/node-jose/driver.mjs"),
     ("peers/node-jose/node_modules",), NODE),
    ("go-jose", "go", (".cache/peers/go-jose",), (), DEBIAN),
    ("jose2go", "go", (".cache/peers/jose2go",), (), DEBIAN),
    ("crypt-jwt", "perl", ("perl", "peers/crypt-jwt/driver.pl"), ("peers/crypt-jwt/driver.pl",),
     DEBIAN),
    ("latchset-jose", "c", (".cache/peers/latchset-jose",), (), DEBIAN),
    ("cjose", "c", (".cache/peers/cjose",), (), DEBIAN),
    ("rhonabwy", "c", (".cache/peers/rhonabwy",), (), DEBIAN),
    ("jsonwebtoken", "rust", (".cache/peers/jsonwebtoken",), (), DEBIAN),
)


BINARY_FOLDERS = {"jsonwebtoken": "jsonwebtoken-rs"}
# A peer whose program exists but whose library may not (Perl modules from Debian packages):
# the command that loads the library, run once at discovery (about 30 ms), and what it needs.
LIBRARY_PROBES: dict[str, tuple[tuple[str, ...], str]] = {
    "crypt-jwt": (("perl", "-MCrypt::JWT", "-MJSON::XS", "-MCryptX", "-e", "1"),
                  "the Perl modules Crypt::JWT, JSON::XS and CryptX are"),
}


def _library_missing(name: str) -> str | None:
    probe = LIBRARY_PROBES.get(name)
    if probe is None:
        return None
    command, what = probe
    try:
        loaded = subprocess.run(command, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        loaded = False
    return None if loaded else f"{what} not installed"


def _known(root: Path) -> dict[str, PeerEntry]:
    """The drivers of KNOWN_PEERS whose folder is in this checkout's peers/."""
    found = {}
    for name, language, command, needs, how in KNOWN_PEERS:
        driver_folder = REPO_ROOT / "peers" / name_folder(command, needs)
        if not driver_folder.is_dir() or root != REPO_ROOT / "peers":
            continue
        spec = PeerSpec(name=name, command=command, language=language, cwd=str(REPO_ROOT),
                        how_to_get=how)
        program = command[0]
        missing = None
        if not (shutil.which(program) or (REPO_ROOT / program).exists()):
            missing = f"{program} is not installed; {how}"
        elif any(not (REPO_ROOT / need).exists() for need in needs):
            missing = f"{next(n for n in needs if not (REPO_ROOT / n).exists())} is " \
                      f"missing; {how}"
        elif (library := _library_missing(name)) is not None:
            missing = f"{library}; {how}"
        found[name] = PeerEntry(spec, missing)
    return found


def name_folder(command: tuple[str, ...], needs: tuple[str, ...]) -> str:
    """The folder under peers/ a known driver lives in (`peers/jose6/driver.mjs` -> jose6)."""
    for part in (*command, *needs):
        if part.startswith("peers/"):
            return part.split("/")[1]
    # A built binary: its source folder has its name, or its name and the language's suffix
    # (the Rust crate's folder is jsonwebtoken-rs).
    name = Path(command[0]).name
    return BINARY_FOLDERS.get(name, name)


def discover_peers(root: Path | None = None) -> dict[str, PeerEntry]:
    """Every peer declared under the peers folder, on this machine or not."""
    root = root or peers_folder()
    found: dict[str, PeerEntry] = _known(root)
    if not root.is_dir():
        return found
    claimed = {Path(entry.spec.command[-1]).parts[1] for entry in found.values()
               if entry.spec.command[-1].startswith("peers/")}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if folder.name in claimed and not (folder / "peer.json").exists():
            continue
        path = folder / "peer.json"
        if path.exists():
            try:
                manifest = json.loads(path.read_text())
                entry = _entry(folder, manifest)
            except (ValueError, KeyError, TypeError) as error:
                raise HarnessError(f"{path}: not a valid peer manifest ({error})") from error
        elif (folder / "driver.mjs").exists() and (folder / "package.json").exists():
            entry = _entry(folder, {
                "name": folder.name, "language": "javascript",
                "command": ["node", "driver.mjs"],
                "requires": ["node_modules"] if (folder / "package.json").exists() else [],
                "how_to_get": f"install node and npm, then `npm ci` in peers/{folder.name}"})
        else:
            continue
        if path.exists() or entry.spec.name not in found:  # a manifest says it best
            found[entry.spec.name] = entry
    return found


def _pin_of(name: str) -> str | None:
    """`pyjwt@2.10.0` named as a library is the pin `pyjwt==2.10.0`."""
    library, at, version = name.partition("@")
    return f"{library}=={version}" if at and library in REGISTRY and version else None


def installed_libraries(names: list[str], pins: list[str], every_peer: bool = False
                        ) -> tuple[list[Adapter], dict[str, str]]:
    """The adapters a run uses: the named libraries and peers (when none is named, every
    installed Python library, and with `every_peer` every peer on this machine too), then one
    peer per release pin. Missing ones are returned with why when they were not named; a named
    one that is missing is an error."""
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
    for name in ([n for n in names if n in peers] if names else
                 list(peers) if every_peer else []):
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
