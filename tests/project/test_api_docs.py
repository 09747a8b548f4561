"""README.md's API reference is generated from the component models and must match them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from repo import PROJECT_DIR


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_api_docs", PROJECT_DIR / "scripts" / "gen_api_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_api_docs", module)
    spec.loader.exec_module(module)
    return module


def test_readme_api_docs_are_up_to_date() -> None:
    generator = _generator()
    current = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    assert generator.BEGIN in current and generator.END in current
    assert generator.replace_block(current, generator.render_block()) == current, (
        "README.md API reference is stale: run python scripts/gen_api_docs.py"
    )


def test_every_public_component_and_args_is_documented() -> None:
    import components

    generator = _generator()
    block = generator.render_block()
    for name in components.__all__:
        if name.endswith("Args"):
            assert f"Inputs: `{name}`." in block, name
    for component, _args in generator.COMPONENTS:
        assert f"#### {component.__name__}\n" in block


def test_readme_python_snippet_runs_under_mocks(tmp_path: Path) -> None:
    """The "Use it from your own stack" snippet is a working program."""
    from stack_runs import of_type

    from components.cli.program import run_program
    from components.network import routing

    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Use it from your own stack") : readme.index("### API reference")]
    snippet = section[section.index("```python\n") + len("```python\n") :]
    program = tmp_path / "__main__.py"
    program.write_text(snippet[: snippet.index("```")], encoding="utf-8")
    run = run_program(program, {"aws:region": "us-east-1"}, [], "mine", project="my-stack")
    (rule,) = of_type(run, "aws:lb/listenerRule:ListenerRule")
    # Another stack's listener: the priority comes from the range its own models never use.
    assert rule.inputs["priority"] == routing.derived_priority("qwen-7b", attached=True)
    assert rule.inputs["listenerArn"].startswith("arn:aws:elasticloadbalancing:")
    assert [h.name for h in of_type(run, "vllm-aws:index:GpuHost")] == ["qwen-7b-0"]
