"""Another release of a Python library, in a venv of its own, as a peer (`--with pyjwt==2.10.0`).

The venv is built once per pin under `.cache/peers/<pin>/` (`HARNESS_PEER_CACHE` moves it) with
the current interpreter: the pinned release alone is installed (`--no-deps`), and a `.pth`
file puts the harness's own site-packages behind it, so `cryptography` and the library's other
dependencies are the harness's, and the pinned release shadows today's. A stamp file marks a
finished build; the next run reuses it. The peer is the harness's own adapter for that library,
served by `harness.adapters.peer_driver` with this checkout on `PYTHONPATH`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import cryptography
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from harness.adapters import REGISTRY
from harness.adapters.peer import PeerSpec
from harness.core.errors import HarnessError

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
STAMP = ".stamp"
# Bumped when the way a venv is built changes, so older builds are rebuilt once.
RECIPE = 2
# The address-space limit of the peer, as an isolated case's child has in-process (1 GiB there;
# the driver's own imports and its request buffers need a little more).
MEMORY_MB = 1536
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([A-Za-z0-9_.+!-]+)$")


def cache_folder() -> Path:
    return Path(os.environ.get("HARNESS_PEER_CACHE") or Path.cwd() / ".cache" / "peers")


def parse_pin(pin: str) -> tuple[str, str]:
    """`pyjwt==2.10.0` -> (`pyjwt`, `2.10.0`), for a library the harness has an adapter for."""
    match = PIN.match(pin.strip())
    if not match:
        raise HarnessError(f"--with {pin!r}: expected <library>==<version>, e.g. pyjwt==2.10.0")
    library, version = match.group(1).lower(), match.group(2)
    if library not in REGISTRY:
        raise HarnessError(f"--with {pin}: unknown library {library!r}; known: "
                           f"{', '.join(REGISTRY)}")
    return library, version


def _stamp(pin: str) -> dict[str, str]:
    return {"pin": pin, "python": sys.version.split()[0], "prefix": sys.prefix,
            "recipe": RECIPE}


def _built(venv: Path, pin: str) -> bool:
    try:
        return json.loads((venv / STAMP).read_text()) == _stamp(pin)
    except (OSError, ValueError):
        return False


def _site_packages(venv: Path) -> Path:
    relative = Path(sysconfig.get_path("purelib")).relative_to(sys.prefix)
    return venv / relative


def build_venv(venv: Path, pin: str, requirement: str) -> None:
    """Create the venv and install `requirement` alone into it (pip's last lines on failure)."""
    print(f"building venv for {pin} (once) in {venv}", file=sys.stderr)
    building = venv.with_name(venv.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    building.parent.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(building)],
                       check=True, capture_output=True, text=True)
        # Installed before the .pth exists, so pip sees an empty venv and uninstalls nothing.
        pip = subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(building / "bin" / "python"),
             "install", "--quiet", "--no-deps", "--no-warn-script-location", requirement],
            capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as error:
        shutil.rmtree(building, ignore_errors=True)
        raise HarnessError(f"--with {pin}: cannot create a venv: {error}") from error
    if pip.returncode == 0:
        # What the release needs and the harness's own venv lacks (jwcrypto 1.5's `deprecated`).
        lacking = _lacking(_site_packages(building), requirement)
        if lacking:
            pip = subprocess.run(
                [sys.executable, "-m", "pip", "--python", str(building / "bin" / "python"),
                 "install", "--quiet", "--no-warn-script-location", *lacking],
                capture_output=True, text=True)
    if pip.returncode != 0:
        shutil.rmtree(building, ignore_errors=True)
        lines = [line for line in (pip.stderr + pip.stdout).splitlines()
                 if line.strip() and not line.startswith("WARNING: Location")]
        raise HarnessError(f"--with {pin}: pip could not install {requirement}:\n  "
                           + "\n  ".join(lines[-6:]))
    host_site = Path(cryptography.__file__).resolve().parent.parent
    (_site_packages(building) / "zz_harness_site.pth").write_text(
        f"import site; site.addsitedir({str(host_site)!r})\n")
    (building / STAMP).write_text(json.dumps(_stamp(pin)))
    shutil.rmtree(venv, ignore_errors=True)
    os.replace(building, venv)


def _lacking(site: Path, requirement: str) -> list[str]:
    """Requirements of the release just installed in `site` that the harness's venv does not
    satisfy (markers evaluated with the requirement's extras)."""
    wanted = Requirement(requirement)
    found = [d for d in metadata.distributions(path=[str(site)])
             if canonicalize_name(d.metadata["Name"]) == canonicalize_name(wanted.name)]
    if not found:
        return []
    lacking = []
    for text in found[0].requires or []:
        needed = Requirement(text)
        extras = [{"extra": extra} for extra in wanted.extras] or [{"extra": ""}]
        if needed.marker and not any(needed.marker.evaluate(e) for e in extras):
            continue
        try:
            have = metadata.version(needed.name)
        except metadata.PackageNotFoundError:
            lacking.append(str(needed))
            continue
        if needed.specifier and not needed.specifier.contains(have, prereleases=True):
            lacking.append(str(needed))
    return lacking


def release_peer(pin: str, cache: Path | None = None) -> PeerSpec:
    """The peer for a pin, its venv built first if this machine has none yet."""
    library, version = parse_pin(pin)
    pin = f"{library}=={version}"
    distribution = REGISTRY[library][2]  # with the extras the harness installs it with
    venv = (cache or cache_folder()) / pin
    if not _built(venv, pin):
        build_venv(venv, pin, f"{distribution}=={version}")
    return PeerSpec(
        name=f"{library}@{version}", language="python", library=library,
        command=(str(venv / "bin" / "python"), "-m", "harness.adapters.peer_driver", library),
        env={"PYTHONPATH": str(REPO_ROOT)}, how_to_get=f"--with {pin}",
        memory_mb=MEMORY_MB)
