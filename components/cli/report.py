"""The plan report: the stable JSON document of README "Plan JSON", and its table and markdown views."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.table import Table

from components import catalog, cuda
from components.cli.program import RecordedResource
from components.sizing import HOURS_PER_MONTH, ModelPlan, StackPlan, hosts_for
from components.vllm_args import render_args

SCHEMA_VERSION = 1


def _money(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def model_json(plan: ModelPlan) -> dict[str, Any]:
    memory = plan.memory
    return {
        "name": plan.config.name,
        "id": plan.config.id,
        "instanceType": plan.instance.name,
        "instanceReason": plan.instance_reason,
        "gpu": plan.instance.gpu.name,
        "gpuCount": plan.instance.gpu_count,
        "tensorParallelSize": plan.settings.tensor_parallel_size,
        "replicas": plan.config.replicas,
        "hosts": hosts_for(plan.config),
        "fit": {
            "weightsGib": round(memory.weights_gib, 2),
            "reserveGib": round(memory.reserve_gib, 2),
            "kvCacheGibPerGpu": round(memory.kv_cache_gib, 2),
            "kvCacheTokens": memory.kv_cache_tokens,
            "maxConcurrency": round(memory.max_concurrency, 2),
            "maxModelLen": memory.max_model_len,
        },
        "cacheSizeGib": plan.cache_size_gib,
        "coldStart": {
            "firstBootSeconds": plan.cold_start.first_boot_seconds,
            "warmCacheSeconds": plan.cold_start.warm_cache_seconds,
            "hostReplacementSeconds": plan.cold_start.host_replacement_seconds,
        },
        "cost": {
            "hourlyUsd": _money(plan.hourly_usd),
            "monthlyUsd": _money(None if plan.hourly_usd is None else plan.hourly_usd * HOURS_PER_MONTH),
        },
        "vllmArgs": render_args(plan.config, memory.max_model_len),
    }


def resource_json(resource: RecordedResource) -> dict[str, Any]:
    return {
        "type": resource.type,
        "name": resource.name,
        "parent": resource.parent,
        "inputs": resource.inputs,
        "options": resource.options,
    }


def driver_json(image: str) -> dict[str, str] | None:
    """What every GPU host's NVIDIA driver must be for the image's CUDA; ``None`` when that cannot be told."""
    requirement = cuda.driver_requirement(image)
    return None if requirement is None else {"cuda": requirement.cuda, "minVersion": requirement.min_driver}


def _driver_note(document: dict[str, Any]) -> str | None:
    driver = document.get("nvidiaDriver")
    if driver is None:
        return None
    return (
        f"NVIDIA driver {driver['minVersion']} or newer on every GPU host ({document['image']} is built on "
        f"CUDA {driver['cuda']}; each host checks at boot)"
    )


def plan_json(stack: str, plan: StackPlan, resources: list[RecordedResource]) -> dict[str, Any]:
    warnings = [*plan.warnings]
    for model in plan.models:
        warnings.extend(model.warnings)
    return {
        "schemaVersion": SCHEMA_VERSION,
        "stack": stack,
        "region": plan.config.region,
        "image": plan.config.image,
        "nvidiaDriver": driver_json(plan.config.image),
        "models": [model_json(m) for m in plan.models],
        "resources": [resource_json(r) for r in sorted(resources, key=lambda r: (r.name, r.type))],
        "cost": {
            "hourlyUsd": _money(plan.hourly_usd),
            "monthlyUsd": _money(plan.monthly_usd),
            "note": catalog.price_note(),
        },
        "warnings": warnings,
    }


def _fmt_money(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.2f}"


def _model_rows(document: dict[str, Any]) -> list[list[str]]:
    rows = []
    for m in document["models"]:
        fit, start, cost = m["fit"], m["coldStart"], m["cost"]
        rows.append(
            [
                m["name"],
                f"{m['instanceType']} ({m['gpuCount']}x {m['gpu']})",
                str(m["tensorParallelSize"]),
                str(m["replicas"]),
                f"{fit['weightsGib']:.1f}",
                f"{fit['kvCacheGibPerGpu']:.1f}",
                f"{fit['kvCacheTokens']:,}",
                f"{fit['maxConcurrency']:.1f}x @ {fit['maxModelLen']:,}",
                f"{start['firstBootSeconds'] / 60:.0f} min / {start['warmCacheSeconds'] / 60:.1f} min",
                _fmt_money(cost["hourlyUsd"]),
                _fmt_money(cost["monthlyUsd"]),
            ]
        )
    return rows


_HEADERS = [
    "model",
    "instance",
    "TP",
    "replicas",
    "weights GiB/GPU",
    "KV GiB/GPU",
    "KV tokens",
    "concurrency",
    "cold start (first / warm)",
    "$/hour",
    "$/month",
]


def render_table(document: dict[str, Any]) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=160, color_system=None, highlight=False)
    table = Table(title=f"vllm-aws plan: stack {document['stack']} ({document['region']}, {document['image']})")
    for header in _HEADERS:
        table.add_column(header, overflow="fold")
    for row in _model_rows(document):
        table.add_row(*row)
    console.print(table)
    cost = document["cost"]
    console.print(
        f"Total: {_fmt_money(cost['hourlyUsd'])}/hour, {_fmt_money(cost['monthlyUsd'])}/month "
        f"(GPU hosts, EBS, load balancer, monitoring; {cost['note']})"
    )
    if (note := _driver_note(document)) is not None:
        console.print(note)
    for m in document["models"]:
        console.print(f"  {m['name']}: {m['instanceType']}: {m['instanceReason']}")
    resources = Table(title=f"Resources ({len(document['resources'])})")
    for header in ("type", "name", "parent"):
        resources.add_column(header)
    for r in document["resources"]:
        resources.add_row(r["type"], r["name"], r["parent"] or "")
    console.print(resources)
    for warning in document["warnings"]:
        console.print(f"WARNING: {warning}")
    return buffer.getvalue()


def render_markdown(document: dict[str, Any]) -> str:
    lines = [
        f"### vllm-aws plan: `{document['stack']}` ({document['region']}, `{document['image']}`)",
        "",
        "| " + " | ".join(_HEADERS) + " |",
        "|" + "---|" * len(_HEADERS),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in _model_rows(document)]
    cost = document["cost"]
    lines += [
        "",
        f"**Total: {_fmt_money(cost['hourlyUsd'])}/hour, {_fmt_money(cost['monthlyUsd'])}/month** ({cost['note']})",
        "",
    ]
    if (note := _driver_note(document)) is not None:
        lines += [note, ""]
    lines += [f"- `{m['name']}` on `{m['instanceType']}`: {m['instanceReason']}" for m in document["models"]]
    if document["warnings"]:
        lines += ["", "**Warnings**", ""] + [f"- :warning: {w}" for w in document["warnings"]]
    lines += [
        "",
        f"<details><summary>{len(document['resources'])} resources</summary>",
        "",
        "| type | name | parent |",
        "|---|---|---|",
    ]
    lines += [f"| `{r['type']}` | `{r['name']}` | {r['parent'] or ''} |" for r in document["resources"]]
    lines += ["", "</details>", ""]
    return "\n".join(lines)


# --- plan --compare ---------------------------------------------------------------------------------------

COMMENT_MARKER = "<!-- vllm-aws-plan -->"


def _signed_money(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{'+' if value > 0 else '−' if value < 0 else '±'}${abs(value):,.2f}"


def _signed(value: float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and not value.is_integer():
        return f" ({'+' if value > 0 else ''}{value:,.1f})"
    return f" ({'+' if value > 0 else ''}{int(value):,})" if value else ""


def _fmt_capacity(view: dict[str, Any] | None) -> str:
    if view is None:
        return "—"
    return (
        f"{view['replicas']}× {view['instanceType']} (TP {view['tensorParallelSize']}), "
        f"{view['kvCacheTokens']:,} KV tokens, {view['maxConcurrency']:.1f}× @ {view['maxModelLen']:,}"
    )


def render_diff_markdown(diff: dict[str, Any]) -> str:
    """A compact PR comment: summary table first, disruptions loud, details collapsed."""
    resources = diff["resources"]
    cost = diff["cost"]
    counts = (
        f"+{len(resources['added'])} added, −{len(resources['removed'])} removed, "
        f"{len(resources['replaced'])} replaced, {len(resources['changed'])} changed"
    )
    lines = [
        COMMENT_MARKER,
        f"### vllm-aws plan diff: `{diff['stack']}`",
        "",
        "| | before | after | change |",
        "|---|---|---|---|",
        f"| $/hour | {_fmt_money(cost['old']['hourlyUsd'])} | {_fmt_money(cost['new']['hourlyUsd'])} "
        f"| {_signed_money(cost['delta']['hourlyUsd'])} |",
        f"| $/month | {_fmt_money(cost['old']['monthlyUsd'])} | {_fmt_money(cost['new']['monthlyUsd'])} "
        f"| {_signed_money(cost['delta']['monthlyUsd'])} |",
        f"| resources | | | {counts} |",
        "",
    ]
    hosts = [d for d in diff["disruptions"] if d["kind"] == "host-replaced"]
    restarts = [d for d in diff["disruptions"] if d["kind"] == "server-restarted"]
    if hosts:
        lines.append(
            f":rotating_light: **{len(hosts)} GPU host(s) replaced** — each replica is out of service for its cold "
            "start on a new host:"
        )
        lines += [f"- `{d['host']}` ({d['model']}): ~{d['downtimeSeconds'] / 60:.0f} min predicted" for d in hosts]
        lines.append("")
    if restarts:
        lines.append(f":warning: **{len(restarts)} vLLM server(s) restart** (warm cache):")
        lines += [f"- `{d['host']}` ({d['model']}): ~{d['downtimeSeconds'] / 60:.1f} min" for d in restarts]
        lines.append("")
    changed_models = [c for c in diff["capacity"] if c["status"] != "same"]
    if changed_models:
        lines += ["| model | before | after |", "|---|---|---|"]
        for entry in changed_models:
            after = _fmt_capacity(entry["new"])
            delta = entry["delta"]
            if delta.get("kvCacheTokens"):
                after += f" (KV {'+' if delta['kvCacheTokens'] > 0 else ''}{delta['kvCacheTokens']:,})"
            lines.append(f"| `{entry['model']}` ({entry['status']}) | {_fmt_capacity(entry['old'])} | {after} |")
        lines.append("")
    else:
        lines += ["Capacity: unchanged.", ""]
    if diff["warnings"]["new"]:
        lines += ["**New warnings**", ""] + [f"- :warning: {w}" for w in diff["warnings"]["new"]] + [""]

    def details(title: str, entries: list[dict[str, Any]], extra: str) -> None:
        if not entries:
            return
        lines.extend([f"<details><summary>{title} ({len(entries)})</summary>", ""])
        for entry in entries:
            note = f" — {', '.join(entry[extra])}" if extra in entry else ""
            lines.append(f"- `{entry['name']}` `{entry['type']}`{note}")
        lines.extend(["", "</details>", ""])

    details("Replaced", resources["replaced"], "reasons")
    details("Added", resources["added"], "")
    details("Removed", resources["removed"], "")
    details("Changed in place", resources["changed"], "fields")
    lines += [
        "<sub>Offline plan (no cloud access): "
        + " ".join(diff["previewOnly"])
        + " The Pulumi preview comment is authoritative.</sub>",
        "",
    ]
    return "\n".join(lines)


def render_diff_text(diff: dict[str, Any]) -> str:
    """The same content as the PR comment, for a terminal."""
    markdown = render_diff_markdown(diff)
    return "\n".join(line for line in markdown.splitlines() if not line.startswith(("<!--", "<details", "</details")))
