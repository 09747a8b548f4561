"""The day-2 simulator covers what the stack registers: property paths, a provider rule for every type, the
aliases a program records; and it is pure (no Pulumi)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from import_graph import reachable, read_graph
from simulations import doc
from stack_runs import run_stack

import components
from components.cli.program import run_program
from components.cli.report import resource_json
from components.cli.simulate import simulate
from components.cli.simulate.paths import diff, mask, parse
from components.cli.simulate.provider_rules import RULES, has_rule

# --- paths and coverage -----------------------------------------------------------------------------------------


def test_property_paths() -> None:
    assert parse('a.b[0]["c.d"][*]') == ("a", "b", "0", "c.d", "*")
    assert diff({"a": [1, {"b": 2}]}, {"a": [1, {"b": 3}], "c": 1}) == [("a", "1", "b"), ("c",)]
    assert mask({"a": [{"b": 1}, {"b": 2}]}, {"a": [{"b": 5}, {"b": 6}], "x": 1}, ["a[*].b", "x"]) == {
        "a": [{"b": 1}, {"b": 2}]
    }


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_type_the_stack_registers_has_a_provider_rule(stack: str) -> None:
    types = {r.type for r in run_stack(stack).resources if r.custom}
    assert {t for t in types if not has_rule(t)} == set()
    assert all(rule.source for rule in RULES.values())


_ALIAS_PROGRAM = """
import pulumi
import pulumi_random as random


class Box(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("test:index:Box", name, None, opts)
        random.RandomPassword(f"{name}-pw", length=8, opts=pulumi.ResourceOptions(parent=self))


Box({name!r}, opts=pulumi.ResourceOptions(aliases={aliases}))
"""


def _program_document(tmp_path: Path, name: str, aliases: str) -> dict[str, Any]:
    program = tmp_path / f"{name}.py"
    program.write_text(_ALIAS_PROGRAM.format(name=name, aliases=aliases))
    run = run_program(program, {}, [], "s", project="p")
    return doc(*(resource_json(r) for r in run.resources))


def test_the_program_records_aliases_and_the_simulator_honours_them(tmp_path: Path) -> None:
    old = _program_document(tmp_path, "old", "[]")
    renamed = _program_document(tmp_path, "new", "[]")
    aliased = _program_document(tmp_path, "new", '[pulumi.Alias(name="old")]')
    box = next(r for r in aliased["resources"] if r["type"] == "test:index:Box")
    assert box["options"]["aliases"] == ["urn:pulumi:s::p::test:index:Box::old"]
    # Without the alias a rename is a delete and a create; with it, the child follows its parent's alias.
    assert len(simulate(old, renamed).run.matching.created) == 2
    matched = simulate(old, aliased).run
    assert matched.matching.created == () and set(matched.matching.aliased.values()) == {
        "urn:pulumi:s::p::test:index:Box::old",
        "urn:pulumi:s::p::test:index:Box$random:index/randomPassword:RandomPassword::old-pw",
    }


def test_the_simulator_imports_no_pulumi() -> None:
    # Pure logic: it reads plan documents only. Follow every package import of every simulator module (package
    # __init__ re-exports included) and reject any Pulumi import on the way.
    modules = read_graph(Path(components.__file__).parent)
    simulator = [name for name in modules if name.startswith("components.cli.simulate")]
    seen = set().union(*(reachable(modules, name) for name in simulator))
    for name in seen:
        assert not {e for e in modules[name].external if e.startswith("pulumi")}, name
    assert "components._naming" in seen  # the crawl follows imports (disruption reads the tag keys)
