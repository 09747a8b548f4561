"""The README's promises: two quick-start commands, the one `.ci/run` runs, tools it installs, links that resolve,
figures generated from the plan."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from repo import PROJECT_DIR
from tools import shellcheck

README = PROJECT_DIR / "README.md"
TESTS_DIR = PROJECT_DIR / "tests"


def section(text: str, heading: str) -> str:
    start = text.index(f"\n{heading}\n")
    following = text.find("\n## ", start + 1)
    return text[start : following if following >= 0 else len(text)]


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


def quick_start_commands() -> list[str]:
    (block,) = code_blocks(section(README.read_text(encoding="utf-8"), "## Quick start"), "bash")
    return block.splitlines()


def test_the_quick_start_is_two_commands_plan_then_tests() -> None:
    plan, tests = quick_start_commands()
    assert plan == "python3 -m pip install -r requirements.txt && python3 -m components plan --stack dev"
    assert tests == "scripts/test"
    assert (PROJECT_DIR / tests).stat().st_mode & 0o111, "scripts/test must be executable"


def test_ci_runs_exactly_the_readmes_test_command() -> None:
    ci = (PROJECT_DIR / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    commands = [line for line in ci if line.strip() and not line.startswith(("#", "set ", 'cd "$(dirname'))]
    assert commands == [quick_start_commands()[1]]


def test_the_test_scripts_pass_shellcheck() -> None:
    for script in (PROJECT_DIR / "scripts" / "test", PROJECT_DIR / ".ci" / "run"):
        lint = subprocess.run([shellcheck(), str(script)], capture_output=True, text=True, check=False)
        assert lint.returncode == 0, lint.stdout


def _required_tools() -> set[tuple[str, str]]:
    """Every ``require_tool("name", "package")`` call of the tests."""
    found = set()
    for path in TESTS_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "require_tool":
                if all(isinstance(arg, ast.Constant) for arg in node.args):
                    found.add((node.args[0].value, node.args[1].value))
                else:  # a loop over pairs: the literal pairs it iterates over are in the same module
                    found |= _literal_pairs(path)
    return found


def _literal_pairs(path: Path) -> set[tuple[str, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        (node.elts[0].value, node.elts[1].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Tuple)
        and len(node.elts) == 2
        and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts)
        and re.fullmatch(r"[a-z0-9.-]+", str(node.elts[0].value))  # type: ignore[attr-defined]
        and re.fullmatch(r"[a-z0-9-]+", str(node.elts[1].value))  # type: ignore[attr-defined]
    }


def _installed_by_scripts_test() -> dict[str, str]:
    text = (PROJECT_DIR / "scripts" / "test").read_text(encoding="utf-8")
    table = text[text.index("declare -A PACKAGE_OF=(") : text.index("\n)\n")]
    return dict(re.findall(r"^\s+\[([\w.-]+)\]=([\w.-]+)$", table, re.MULTILINE))


def test_scripts_test_installs_every_tool_the_tests_require() -> None:
    installed = _installed_by_scripts_test()
    required = _required_tools()
    assert {"cloud-init", "promtool", "amtool", "debugfs", "sfdisk", "mkfs.vfat", "losetup"} <= {t for t, _ in required}
    for tool, package in required:
        assert installed.get(tool) == package, f"scripts/test does not install {tool} ({package})"
    # The README names the packages scripts/test installs.
    quick_start = section(README.read_text(encoding="utf-8"), "## Quick start")
    for package in set(installed.values()):
        assert package in quick_start, package


def test_relative_links_of_the_readme_and_docs_resolve() -> None:
    for document in [README, *(PROJECT_DIR / "docs").glob("*.md")]:
        text = document.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if target.startswith(("http://", "https://")):
                continue
            path, _, anchor = target.partition("#")
            linked = (document.parent / path).resolve() if path else document
            assert linked.exists(), f"{document.name}: {target}"
            if anchor and linked.suffix == ".md":
                headings = re.findall(r"^#+ (.+)$", linked.read_text(encoding="utf-8"), re.MULTILINE)
                slugs = {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}
                assert anchor in slugs, f"{document.name}: {target}"


def _figures() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_doc_figures", PROJECT_DIR / "scripts" / "gen_doc_figures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_doc_figures", module)
    spec.loader.exec_module(module)
    return module


def test_figures_quoted_from_the_plan_are_current() -> None:
    """The README's plan excerpt and the examples in docs/ are the current plan's (#15)."""
    figures = _figures()
    for block in figures.BLOCKS:
        current = block.path.read_text(encoding="utf-8")
        assert block.replaced(current) == current, f"{block.path.name} is stale: run python scripts/gen_doc_figures.py"


def test_the_quota_request_example_asks_for_what_the_prod_stack_needs() -> None:
    operations = (PROJECT_DIR / "docs" / "operations.md").read_text(encoding="utf-8")
    (asked,) = re.findall(r"--quota-code L-DB2E81BA --desired-value (\d+) --region us-east-1", operations)
    document = json.loads(_figures().plan_output("--stack", "prod", "--format", "json"))
    (need,) = [q["needed"] for q in document["quotas"] if q["code"] == "L-DB2E81BA"]
    assert int(asked) == need
