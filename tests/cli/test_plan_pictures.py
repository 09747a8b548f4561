"""Pictures in the plan: the topology as Mermaid (checked by mermaid's own parser) and per-GPU memory bars."""

from __future__ import annotations

import copy
import json
import re
import subprocess
from typing import Any

import pytest
from stack_runs import plan_document as document
from tools import mermaid_check

from components.cli.compare import compare
from components.cli.diff_report import render_diff_markdown
from components.cli.memory_bar import SEGMENTS, memory_bar, memory_parts
from components.cli.report import render_markdown, render_table
from components.cli.topology import label, topology_mermaid


def parse(diagram: str) -> dict[str, Any]:
    """mermaid's parser (the npm package GitHub's renderer is built on), run under node."""
    result = subprocess.run(mermaid_check(), input=diagram, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{result.stderr}\n{diagram}"
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def _packed(raw: dict[str, Any]) -> None:
    raw["models"][0].update(tensorParallelSize=2, replicas=3, replicasPerHost=2, maxModelLen=16384)


@pytest.fixture(scope="module")
def plans() -> dict[str, dict[str, Any]]:
    return {"dev": document("dev"), "prod": document("prod"), "packed": document("prod", _packed)}


@pytest.mark.parametrize("name", ["dev", "prod", "packed"])
def test_the_topology_parses_and_shows_every_route_target_host_and_server(
    plans: dict[str, dict[str, Any]], name: str
) -> None:
    plan = plans[name]
    diagram = topology_mermaid(plan)
    assert parse(diagram)["diagramType"] == "flowchart-v2"
    resources = plan["resources"]

    def named(type_: str) -> list[dict[str, Any]]:
        return [r for r in resources if r["type"] == type_]

    for group in named("aws:lb/targetGroup:TargetGroup"):
        assert f'"target group {group["name"]}"' in diagram
    for rule in named("aws:lb/listenerRule:ListenerRule"):
        for condition in rule["inputs"]["conditions"]:
            # Path rules, and with a domain (prod) host rules too: each condition's values are on the diagram.
            (values,) = [c["values"] for c in condition.values()]
            assert ", ".join(values) in diagram
    hosts = {r["parent"] for r in named("aws:ec2/instance:Instance") if r["parent"] != "monitoring"}
    assert set(re.findall(r'subgraph \w+\["host ([\w-]+):', diagram)) == hosts
    servers = [r for r in named("docker:index/container:Container") if r["name"].endswith("-container")]
    assert diagram.count("subgraph") == len(hosts) and len(
        re.findall(r"^\s+slot\d+ --> server\d+$", diagram, re.M)
    ) == len(servers)
    # One edge from a target group to a GPU slot per registered target.
    attachments = named("aws:lb/targetGroupAttachment:TargetGroupAttachment")
    assert len(re.findall(r"^  tg\d+ --> slot\d+$", diagram, re.M)) == len(attachments)


def test_a_host_with_two_servers_shows_two_gpu_slots(plans: dict[str, dict[str, Any]]) -> None:
    diagram = topology_mermaid(plans["packed"])
    (host,) = re.findall(r'subgraph \w+\["host qwen-72b-0: g6e\.12xlarge"\]\n((?:    .*\n)+)  end', diagram)
    assert "GPUs 0, 1 (L40S), port 8000" in host and "GPUs 2, 3 (L40S), port 8001" in host


def test_names_are_escaped_so_the_diagram_still_parses(plans: dict[str, dict[str, Any]]) -> None:
    plan = copy.deepcopy(plans["dev"])
    hostile = 'a"b]<script>|#x;&lt;(c)'
    for resource in plan["resources"]:
        if resource["type"] == "aws:lb/targetGroup:TargetGroup":
            resource["name"] = hostile
        for deps in resource["options"]["propertyDependencies"].values():
            deps[:] = [hostile if d.endswith("-tg") else d for d in deps]
    diagram = topology_mermaid(plan)
    parse(diagram)
    assert hostile not in diagram and label("target group " + hostile) in diagram
    assert "<script>" not in diagram


def test_markdown_plan_and_pr_comment_carry_the_diagram(plans: dict[str, dict[str, Any]]) -> None:
    prod = plans["prod"]
    fence = "```mermaid\n" + topology_mermaid(prod) + "```"
    assert fence in render_markdown(prod)
    comment = render_diff_markdown(compare(prod, prod), topology=topology_mermaid(prod))
    assert fence in comment


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_each_model_gets_a_memory_bar_of_its_fit(plans: dict[str, dict[str, Any]], name: str) -> None:
    plan = plans[name]
    table = render_table(plan)
    for model in plan["models"]:
        fit = model["fit"]
        bar = memory_bar(fit, 40)
        assert len(bar) == 40 and f"{model['name']} {bar}" in " ".join(table.split())
        parts = dict(memory_parts(fit))
        assert parts["weights"] == fit["weightsGib"] and parts["KV cache"] == fit["kvCacheGibPerGpu"]
        assert sum(parts.values()) == pytest.approx(fit["gpuMemoryGib"], abs=0.01)
        for (part, char), gib in zip(SEGMENTS, parts.values(), strict=True):
            # Each part's share of the bar is its share of the GPU, to a character (at least one if any).
            assert abs(bar.count(char) - gib / fit["gpuMemoryGib"] * 40) <= 1 or (gib > 0 and bar.count(char) == 1), (
                part
            )


def test_bar_widths_add_up_and_keep_small_parts_visible() -> None:
    fit = {"weightsGib": 40.0, "reserveGib": 0.1, "kvCacheGibPerGpu": 3.3, "gpuMemoryGib": 44.5}
    bar = memory_bar(fit, 20)
    assert len(bar) == 20 and bar.count("▓") == 1 and bar.count("░") == 1
    assert memory_bar({**fit, "gpuMemoryGib": 43.4}, 20).count("░") == 0
