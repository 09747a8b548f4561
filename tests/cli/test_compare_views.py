"""The terminal `plan --compare` tells the PR comment's story: same sections, same counts, same order."""

from __future__ import annotations

import re
from typing import Any

import pytest
from stack_runs import plan_document as document

from components.cli.compare import compare
from components.cli.diff_report import plain, render_diff_markdown, render_diff_text

Outline = list[tuple[str, int, int]]  # heading, the count it states, the entries under it

_MD_HEADING = re.compile(r"^(?:<details><summary>|\*\*)(.+) \((\d+)\)(?:</summary>|\*\*)$")
_TEXT_HEADING = re.compile(r"^(\S.*) \((\d+)\)$")


def markdown_outline(markdown: str) -> Outline:
    outline: Outline = []
    for line in markdown.splitlines():
        if match := _MD_HEADING.match(line):
            outline.append((match[1], int(match[2]), 0))
        elif outline and re.match(r"^(- |1\. |\| )", line) and not line.startswith(("|---", "| host |", "| model |")):
            heading, count, entries = outline[-1]
            outline[-1] = (heading, count, entries + 1)
        elif line.startswith(("<sub>", "</details>")) or (outline and not line.strip() and outline[-1][2]):
            outline.append(("", 0, 0))  # the section ended: later lines belong to no heading
    return [entry for entry in outline if entry[0]]


def text_outline(text: str) -> Outline:
    outline: Outline = []
    in_table = False  # below a table's rule: rows start at the margin, wrapped cells continue indented
    for line in text.splitlines():
        if match := _TEXT_HEADING.match(line):
            outline.append((match[1], int(match[2]), 0))
        elif not line.strip():
            outline.append(("", 0, 0))
            in_table = False
        elif line.startswith("─"):
            in_table = True
        elif outline and (re.match(r"^  (- |\d+\. )", line) or (in_table and not line.startswith(" "))):
            heading, count, entries = outline[-1]
            outline[-1] = (heading, count, entries + 1)
    return [entry for entry in outline if entry[0]]


def _model(name: str, **changes: Any) -> Any:
    def apply(raw: dict[str, Any]) -> None:
        for model in raw["models"]:
            if model["name"] == name:
                model.update(changes)

    return apply


def _many_changes(raw: dict[str, Any]) -> None:
    # Blockers (an internal ALB replaces it; prod's deletion protection refuses the delete), a new model,
    # a removed one and an in-place change: every section at once.
    raw["loadBalancer"] = {**raw["loadBalancer"], "internal": True}
    raw["models"] = [m for m in raw["models"] if m["name"] != "qwen-8b"]
    raw["models"].append({"name": "qwen-7b", "id": "Qwen/Qwen2.5-7B-Instruct", "instanceType": "g6e.xlarge"})
    raw["models"][0]["maxModelLen"] = 16384


@pytest.fixture(scope="module")
def prod() -> dict[str, Any]:
    return document("prod")


@pytest.mark.parametrize(
    "change",
    [_model("qwen-72b", instanceType="p5.48xlarge"), _many_changes, _model("qwen-8b", replicas=3)],
    ids=["instance-type", "blockers-added-removed", "scale-out"],
)
def test_terminal_and_markdown_have_the_same_sections_and_counts(prod: dict[str, Any], change: Any) -> None:
    diff = compare(prod, document("prod", change))
    markdown, text = render_diff_markdown(diff), render_diff_text(diff)
    outline = markdown_outline(markdown)
    assert outline == text_outline(text)
    assert all(count == entries for _, count, entries in outline), outline
    resources = diff["resources"]
    expected = {
        "Replaced": len(resources["replaced"]),
        "Added": len(resources["added"]),
        "Removed": len(resources["removed"]),
        "Changed in place": len(resources["changed"]),
    }
    stated = {heading: count for heading, count, _ in outline}
    assert {k: v for k, v in expected.items() if v} == {k: v for k, v in stated.items() if k in expected}
    # Banners (blockers, outages) come first in both, word for word.
    for banner in (line for line in markdown.splitlines() if line.startswith((":no_entry:", ":rotating_light:"))):
        assert plain(banner) in text
        assert markdown.index(banner) < markdown.index("| $/hour")
        assert text.index(plain(banner)) < text.index("$/hour")


def test_blockers_are_counted_and_listed_in_both(prod: dict[str, Any]) -> None:
    diff = compare(prod, document("prod", _many_changes))
    assert diff["blockers"] and diff["resources"]["added"] and diff["resources"]["removed"]
    markdown, text = render_diff_markdown(diff), render_diff_text(diff)
    banner = f"{len(diff['blockers'])} BLOCKER(S)"
    assert banner in markdown and banner in text
    for blocker in diff["blockers"]:
        assert f"- **`{blocker['resource']}`**" in markdown
        assert f"  - {blocker['resource']} ({blocker['type']})" in text


def test_replicas_and_hosts_are_named_as_such(prod: dict[str, Any]) -> None:
    # Two replicas of TP 2 on ONE 4-GPU host: never "2× g6e.12xlarge", which reads as two hosts.
    packed = _model("qwen-72b", tensorParallelSize=2, replicas=2, replicasPerHost=2, maxModelLen=16384)
    diff = compare(prod, document("prod", packed))
    after = "2 replicas (TP 2 each) on 1 g6e.12xlarge host"
    before = "1 replica (TP 4) on 1 g6e.12xlarge host"
    for view in (render_diff_markdown(diff), render_diff_text(diff)):
        assert after in view and before in view and "2×" not in view
    spread = compare(prod, document("prod", _model("qwen-8b", replicas=3)))
    assert "3 replicas (TP 1 each) on 3 g6e.xlarge hosts" in render_diff_text(spread)
