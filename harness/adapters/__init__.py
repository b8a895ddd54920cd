"""The adapter registry: one module per library, loaded by name."""

from __future__ import annotations

import importlib

from harness.adapters.base import Adapter
from harness.core.errors import HarnessError

# name -> (module, class, distribution to install)
REGISTRY: dict[str, tuple[str, str, str]] = {
    "pyjwt": ("harness.adapters.pyjwt_adapter", "PyJWTAdapter", "pyjwt[crypto]"),
    "joserfc": ("harness.adapters.joserfc_adapter", "JoserfcAdapter", "joserfc"),
    "jwcrypto": ("harness.adapters.jwcrypto_adapter", "JwcryptoAdapter", "jwcrypto"),
    "python-jose": ("harness.adapters.python_jose_adapter", "PythonJoseAdapter",
                    "python-jose[cryptography]"),
    "authlib": ("harness.adapters.authlib_adapter", "AuthlibAdapter", "authlib"),
    "jwskate": ("harness.adapters.jwskate_adapter", "JwskateAdapter", "jwskate"),
}


def adapter_names() -> list[str]:
    return list(REGISTRY)


def load_adapter(name: str) -> Adapter:
    """Import and instantiate the adapter `name`; a clear `HarnessError` when it cannot be."""
    if name not in REGISTRY:
        raise HarnessError(f"unknown library {name!r}; known: {', '.join(REGISTRY)}")
    module_name, class_name, distribution = REGISTRY[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise HarnessError(
            f"library {name!r} is not installed ({error.name or error}); "
            f"install it with: pip install '{distribution}'") from error
    adapter: Adapter = getattr(module, class_name)()
    return adapter


def installed_adapters(names: list[str] | None = None) -> tuple[list[Adapter], dict[str, str]]:
    """Adapters that load, and for each that does not, why (a missing optional library)."""
    loaded, missing = [], {}
    for name in names or adapter_names():
        try:
            loaded.append(load_adapter(name))
        except HarnessError as error:
            if name not in REGISTRY:
                raise
            missing[name] = str(error)
    return loaded, missing
