"""The stack's serving path as a Mermaid flowchart, from the plan JSON alone (GitHub renders ```mermaid blocks).

Load balancer → listener → (rules, as edge labels) → target groups → per host (a subgraph): its GPU slots
(GPUs and host port) → the vLLM container on each. Everything comes from the recorded resources, so the diagram
shows what `pulumi up` would build, not what the config meant.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_ENTITIES = {"&": "#amp;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "#": "#35;", "|": "#124;"}
_ENTITY = re.compile("|".join(re.escape(c) for c in _ENTITIES))


def label(text: str) -> str:
    """A quoted Mermaid label: the characters its grammar or HTML labels would read as markup become entities."""
    return '"' + _ENTITY.sub(lambda m: _ENTITIES[m[0]], text) + '"'


class _Ids:
    """Mermaid node ids are plain words: one per resource name, never derived from the text a user chose."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str], str] = {}

    def __call__(self, kind: str, name: str) -> str:
        return self._ids.setdefault((kind, name), f"{kind}{len(self._ids)}")


def _deps(resource: dict[str, Any], key: str) -> list[str]:
    return list(resource["options"].get("propertyDependencies", {}).get(key, []))


def _of_type(resources: Iterable[dict[str, Any]], type_: str) -> list[dict[str, Any]]:
    return [r for r in resources if r["type"] == type_]


def _route(rule: dict[str, Any]) -> str:
    parts = []
    for condition in rule["inputs"].get("conditions") or []:
        for key, name in (("pathPattern", ""), ("hostHeader", "host "), ("httpHeader", "header ")):
            values = (condition.get(key) or {}).get("values") or []
            if values:
                parts.append(name + ", ".join(str(v) for v in values))
    priority = rule["inputs"].get("priority")
    when = "; ".join(parts) or "any request"
    return when + (f" (priority {int(priority)})" if isinstance(priority, int | float) else "")


def _gpus(container: dict[str, Any], gpu: str, count: int) -> str:
    for request in container["inputs"].get("deviceRequests") or []:
        ids = request.get("deviceIds")
        if ids:
            return f"GPUs {', '.join(str(i) for i in ids)} ({gpu})"
    return f"all {count}× {gpu}" if count else "all GPUs"


def topology_mermaid(document: dict[str, Any]) -> str:
    """The flowchart text (without the ```mermaid fence)."""
    resources = document["resources"]
    ids = _Ids()
    lines = ["flowchart LR"]
    by_type = {m["instanceType"]: (m["gpu"], m["gpuCount"]) for m in document["models"]}
    for alb in _of_type(resources, "aws:lb/loadBalancer:LoadBalancer"):
        lines.append(f"  {ids('alb', alb['name'])}[{label('load balancer ' + alb['name'])}]")
    for listener in _of_type(resources, "aws:lb/listener:Listener"):
        inputs = listener["inputs"]
        node = ids("listener", listener["name"])
        text = f"{inputs.get('protocol', '')} :{int(inputs.get('port') or 0)}"
        lines.append(f"  {node}([{label(text)}])")
        for balancer in _deps(listener, "loadBalancerArn"):
            lines.append(f"  {ids('alb', balancer)} --> {node}")
        for default_group in _deps(listener, "defaultActions"):
            lines.append(f"  {node} -->|{label('default')}| {ids('tg', default_group)}")
    for target_group in _of_type(resources, "aws:lb/targetGroup:TargetGroup"):
        lines.append(f"  {ids('tg', target_group['name'])}[{label('target group ' + target_group['name'])}]")
    for rule in sorted(_of_type(resources, "aws:lb/listenerRule:ListenerRule"), key=lambda r: r["name"]):
        for listener_name in _deps(rule, "listenerArn"):
            for group in _deps(rule, "actions"):
                lines.append(f"  {ids('listener', listener_name)} -->|{label(_route(rule))}| {ids('tg', group)}")
    containers = [
        c
        for c in _of_type(resources, "docker:index/container:Container")
        if any(lab.get("label") == "vllm-aws.model" for lab in c["inputs"].get("labels") or [])
    ]
    for instance in sorted(_of_type(resources, "aws:ec2/instance:Instance"), key=lambda r: r["name"]):
        host = instance["parent"] or instance["name"]
        on_host = sorted(
            (c for c in containers if c["options"].get("deletedWith") == instance["name"]), key=lambda c: c["name"]
        )
        if not on_host:
            continue
        instance_type = str(instance["inputs"].get("instanceType"))
        gpu, count = by_type.get(instance_type, ("GPU", 0))
        lines.append(f"  subgraph {ids('host', host)}[{label(f'host {host}: {instance_type}')}]")
        for container in on_host:
            inputs = container["inputs"]
            ports = "".join(f", port {int(p['external'])}" for p in inputs.get("ports") or [])
            model = next(lab["value"] for lab in inputs["labels"] if lab.get("label") == "vllm-aws.model")
            slot, server = ids("slot", container["name"]), ids("server", container["name"])
            lines.append(f"    {slot}[{label(_gpus(container, gpu, count) + ports)}]")
            docker_name = inputs.get("name", container["name"])
            lines.append(f"    {server}[{label(f'vLLM {model} (container {docker_name})')}]")
            lines.append(f"    {slot} --> {server}")
        lines.append("  end")
    for attachment in sorted(
        _of_type(resources, "aws:lb/targetGroupAttachment:TargetGroupAttachment"), key=lambda r: r["name"]
    ):
        port = attachment["inputs"].get("port")
        for group in _deps(attachment, "targetGroupArn"):
            for instance_name in _deps(attachment, "targetId"):
                for container in containers:
                    published = {int(p["external"]) for p in container["inputs"].get("ports") or []}
                    if container["options"].get("deletedWith") == instance_name and (
                        port is None or int(port) in published
                    ):
                        lines.append(f"  {ids('tg', group)} --> {ids('slot', container['name'])}")
    return "\n".join(lines) + "\n"
