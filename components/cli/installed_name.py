"""``import vllm_aws`` from a checkout, where the package imports as ``components``."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

# The import name of the installed package (pyproject.toml); a checkout imports the same directory as components.
INSTALLED_NAME = "vllm_aws"


def share_installed_name() -> None:
    """Make ``import vllm_aws`` give this package's own modules when it runs from a checkout as ``components``.

    A program written against the installed package (examples/extra-model, the README's snippet, a user's stack)
    then runs from the checkout unchanged, on the very modules the plan uses: never a second copy of the
    package, whose classes (ConfigError, the components) would be different classes. Modules are aliased as they
    are imported, so a plan never loads what it does not use (the Hub client alone costs a large plan 0.2 s).
    """
    package = __name__.split(".")[0]
    if package == INSTALLED_NAME or INSTALLED_NAME in sys.modules:
        return
    if not any(isinstance(finder, _InstalledNameAlias) for finder in sys.meta_path):
        sys.meta_path.insert(0, _InstalledNameAlias(package))


class _InstalledNameAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``vllm_aws[.x]`` as the already-importable ``<package>[.x]``: the same module object, not a copy."""

    def __init__(self, package: str) -> None:
        self.package = package

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if fullname != INSTALLED_NAME and not fullname.startswith(f"{INSTALLED_NAME}."):
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        module = importlib.import_module(self.package + spec.name.removeprefix(INSTALLED_NAME))
        # The import system sets the alias's spec on the module next: keep its own, which carries the loader that
        # reads package data (importlib.resources) and the name its relative imports resolve against.
        spec.loader_state = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        alias = module.__spec__
        module.__spec__ = alias.loader_state if alias is not None else None


__all__ = ["INSTALLED_NAME", "share_installed_name"]
