"""The package's import graph, read from the source (ast): which module imports which, resolved to module names.

Relative imports are resolved against the importing module; ``from .x import y`` names the submodule ``x.y`` when
that is a module, else ``x``. Imports under ``if TYPE_CHECKING:`` count: a cycle of annotations is still a cycle
a reader has to untangle.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = "components"


@dataclass
class Module:
    name: str
    path: Path
    is_package: bool
    imports: set[str] = field(default_factory=set)
    """Intra-package modules it imports."""
    external: set[str] = field(default_factory=set)
    """Other top-level modules it imports (``pulumi``, ``pulumi_aws``, ``yaml``, ...), as written."""
    private_pulumi_runtime: set[str] = field(default_factory=set)
    """Underscore names it reads from ``pulumi.runtime`` (``rpc._special_sig_key``, ``_sync_await``)."""

    @property
    def lines(self) -> int:
        return len(self.path.read_text(encoding="utf-8").splitlines())


def _module_name(root: Path, path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def read_graph(root: Path) -> dict[str, Module]:
    """Every module under ``root`` (the package directory), with its imports."""
    modules: dict[str, Module] = {}
    for path in sorted(root.rglob("*.py")):
        name, is_package = _module_name(root, path)
        modules[name] = Module(name, path, is_package)
    for module in modules.values():
        tree = ast.parse(module.path.read_text(encoding="utf-8"))
        runtime_aliases = {"pulumi.runtime"}
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = _absolute(module, node)
                if source.startswith("pulumi.runtime"):
                    for alias in node.names:
                        if alias.name.startswith("_"):
                            module.private_pulumi_runtime.add(f"{source}.{alias.name}")
                        runtime_aliases.add(alias.asname or alias.name)
                for alias in node.names:
                    submodule = f"{source}.{alias.name}"
                    targets.append(submodule if submodule in modules else source)
            elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                owner = ast.unparse(node.value)
                if owner in runtime_aliases or owner.split(".")[0] in runtime_aliases - {"pulumi.runtime"}:
                    module.private_pulumi_runtime.add(f"{owner}.{node.attr}")
            for target in targets:
                if target.split(".")[0] == PACKAGE:
                    if target in modules and target != module.name:
                        module.imports.add(target)
                else:
                    module.external.add(target)
    return modules


def reachable(modules: dict[str, Module], start: str) -> set[str]:
    """``start`` and every intra-package module it imports, transitively."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(modules[name].imports)
    return seen
