"""The plan report: the stable JSON document of docs/plan-json.md, and its table and markdown views."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from ..catalog import cuda
from ..catalog.hub import COMMIT_SHA
from ..planner.cold_start import HOST_BOOT_SECONDS
from ..planner.cost import HOURS_PER_MONTH
from ..planner.plan import ModelPlan, StackPlan, hosts_for
from ..planner.vllm_args import render_args
from .memory_bar import memory_lines
from .recorded import RecordedResource
from .topology import topology_mermaid

SCHEMA_VERSION = 1


def _money(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _sha(plan: ModelPlan) -> str | None:
    revision = plan.config.revision
    return revision if revision is not None and COMMIT_SHA.fullmatch(revision) else None


def _price_json(plan: ModelPlan) -> dict[str, Any] | None:
    price = plan.price
    if price is None:
        return None
    return {
        "usdPerHour": price.usd_per_hour,
        "market": price.market,
        "region": price.region,
        "asOf": price.source.date,
        "source": price.source.url,
        "stale": price.stale,
        "note": price.note,
    }


def model_json(plan: ModelPlan) -> dict[str, Any]:
    memory = plan.memory
    return {
        "name": plan.config.name,
        "id": plan.config.id,
        "revision": {"configured": plan.configured_revision, "resolvedSha": _sha(plan)},
        "shapeSource": plan.shape_source,
        "instanceType": plan.instance.name,
        "instanceReason": plan.instance_reason,
        "gpu": plan.instance.gpu.name,
        "gpuCount": plan.instance.gpu_count,
        "tensorParallelSize": plan.settings.tensor_parallel_size,
        "replicas": plan.config.replicas,
        "hosts": hosts_for(plan.config),
        "fit": {
            "gpuMemoryGib": round(memory.total_gib, 2),
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
            # The container alone on a new cache (download, load, compile): what the health wait bounds.
            "containerFirstStartSeconds": plan.cold_start.container_first_start_seconds,
            # A stop/start keeps the image and the cache: a boot, then a warm start.
            "hostRestartSeconds": round(HOST_BOOT_SECONDS + plan.cold_start.warm_cache_seconds),
        },
        "cost": {
            "hourlyUsd": _money(plan.hourly_usd),
            "monthlyUsd": _money(None if plan.hourly_usd is None else plan.hourly_usd * HOURS_PER_MONTH),
            "instancePrice": _price_json(plan),
        },
        "vllmArgs": render_args(plan.config, memory.max_model_len),
    }


def resource_json(resource: RecordedResource) -> dict[str, Any]:
    return {
        "type": resource.type,
        "name": resource.name,
        "urn": resource.urn,
        "parent": resource.parent,
        "custom": resource.custom,
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


def image_lines(document: dict[str, Any]) -> list[str]:
    """What the hosts pull, when an image is pinned by digest (``pinImagesByDigest``, or a digest in ``image``)."""
    images = document.get("images", [])
    if all(image["source"] == "tag" for image in images):
        return []
    return [
        f"{image['role']}: {image['pull']} ({_IMAGE_SOURCES[image['source']]})"
        if image["digest"]
        else f"{image['role']}: {image['image']}: digest not resolved ({image['note']}); pulled by tag"
        for image in images
    ]


_IMAGE_SOURCES = {
    "config": "digest from the config",
    "registry": "digest resolved at the registry",
    "cache": "registry unreachable: the last digest resolved",
    "tag": "by tag",
}


def plan_json(
    stack: str,
    plan: StackPlan,
    resources: list[RecordedResource],
    quotas: list[dict[str, Any]] | None = None,
    program_warnings: Sequence[str] = (),
) -> dict[str, Any]:
    """``quotas`` is the program's ``quotas`` stack output (``components.quotas.needs.needs_json``);
    ``program_warnings`` what the program logged (e.g. a vCPU quota AWS does not document), beside the planner's."""
    warnings = [*plan.warnings]
    for model in plan.models:
        warnings.extend(model.warnings)
    warnings += [warning for warning in dict.fromkeys(program_warnings) if warning not in warnings]
    return {
        "schemaVersion": SCHEMA_VERSION,
        "stack": stack,
        "region": plan.config.region,
        "image": plan.config.image,
        "nvidiaDriver": driver_json(plan.config.image),
        "images": [
            {
                "role": pin.role,
                "image": pin.image,
                "digest": pin.digest,
                "pull": pin.pull,
                "source": pin.source,
                "note": pin.note,
            }
            for pin in plan.images
        ],
        "models": [model_json(m) for m in plan.models],
        "resources": [resource_json(r) for r in sorted(resources, key=lambda r: (r.name, r.type))],
        "cost": {
            "hourlyUsd": _money(plan.hourly_usd),
            "monthlyUsd": _money(plan.monthly_usd),
            "lowerBound": plan.lower_bound,
            "note": _cost_note(plan),
        },
        "quotas": quotas or [],
        "warnings": warnings,
    }


