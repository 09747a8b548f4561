"""Find, for each Pulumi package, the oldest release from which every release has every API this repository calls.

    python scripts/audit_api_floors.py      # needs PyPI; rewrites tests/data/api_floors.json

``api_usage`` scans the code for every attribute of ``pulumi``, ``pulumi_aws``, ``pulumi_docker``,
``pulumi_command``, ``pulumi_random`` and ``pulumi_tls`` it touches and every keyword it passes to one. Each
release of a package from ``SCAN_FROM`` up to the installed one is fetched from PyPI (``pip install --no-deps
--target``) and probed in a subprocess: does the attribute exist, does the callable (a resource's
``_internal_init``, a class's ``__init__``, a function) accept each keyword, and do the ``BEHAVIOURS`` run? The
probe blocks ``pkg_resources``: Python 3.12+ virtual environments carry no setuptools, and setuptools 81 removed
it, so a release that imports it fails on a fresh machine. Every release is probed, not a bisection (pulumi 3.165
added a subpackage ``pulumi.run``; the function ``pulumi.run()`` came in 3.254), and an API's first release is the
oldest from which all later ones have it. ``tests/project/test_api_floors.py`` checks the requirement files against
the result and fails on an API that was never audited.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
FLOORS_FILE = PROJECT_DIR / "tests" / "data" / "api_floors.json"
# Import name -> distribution name.
PACKAGES = {
    "pulumi": "pulumi",
    "pulumi_aws": "pulumi-aws",
    "pulumi_docker": "pulumi-docker",
    "pulumi_command": "pulumi-command",
    "pulumi_random": "pulumi-random",
    "pulumi_tls": "pulumi-tls",
}
# The floors before the first audit (#10): every release from here to the installed one is probed.
SCAN_FROM = {
    "pulumi": "3.200.0",
    "pulumi-aws": "7.0.0",
    "pulumi-docker": "5.0.0",
    "pulumi-command": "1.0.0",
    "pulumi-random": "4.16.0",
    "pulumi-tls": "5.0.0",
}
# Requirements file -> the code installed with it. The tests run examples/extra-model, so the test environment
# needs what that program needs.
SOURCES = {
    "requirements.txt": ("components", "__main__.py", "provider"),
    "requirements-dev.txt": ("tests", "scripts", "benchmarks", "examples/extra-model"),
    "examples/extra-model/requirements.txt": ("examples/extra-model",),
}
# Requirements file -> the files whose floors also apply (`-r`, or the vllm-aws package's own dependencies).
INCLUDES = {
    "requirements-dev.txt": ("requirements.txt",),
    "examples/extra-model/requirements.txt": ("requirements.txt",),
}
# Reached through instances, which a static scan cannot follow: a StackReference's method, and the fields the
# offline engine reads from the SDK's RegisterResourceRequest (components/cli/program.py).
_OFFLINE_ENGINE_APIS = (
    "pulumi.runtime.mocks.MockMonitor.RegisterResource",
    "pulumi.runtime.proto.resource_pb2.RegisterResourceRequest.replacement_trigger",
    "pulumi.runtime.proto.resource_pb2.RegisterResourceRequest.deletedWith",
    "pulumi.runtime.proto.resource_pb2.RegisterResourceRequest.replaceOnChanges",
    "pulumi.runtime.proto.resource_pb2.RegisterResourceRequest.retainOnDelete",
)
INSTANCE_APIS = {
    "requirements.txt": _OFFLINE_ENGINE_APIS,
    "requirements-dev.txt": ("pulumi.StackReference.get_output_details",),
    "examples/extra-model/requirements.txt": ("pulumi.StackReference.get_output_details",),
}
# What a name check cannot see: Python run in the probe (cwd: the repository) that must not raise.
BEHAVIOURS = {
    "requirements.txt": {
        "pulumi": {
            "infers the component provider's schema (provider/generate_schema.py)": (
                "sys.path[:0] = ['provider', '.']; import generate_schema; generate_schema.schema()"
            ),
        },
    },
}


@dataclass(frozen=True)
class Use:
    """One thing the code relies on: an API (dotted name, optionally a keyword it passes) or a behaviour."""

    distribution: str
    name: str
    keyword: str | None = None
    called: bool = False
    behaviour: str | None = None

    @property
    def key(self) -> str:
        if self.behaviour is not None:
            return f"[behaviour] {self.name}"
        if self.keyword:
            return f"{self.name}({self.keyword}=)"
        return f"{self.name}()" if self.called else self.name


def _api(name: str, keyword: str | None = None, *, called: bool = False) -> Use:
    return Use(PACKAGES[name.split(".", 1)[0]], name, keyword, called)


class _Scanner(ast.NodeVisitor):
    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}
        self.uses: set[Use] = set()

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".", 1)[0] in PACKAGES:
                local = alias.asname or alias.name.split(".", 1)[0]
                self.aliases[local] = alias.name if alias.asname else local

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and node.module.split(".", 1)[0] in PACKAGES and not node.level:
            for alias in node.names:
                self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                self.uses.add(_api(f"{node.module}.{alias.name}"))

    def _dotted(self, node: ast.expr) -> str | None:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name) and node.id in self.aliases:
            return ".".join([self.aliases[node.id], *reversed(parts)])
        return None

    def visit_Call(self, node: ast.Call) -> None:
        name = self._dotted(node.func)
        if name is None:
            self.generic_visit(node)
            return
        self.uses.add(_api(name, called=True))
        self.uses.update(_api(name, keyword.arg) for keyword in node.keywords if keyword.arg)
        for child in [*node.args, *(keyword.value for keyword in node.keywords)]:
            self.visit(child)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = self._dotted(node)
        if name is None:
            self.generic_visit(node)
        else:
            self.uses.add(_api(name))

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in self.aliases:
            self.uses.add(_api(self.aliases[node.id]))


def _python_files(paths: Iterable[str]) -> Iterator[Path]:
    for path in (PROJECT_DIR / p for p in paths):
        if path.is_file():
            yield path
        else:
            yield from (f for f in sorted(path.rglob("*.py")) if "venv" not in f.relative_to(PROJECT_DIR).parts)


def api_usage() -> dict[str, set[Use]]:
    """Requirements file -> every API and behaviour of a Pulumi package that the code it installs for relies on."""
    usage: dict[str, set[Use]] = {}
    for requirements, paths in SOURCES.items():
        uses = {_api(name) for name in INSTANCE_APIS.get(requirements, ())}
        for distribution, behaviours in BEHAVIOURS.get(requirements, {}).items():
            uses |= {Use(distribution, label, behaviour=code) for label, code in behaviours.items()}
        for path in _python_files(paths):
            scanner = _Scanner()
            scanner.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
            # A bare package name (`import pulumi`) says nothing about a release.
            uses |= {use for use in scanner.uses if "." in use.name}
        usage[requirements] = uses
    return usage


# Runs in a subprocess whose sys.path starts with one release of one package.
# stdin: [[key, name, keyword, called, code]]; stdout: {key: present}.
_PROBE = r"""
import importlib, inspect, json, sys
sys.modules["pkg_resources"] = None  # absent on Python 3.12+ venvs and in setuptools >= 81

