from __future__ import annotations

from pathlib import Path

import pytest

from harness.core.keys import KeySet, load_key_set


@pytest.fixture(scope="session")
def key_set_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys") / "keyset.json"


@pytest.fixture(scope="session")
def keys(key_set_path: Path) -> KeySet:
    return load_key_set(key_set_path)


@pytest.fixture(autouse=True)
def _isolated_keys(key_set_path: Path, monkeypatch: pytest.MonkeyPatch,
                   tmp_path_factory: pytest.TempPathFactory) -> None:
    # Tests never touch the developer's own key cache.
    monkeypatch.setenv("HARNESS_KEYS", str(key_set_path))
    # A run that names no library takes every peer on the machine: a test's run takes only the
    # peers it puts in a folder of its own (HARNESS_PEERS), never the node or Debian ones here.
    monkeypatch.setenv("HARNESS_PEERS", str(_no_peers(tmp_path_factory)))


_EMPTY: list[Path] = []


def _no_peers(factory: pytest.TempPathFactory) -> Path:
    if not _EMPTY:
        _EMPTY.append(factory.mktemp("no-peers"))
    return _EMPTY[0]
