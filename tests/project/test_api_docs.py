"""docs/api.md, the API reference, is generated from the component models and must match them."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from repo import PROJECT_DIR


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_api_docs", PROJECT_DIR / "scripts" / "gen_api_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_api_docs", module)
    spec.loader.exec_module(module)
    return module


def test_api_docs_are_up_to_date() -> None:
    generator = _generator()
    current = (PROJECT_DIR / "docs" / "api.md").read_text(encoding="utf-8")
    assert generator.BEGIN in current and generator.END in current
    assert generator.replace_block(current, generator.render_block()) == current, (
        "docs/api.md is stale: run python scripts/gen_api_docs.py"
    )


def test_every_public_component_and_args_is_documented() -> None:
    import components

    generator = _generator()
    block = generator.render_block()
    for name in components.__all__:
        if name.endswith("Args"):
            assert f"Inputs: `{name}`." in block, name
    for component, _args in generator.COMPONENTS:
        assert f"## {component.__name__}\n" in block