def resolve(dotted):
    # Attributes first: `pulumi_aws.ec2.get_subnet` is the function the package exports, not its module.
    path, *attrs = dotted.split(".")
    obj = importlib.import_module(path)
    for attr in attrs:
        path = f"{path}.{attr}"
        # Protobuf message fields are descriptors, not class attributes, in the upb implementation.
        fields = getattr(getattr(obj, "DESCRIPTOR", None), "fields_by_name", None)
        if fields is not None and attr in fields:
            obj = fields[attr]
        elif hasattr(obj, attr):
            obj = getattr(obj, attr)
        else:
            obj = importlib.import_module(path)
    return obj

def accepts(obj, keyword):
    # Generated resources overload __init__(*args, **kwargs); _internal_init lists every input.
    target = getattr(obj, "_internal_init", None) or (obj.__init__ if inspect.isclass(obj) else obj)
    params = inspect.signature(target).parameters
    return keyword in params or (
        not hasattr(obj, "_internal_init") and any(p.kind is p.VAR_KEYWORD for p in params.values())
    )

importlib.import_module(sys.argv[1])
found = {}
for key, name, keyword, called, code in json.loads(sys.stdin.read()):
    try:
        if code is not None:
            exec(code, {"sys": sys})
            found[key] = True
        elif keyword is not None:
            found[key] = accepts(resolve(name), keyword)
        else:
            # A module of the same name is not the function: pulumi/run/ (3.165) is not pulumi.run() (3.254).
            found[key] = callable(resolve(name)) if called else True
    except Exception:
        found[key] = False
