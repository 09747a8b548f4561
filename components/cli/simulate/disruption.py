"""Who loses service during the simulated ``pulumi up``: per host, per vLLM server, and per model.

Hosts are the EC2 instances, tagged with the model they serve; a host's vLLM servers are the containers
labelled with their model that run through the host's Docker provider (or are deleted with the host). Nothing
orders one replica's host after another's, so the engine disrupts them all at once (its steps run in parallel
as soon as their own dependencies are done): a model whose every replica is disrupted is an outage.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._naming import MODEL_TAG, SERVER_MODEL_LABEL
from .engine import DBR, EngineRun
from .plan_model import Resource
from .provider_rules import CONTAINER, INSTANCE
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


def disruptions(run: EngineRun, models: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Host replaced, host stopped and started, vLLM server restarted: one entry each, with its downtime."""
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
                    "host": _host_name(run.new[host]),
                    "model": model,
                    "replicas": 1,
                    "downtimeSeconds": cold.get("warmCacheSeconds"),
                    "cause": list(decision.reasons),
                }
            )
    return out


def availability(entries: list[dict[str, Any]], models: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per model: replicas down at once and for how long; every replica down is an outage."""
    out = []
    for name, model in sorted(models.items()):
        down = [e for e in entries if e["model"] == name and (e["downtimeSeconds"] or 0) > 0]
        if not down:
            continue
        replicas = int(model.get("replicas") or 1)
        replicas_down = min(replicas, sum(e["replicas"] for e in down))
        outage = replicas_down >= replicas
        entry: dict[str, Any] = {
            "model": name,
            "replicas": replicas,
            "replicasDown": replicas_down,
            "downtimeSeconds": max(e["downtimeSeconds"] or 0 for e in down),
            "outage": outage,
            "fix": None,
        }
        if outage:
            entry["fix"] = (
                "run at least 2 replicas, and change them one host at a time"
                if replicas == 1
                else f"all {replicas} replicas are disrupted by this one `pulumi up` (nothing orders them): roll it "
                "out one host at a time (`pulumi up --target <host instance URN> --target-dependents`, waiting for "
                "/health in between), or add replicas that this change does not touch"
            )
        out.append(entry)
    return out
