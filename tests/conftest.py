from __future__ import annotations

import os
import tempfile
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
def _isolated_keys(key_set_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests never touch the developer's own key cache.
    monkeypatch.setenv("HARNESS_KEYS", str(key_set_path))


def pytest_configure(config: pytest.Config) -> None:
    # A run that names no library takes every peer on the machine: a test's run (module
    # fixtures too, which run before any function's monkeypatch) takes only the peers it puts
    # in a folder of its own, never the node or Debian ones here.
    os.environ["HARNESS_PEERS"] = tempfile.mkdtemp(prefix="no-peers-")