def _cost_note(plan: StackPlan) -> str:
    """The prices' region, markets and dates, and whether the total leaves a model out."""
    dates = sorted({m.price.source.date or "an unknown date" for m in plan.models if m.price is not None})
    markets = sorted({m.price.market for m in plan.models if m.price is not None})
    note = (
        f"{'/'.join(markets) or 'no'} instance prices in {plan.config.region} as of {', '.join(dates) or 'n/a'}; "
        "EBS, load balancer and monitoring at us-east-1 list prices"
    )
    return note + ("; LOWER BOUND: a model without a price is left out" if plan.lower_bound else "")


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


QUOTAS_TITLE = "AWS quotas the stack needs (checked against the account at `pulumi preview`)"
QUOTA_HEADERS = ["quota", "code", "for", "needed", "AWS default"]


def _quota_rows(document: dict[str, Any]) -> list[list[str]]:
    return [
        [
            q["quota"],
            q["code"] or "fixed",
            q["scope"],
            f"{q['needed']:,}" + (" vCPUs" if q["unit"] == "vCPUs" else ""),
            f"{q['awsDefault']:,}",
        ]
        for q in document["quotas"]
    ]


def _model_source(model: dict[str, Any]) -> str:
    """Which commit is served and where the shape was read."""
    revision = model["revision"]
    configured = revision["configured"] or "default branch"
    served = (
        f"serves {model['id']}@{revision['resolvedSha']} ({configured})"
        if revision["resolvedSha"]
        else f"serves {model['id']} at {configured} (not resolved to a commit: the Hub was not read)"
    )
    return f"{served}; shape from {model['shapeSource']}"


def render_table(document: dict[str, Any]) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=160, color_system=None, highlight=False)
    table = Table(title=f"vllm-aws plan: stack {document['stack']} ({document['region']}, {document['image']})")
    for header in _HEADERS:
        table.add_column(header, overflow="fold")
    for row in _model_rows(document):
        table.add_row(*row)
    console.print(table)
    for line in memory_lines(document):
        console.print(line)
    cost = document["cost"]
    console.print(
        f"Total: {_fmt_money(cost['hourlyUsd'])}/hour, {_fmt_money(cost['monthlyUsd'])}/month "
        f"(GPU hosts, EBS, load balancer, monitoring; {cost['note']})"
    )
    if (note := _driver_note(document)) is not None:
        console.print(note)
    for line in image_lines(document):
        console.print(f"  image {line}")
    for m in document["models"]:
        console.print(f"  {m['name']}: {m['instanceType']}: {m['instanceReason']}")
        console.print(f"  {m['name']}: {_model_source(m)}")
    if document.get("quotas"):
        quotas = Table(title=QUOTAS_TITLE)
        for header in QUOTA_HEADERS:
            quotas.add_column(header)
        for row in _quota_rows(document):
            quotas.add_row(*row)
        console.print(quotas)
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
    if images := image_lines(document):
        lines += ["**Images**", "", *[f"- {line}" for line in images], ""]
    for m in document["models"]:
        lines += [f"- `{m['name']}` on `{m['instanceType']}`: {m['instanceReason']}", f"  - {_model_source(m)}"]
    if document.get("quotas"):
        lines += ["", f"**{QUOTAS_TITLE}**", "", "| " + " | ".join(QUOTA_HEADERS) + " |", "|" + "---|" * 5]
        lines += ["| " + " | ".join(row) + " |" for row in _quota_rows(document)]
    if document["warnings"]:
        lines += ["", "**Warnings**", ""] + [f"- :warning: {w}" for w in document["warnings"]]
    lines += ["", "**Topology**", "", "```mermaid", topology_mermaid(document).rstrip("\n"), "```"]
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
