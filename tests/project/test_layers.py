"""The package's layers, read from its import graph (ast; tests/import_graph.py), as issue #11 decided them:

1. Pure modules (declared below; a new module must be declared pure or not, or this test fails) import no Pulumi
   provider package (pulumi_aws, pulumi_docker, pulumi_command, pulumi_random, pulumi_tls).
2. planner/ imports no ``pulumi*`` at all, directly or through the package modules it imports.
3. There are no import cycles between modules (the re-exports of a package ``__init__`` are not edges; rule 7
   makes the other edges exact).
4. Nothing outside cli/ imports cli/ (the package root included); only ``python -m``'s ``__main__`` starts it.
5. Private ``pulumi.runtime`` names (``_sync_await``, ``rpc._special_sig_key``, ...) appear in cli/program.py only.
6. No module over 400 lines, in components/ and in tests/.
7. Inside the package, a name is imported from the module that defines it, never through a package ``__init__``
   that only re-exports (such an edge would hide the real dependency, and can make an import order fail).
8. config/sources.py is the only caller of ``pulumi.Config(``; components (host/, serving/, network/,
   observability/, deployment.py) never import config/sources.

Each rule is also run against a copy of the package with one deliberate violation, to prove it can fail.
"""

from __future__ import annotations

import ast
import fnmatch
import shutil
from pathlib import Path

import pytest
from import_graph import Module, reachable, read_graph
from repo import PROJECT_DIR, TESTS_DIR

PACKAGE_DIR = PROJECT_DIR / "components"
PROVIDER_PACKAGES = ("pulumi_aws", "pulumi_docker", "pulumi_command", "pulumi_random", "pulumi_tls")
MAX_LINES = 400

# Paths relative to components/ (fnmatch patterns).
PURE = (
    "__init__.py",  # the public API re-exports; classified by what it imports, which rule 1 does not look through
    "_naming.py",
    "errors.py",
    "version.py",
    "catalog/*",
    "config/schema.py",
    "config/sections.py",
    "config/base.py",
    "config/hardening.py",
    "config/translate.py",
    "config/project_rules.py",
    "config/aws_ids.py",
    "config/aws_tags.py",
    "config/secret_values.py",
    "planner/*",
    "quotas/__init__.py",
    "quotas/needs.py",
    "quotas/counts.py",
    "host/__init__.py",
    "host/ami.py",
    "host/ssh.py",
    "host/iam.py",
    "host/kms_policy.py",
    "host/bootstrap/*",
    "serving/__init__.py",
    "serving/container_spec.py",
    "serving/images.py",
    "serving/health_wait.py",
    "serving/watchdog/__init__.py",
    "network/__init__.py",
    "network/routing.py",
    "network/drain.py",
    "network/placement.py",
    "network/client_snippets.py",
    "network/access_log_policy.py",
    "observability/__init__.py",
    "observability/prometheus.py",
    "observability/grafana.py",
    "observability/dcgm.py",
    "observability/metrics.py",
    "observability/alert_rules.py",
    "observability/stack_alerts.py",
    "observability/alertmanager.py",
    "cli/simulate/*",
    "cli/compare.py",
    "cli/measured.py",
    "cli/report.py",
    "cli/diff_report.py",
    "cli/diff_sections.py",
    "cli/topology.py",
    "cli/memory_bar.py",
    "cli/progress.py",
    "cli/endings.py",
    "cli/event_loops.py",
    "cli/out_dir.py",
    "cli/recorded.py",
    "cli/offline.py",
    "cli/render.py",
    "cli/installed_name.py",
)
# Modules that register resources, call AWS, read pulumi.Config or drive the mock engine.
NOT_PURE = (
    "__main__.py",
    "deployment.py",
    "stack_checks.py",
    "config/__init__.py",
    "config/sources.py",
    "quotas/check.py",
    "quotas/instance_types.py",
    "quotas/live_prices.py",
    "host/gpu_host.py",
    "host/model_cache.py",
    "host/secrets.py",
    "host/kms_key.py",
    "host/ssh_access.py",
    "host/self_healing.py",
    "host/spot.py",
    "host/egress.py",
    "serving/vllm_server.py",
    "serving/host_commands.py",
    "serving/host_exporters.py",
    "network/load_balancer.py",
    "network/model_endpoint.py",
    "network/certificate.py",
    "network/waf.py",
    "network/access_logs.py",
    "network/lookup.py",
    "observability/monitoring.py",
    "observability/monitoring_host.py",
    "observability/alert_delivery.py",
    "cli/__init__.py",
    "cli/program.py",
)
COMPONENT_ROOMS = ("host/*", "serving/*", "network/*", "observability/*", "deployment.py")


def relative(module: Module, root: Path) -> str:
    return module.path.relative_to(root).as_posix()


def matches(path: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(path, pattern) for pattern in patterns)


