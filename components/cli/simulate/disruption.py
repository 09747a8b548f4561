"""Who loses service during the simulated ``pulumi up``: per host, per vLLM server, and per model.

Hosts are the EC2 instances, tagged with the model they serve; a host's vLLM servers are the containers
labelled with their model that run through the host's Docker provider (or are deleted with the host). Each server
has a health wait: a command that depends on its container and finishes once the server answers /health. A
disruption that depends (transitively) on every health wait of another disruption's servers starts only after
those servers are healthy again (the SDK registers a resource once its dependencies finished, and a replacement
or stop-start runs at registration: PULUMI_ENGINE.md §3/§4): the change rolls. Disruptions that nothing orders
run at once; a model whose every replica is down at once is an outage.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._naming import MODEL_TAG, SERVER_MODEL_LABEL
from .engine import DBR, EngineRun
from .plan_model import Resource
from .provider_rules import CONTAINER, INSTANCE, LOCAL_COMMAND
from .urns import urn_name


def _server_model(container: Resource) -> str | None:
    for label in container.inputs.get("labels") or []:
        if isinstance(label, Mapping) and label.get("label") == SERVER_MODEL_LABEL:
            return str(label.get("value"))
    return None


def _host_of(run: EngineRun, container: Resource) -> str | None:
    if (
        container.deleted_with
        and run.new.get(container.deleted_with, None)
        and run.new[container.deleted_with].type == INSTANCE
    ):
        return container.deleted_with
    provider = run.new.get(container.provider or "")
    if provider is not None:
        return next((u for u in sorted(provider.dependencies) if u in run.new and run.new[u].type == INSTANCE), None)
    return None


def _host_name(instance: Resource) -> str:
    return urn_name(instance.parent) if instance.parent and "::" in instance.parent else instance.name


def _health_waits(run: EngineRun) -> dict[str, set[str]]:
    """Container URN -> the commands that depend on it and run at registration (its health wait). A command with
    only a ``delete`` (a target's drain wait, network.drain) does nothing when it registers: it gates nothing."""
    waits: dict[str, set[str]] = {}
    for urn, resource in run.new.items():
        if resource.type == LOCAL_COMMAND and resource.inputs.get("create"):
            for dependency in resource.dependencies:
                waits.setdefault(dependency, set()).add(urn)
    return waits


def _ancestors(run: EngineRun, urn: str) -> set[str]:
    """Everything ``urn`` waits for before it registers (dependencies, provider, deleted_with; transitively)."""
    seen: set[str] = set()
    stack = [urn]
    while stack:
        resource = run.new.get(stack.pop())
        if resource is None:
            continue
        for edge in resource.edges - {resource.parent}:
            if edge not in seen:
                seen.add(edge)
                stack.append(edge)
    return seen


def disruptions(run: EngineRun, models: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Host replaced, host stopped and started, vLLM server restarted: one entry each, with its downtime and
    ``after``: the earlier entries (by host) whose servers must be healthy before this one starts."""
    servers: dict[str, list[str]] = {}
    for urn, resource in run.new.items():
        if resource.type == CONTAINER and _server_model(resource):
            host = _host_of(run, resource)
            if host:
                servers.setdefault(host, []).append(urn)
    out: list[dict[str, Any]] = []
    disrupted_hosts = set()
    for urn, resource in sorted(run.new.items(), key=lambda item: item[1].name):
        decision = run.decisions[urn]
        if resource.type != INSTANCE or decision.op not in ("replace", "stop-start"):
            continue
        model = (resource.inputs.get("tags") or {}).get(MODEL_TAG)
        cold = (models.get(model or "") or {}).get("coldStart") or {}
        replaced = decision.op == "replace"
        if replaced:
            downtime = cold.get("hostReplacementSeconds") if decision.mode == DBR else 0
        else:
            downtime = cold.get("hostRestartSeconds", cold.get("hostReplacementSeconds"))
        disrupted_hosts.add(urn)
        out.append(
            {
                "kind": "host-replaced" if replaced else "host-stopped-started",
                "urn": urn,
                "servers": sorted(servers.get(urn, [])),
                "host": _host_name(resource),
                "model": model,
                "replicas": len(servers.get(urn, [])) or (1 if model else 0),
                "downtimeSeconds": downtime,
                "cause": list(decision.reasons),
            }
        )
    for host, urns in sorted(servers.items()):
        if host in disrupted_hosts:
            continue
        for urn in sorted(urns):
            decision = run.decisions[urn]
            if decision.op != "replace":
                continue
            model = _server_model(run.new[urn])
            cold = (models.get(model or "") or {}).get("coldStart") or {}
            out.append(
                {
                    "kind": "server-restarted",
                    "urn": urn,
                    "servers": [urn],
                    "host": _host_name(run.new[host]),
                    "model": model,
                    "replicas": 1,
                    "downtimeSeconds": cold.get("warmCacheSeconds"),
                    "cause": list(decision.reasons),
                }
            )
    return _ordered(run, out)


def _ordered(run: EngineRun, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each entry's ``after`` (the entries it waits for), without the internal URNs."""
    waits = _health_waits(run)
    ancestors = {e["urn"]: _ancestors(run, e["urn"]) for e in entries}
    out = []
    for entry in entries:
        after = []
        for other in entries:
            gates = [waits.get(server, set()) for server in other["servers"]]
            if other is not entry and gates and all(g and g <= ancestors[entry["urn"]] for g in gates):
                after.append(other["host"] if other["kind"] != "server-restarted" else _server_key(run, other))
        public = {k: v for k, v in entry.items() if k not in ("urn", "servers")}
        public["after"] = sorted(after)
        if entry["kind"] == "server-restarted":
            public["server"] = _server_key(run, entry)
        out.append(public)
    return out


def _server_key(run: EngineRun, entry: Mapping[str, Any]) -> str:
    container = run.new[entry["urn"]]
    return urn_name(container.parent) if container.parent and "::" in container.parent else container.name


def _id(entry: Mapping[str, Any]) -> str:
    return str(entry.get("server") or entry["host"])


def _ordered_pair(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return _id(a) in b["after"] or _id(b) in a["after"]


def _finish_times(down: list[dict[str, Any]]) -> dict[str, float]:
    """When each disruption ends, from the start of the `pulumi up`: its downtime after those it waits for."""
    by_id = {_id(e): e for e in down}
    finish: dict[str, float] = {}

    def finished(key: str) -> float:
        if key not in finish:
            entry = by_id[key]
            before = [finished(a) for a in entry["after"] if a in by_id]
            finish[key] = (entry["downtimeSeconds"] or 0) + max(before, default=0)
        return finish[key]

    for key in by_id:
        finished(key)
    return finish


def availability(entries: list[dict[str, Any]], models: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per model: replicas down at once, for how long, in which order and how long capacity stays reduced.

    Entries ordered by ``after`` never overlap (the next starts once the previous is healthy); unordered ones
    overlap. Every replica down at once is an outage.
    """
    out = []
    for name, model in sorted(models.items()):
        down = [e for e in entries if e["model"] == name and (e["downtimeSeconds"] or 0) > 0]
        if not down:
            continue
        replicas = int(model.get("replicas") or 1)
        finish = _finish_times(down)
        at_once = max(
            e["replicas"] + sum(o["replicas"] for o in down if o is not e and not _ordered_pair(e, o)) for e in down
        )
        replicas_down = min(replicas, at_once)
        outage = replicas_down >= replicas
        rolling = len(down) > 1 and all(_ordered_pair(a, b) for a in down for b in down if a is not b)
        entry: dict[str, Any] = {
            "model": name,
            "replicas": replicas,
            "replicasDown": replicas_down,
            "downtimeSeconds": max(e["downtimeSeconds"] or 0 for e in down),
            "outage": outage,
            "rolling": rolling,
            "order": sorted(finish, key=lambda key: (finish[key], key)),
            "reducedCapacitySeconds": round(max(finish.values())),
            "fix": None,
        }
        if outage:
            entry["fix"] = (
                "run at least 2 replicas on separate hosts: a change then rolls one at a time"
                if replicas == 1
                else f"all {replicas} replicas go down at once: run them on separate hosts (replicasPerHost: 1) "
                "so a change rolls one host at a time"
            )
        out.append(entry)
    return out
