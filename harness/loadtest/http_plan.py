"""The plan a Locust run of the HTTP load test follows (`HARNESS_HTTP_PLAN`): one window per
profile (its name, port and tokens), the server's pid, the warm-up and window lengths, and
where the master writes the merged windows. `harness loadtest --http` writes one per library
run; a resource server started on its own writes its own (`--write-plan`), minting the tokens
itself, for Locust processes on this machine or others to share.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.core.keys import load_key_set
from harness.loadtest.http_profiles import PROFILES_BY_NAME, Token, mint, minter_for


def boot_id() -> str:
    """This machine's boot: a pid in a plan means that process only where it is the same."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def plan(windows: list[tuple[str, int, list[Token]]], server_pid: int | None, warmup_s: float,
         window_s: float, out: str | None = None, same_machine_only: bool = False
         ) -> dict[str, Any]:
    return {"windows": [{"name": name, "port": port, "tokens": [t.to_json() for t in tokens]}
                        for name, port, tokens in windows],
            "server_pid": server_pid, "warmup_s": warmup_s, "window_s": window_s, "out": out,
            **({"boot_id": boot_id()} if same_machine_only else {})}


def minted_tokens(library: str, profile: str, count: int) -> tuple[list[Token], str]:
    """A profile's tokens for `library`'s server, minted by another installed library (the
    forge when there is none), and who minted them."""
    from harness.adapters import installed_adapters

    adapters = installed_adapters(None)[0]
    minter = minter_for(library, PROFILES_BY_NAME[profile], adapters)
    tokens = mint(PROFILES_BY_NAME[profile], load_key_set(), minter, count)
    return tokens, minter.name if minter else "forge"