def only_reexports(module: Module) -> bool:
    """A package ``__init__`` whose body is a docstring, imports and ``__all__``."""
    if not module.is_package:
        return False
    body = ast.parse(module.path.read_text(encoding="utf-8")).body
    kinds = (ast.Import, ast.ImportFrom)
    return any(isinstance(node, kinds) for node in body) and all(
        isinstance(node, kinds)
        or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
        or (isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["__all__"])
        for node in body
    )


def violations(root: Path) -> list[str]:
    """Every breach of the rules in the package at ``root``, one line each."""
    modules = read_graph(root)
    found: list[str] = []
    for module in modules.values():
        path = relative(module, root)
        pure, not_pure = matches(path, PURE), matches(path, NOT_PURE)
        if pure == not_pure:
            found.append(
                f"{path}: declare it in PURE or NOT_PURE (tests/project/test_layers.py), not "
                + ("both" if pure else "neither")
            )
        if pure and (providers := sorted(e for e in module.external if e.split(".")[0] in PROVIDER_PACKAGES)):
            found.append(f"rule 1: {path} is pure but imports {', '.join(providers)}")
        if module.name.startswith("components.planner"):
            for name in sorted(reachable(modules, module.name)):
                if pulumi := sorted(e for e in modules[name].external if e.split(".")[0].startswith("pulumi")):
                    found.append(
                        f"rule 2: {path} reaches {relative(modules[name], root)}, which imports {', '.join(pulumi)}"
                    )
        for target in sorted(module.imports):
            inside_cli = module.name.startswith("components.cli")
            if target.startswith("components.cli") and not inside_cli and module.name != "components.__main__":
                found.append(f"rule 4: {path} imports {target}")
            if only_reexports(modules[target]) and not only_reexports(module):
                found.append(f"rule 7: {path} imports {target}, which only re-exports: import the defining module")
            if target == "components.config.sources" and matches(path, COMPONENT_ROOMS):
                found.append(f"rule 8: {path} (a component) imports config/sources")
        if module.private_pulumi_runtime and path != "cli/program.py":
            found.append(f"rule 5: {path} uses {', '.join(sorted(module.private_pulumi_runtime))}")
        if calls_pulumi_config(module) and path != "config/sources.py":
            found.append(f"rule 8: {path} calls pulumi.Config(")
        if module.lines > MAX_LINES:
            found.append(f"rule 6: {path} has {module.lines} lines (at most {MAX_LINES})")
    found += [f"rule 3: import cycle {' -> '.join(cycle)}" for cycle in cycles(modules)]
    return found


def calls_pulumi_config(module: Module) -> bool:
    tree = ast.parse(module.path.read_text(encoding="utf-8"))
    return any(
        isinstance(node, ast.Call) and ast.unparse(node.func) in ("pulumi.Config", "Config") for node in ast.walk(tree)
    )


def cycles(modules: dict[str, Module]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), re-export edges left out."""
    edges = {name: sorted(m.imports) if not only_reexports(m) else [] for name, m in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_package_keeps_its_layers() -> None:
    assert violations(PACKAGE_DIR) == []


def test_every_declared_module_exists() -> None:
    paths = {relative(m, PACKAGE_DIR) for m in read_graph(PACKAGE_DIR).values()}
    for pattern in PURE + NOT_PURE:
        assert any(fnmatch.fnmatch(path, pattern) for path in paths), f"{pattern} matches no module"


def test_no_test_module_is_over_400_lines() -> None:
    long = {
        p.relative_to(TESTS_DIR).as_posix(): n
        for p in TESTS_DIR.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


BAD_EXAMPLES = {
    "rule 1": {"host/ssh.py": "import pulumi_aws\n"},
    "rule 2": {"planner/memory.py": "from ..config import sources\n", "planner/plan.py": "import pulumi\n"},
    "rule 3": {"host/iam.py": "from . import ami\n", "host/ami.py": "from . import iam\n"},
    "rule 4": {"deployment.py": "from .cli import program\n"},
    "rule 5": {"config/sources.py": "from pulumi.runtime.sync_await import _sync_await\n"},
    "rule 6": {"errors.py": "#\n" * MAX_LINES},
    "rule 7": {"deployment.py": "from .planner import plan_model\n"},
    "rule 8": {
        "host/gpu_host.py": "pulumi.Config('x')\n",
        "serving/vllm_server.py": "from ..config import sources\n",
    },
    "declare": {"network/extra.py": '"""A new module nobody classified."""\n'},
}


@pytest.mark.parametrize("rule", sorted(BAD_EXAMPLES))
def test_each_rule_fails_on_a_deliberate_violation(tmp_path: Path, rule: str) -> None:
    root = tmp_path / "components"
    shutil.copytree(PACKAGE_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    for path, text in BAD_EXAMPLES[rule].items():
        with (root / path).open("a", encoding="utf-8") as handle:
            handle.write("\n" + text)
    found = violations(root)
    expected = "declare it in PURE or NOT_PURE" if rule == "declare" else f"{rule}:"
    assert any(expected in line for line in found), found
    assert all(expected in line for line in found), f"only {rule} is broken: {found}"