print(json.dumps(found))
"""

_CACHE = Path(tempfile.gettempdir()) / "vllm-aws-api-floors"


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _releases(distribution: str, oldest: str, newest: str) -> list[str]:
    """Final releases of ``distribution`` from ``oldest`` to ``newest``, oldest first (pip's own index query)."""
    out = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", distribution],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("Available versions:"))
    versions = [v.strip() for v in line.split(":", 1)[1].split(",")]
    finals = [v for v in versions if v.replace(".", "").isdigit()]
    return sorted((v for v in finals if version_key(oldest) <= version_key(v) <= version_key(newest)), key=version_key)


def _probe(distribution: str, module: str, version: str, uses: list[Use]) -> dict[str, bool] | None:
    """Use key -> present in this release; None when the release does not import here."""
    target = _CACHE / f"{distribution}-{version}"
    if not target.is_dir():
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
             f"{distribution}=={version}"],
            check=True,
        )  # fmt: skip
    run = subprocess.run(
        [sys.executable, "-c", _PROBE, module],
        input=json.dumps([[use.key, use.name, use.keyword, use.called, use.behaviour] for use in uses]),
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT_DIR,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
    )
    print(f"  {distribution} {version}: {'probed' if run.returncode == 0 else 'does not import'}", flush=True)
    found: dict[str, bool] | None = json.loads(run.stdout) if run.returncode == 0 else None
    return found


def audit() -> dict[str, object]:
    uses_by_distribution: dict[str, set[Use]] = {}
    for uses in api_usage().values():
        for use in uses:
            uses_by_distribution.setdefault(use.distribution, set()).add(use)
    module_of = {distribution: module for module, distribution in PACKAGES.items()}
    packages: dict[str, object] = {}
    for distribution, uses in sorted(uses_by_distribution.items()):
        releases = _releases(distribution, SCAN_FROM[distribution], metadata.version(distribution))
        ordered = sorted(uses, key=lambda use: use.key)
        print(f"{distribution}: {len(ordered)} APIs, releases {releases[0]} .. {releases[-1]}", flush=True)
        probes = {v: _probe(distribution, module_of[distribution], v, ordered) for v in releases}
        first: dict[str, str] = {}
        for use in ordered:
            # The oldest release from which every later one (up to the installed one) has it.
            missing = [v for v in releases if not (probes[v] or {}).get(use.key)]
            if missing and missing[-1] == releases[-1]:
                raise SystemExit(f"{distribution} {releases[-1]} (installed) lacks {use.key}")
            first[use.key] = releases[releases.index(missing[-1]) + 1] if missing else releases[0]
        packages[distribution] = {
            "scanned": [releases[0], releases[-1]],
            "doesNotImport": [v for v in releases if probes[v] is None],
            "firstRelease": first,
        }
    return {"generatedBy": "scripts/audit_api_floors.py", "packages": packages}


def main() -> int:
    FLOORS_FILE.write_text(json.dumps(audit(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {FLOORS_FILE.relative_to(PROJECT_DIR)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
