"""The ``plan --compare`` story, once: ordered sections that the PR comment and the terminal both render.

Blockers and outages first, then disruptions per host, cost and capacity, new warnings, then the resources by
what happens to them and the engine's steps. Text is inline markdown (`code`, **bold**, :emoji:); each renderer
turns it into its own medium, so the two cannot tell different stories.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]


@dataclass(frozen=True)
class Item:
    text: str
    details: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Section:
    """``heading`` with ``count`` items (``None`` for a banner); ``collapsed`` sections fold in the PR comment."""

    heading: str | None
    lead: list[str] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    table: Table | None = None
    collapsed: bool = False
    numbered: bool = False
    count: int | None = None


def money(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.2f}"


def signed_money(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{'+' if value > 0 else '−' if value < 0 else '±'}${abs(value):,.2f}"


def minutes(seconds: float | None) -> str:
    return "?" if seconds is None else f"~{seconds / 60:.0f} min" if seconds >= 90 else f"~{seconds:.0f} s"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def placement(view: dict[str, Any]) -> str:
    """Replicas and hosts named as such: "2 replicas (TP 2 each) on 1 g6e.12xlarge host"."""
    tp = f"TP {view['tensorParallelSize']}" + (" each" if view["replicas"] != 1 else "")
    hosts = view.get("hosts")
    on = f"{plural(hosts, view['instanceType'] + ' host')}" if isinstance(hosts, int) else view["instanceType"]
    return f"{plural(view['replicas'], 'replica')} ({tp}) on {on}"


def capacity(view: dict[str, Any] | None) -> str:
    if view is None:
        return "—"
    return (
        f"{placement(view)}, {view['kvCacheTokens']:,} KV tokens per replica, "
        f"{view['maxConcurrency']:.1f}× @ {view['maxModelLen']:,}"
    )


def _blockers(diff: dict[str, Any]) -> Section:
    blockers = diff.get("blockers") or []
    if not blockers:
        return Section(None, [":white_check_mark: **No blockers**: the simulated `pulumi up` runs every step."])
    items = [
        Item(
            f"**`{b['resource']}`** (`{b['type']}`): {b['reason']}",
            [*([f"Fix: {b['fix']}"] if b.get("fix") else []), f"Source: {b['source']}"],
        )
        for b in blockers
    ]
    banner = (
        f":no_entry: **{len(blockers)} BLOCKER(S): this change would fail at `pulumi up` or leave the stack "
        "broken.** Fix these before merging:"
    )
    return Section(None, [banner], items, count=len(blockers))


def _availability(diff: dict[str, Any]) -> Section | None:
    entries = diff.get("availability") or []
    if not entries:
        return None
    lead = []
    for entry in entries:
        down = (
            f"{entry['replicasDown']} of {plural(entry['replicas'], 'replica')} down at once "
            f"for {minutes(entry['downtimeSeconds'])}"
        )
        if entry["outage"]:
            lead.append(f":rotating_light: **OUTAGE: `{entry['model']}`**: {down}. Fix: {entry['fix']}.")
        elif entry.get("rolling"):
            order = " → ".join(f"`{key}`" for key in entry["order"])
            lead.append(
                f":warning: `{entry['model']}`: {down}, rolling ({order}, each healthy before the next goes): "
                f"reduced capacity for {minutes(entry['reducedCapacitySeconds'])}."
            )
        else:
            lead.append(f":warning: `{entry['model']}`: {down}; the other replicas keep serving.")
    return Section(None, lead)


_DISRUPTION_KINDS = {
    "host-replaced": "replaced (cold start on a new host)",
    "host-stopped-started": "stopped and started",
    "server-restarted": "vLLM server restarted (warm cache)",
}


def _disruptions(diff: dict[str, Any]) -> Section | None:
    entries = diff.get("disruptions") or []
    if not entries:
        return None
    rows = [
        (
            f"`{e['host']}`",
            e["model"] or "—",
            _DISRUPTION_KINDS.get(e["kind"], e["kind"]),
            minutes(e["downtimeSeconds"]) if e["model"] else "—",
            ", ".join(e["cause"]),
        )
        for e in entries
    ]
    table = Table(("host", "model", "what happens", "down for", "because"), rows)
    return Section("Hosts disrupted", table=table, count=len(rows))


def resource_counts(resources: dict[str, Any]) -> str:
    counts = (
        f"+{len(resources['added'])} added, −{len(resources['removed'])} removed, "
        f"{len(resources['replaced'])} replaced, {len(resources['changed'])} changed in place"
    )
    recreated = len(resources.get("recreated") or [])
    return counts + (f", {recreated} re-created" if recreated else "")


def _cost(diff: dict[str, Any]) -> Section:
    cost = diff["cost"]
    rows = [
        (
            f"$/{period}",
            money(cost["old"][f"{period}lyUsd"]),
            money(cost["new"][f"{period}lyUsd"]),
            signed_money(cost["delta"][f"{period}lyUsd"]),
        )
        for period in ("hour", "month")
    ]
    rows.append(("resources", "", "", resource_counts(diff["resources"])))
    return Section(None, table=Table(("", "before", "after", "change"), rows))


def _capacity(diff: dict[str, Any]) -> Section:
    changed = [c for c in diff["capacity"] if c["status"] != "same"]
    if not changed:
        return Section(None, ["Capacity: unchanged."])
    rows = []
    for entry in changed:
        after = capacity(entry["new"])
        kv = entry["delta"].get("kvCacheTokens")
        if kv:
            after += f" (KV {'+' if kv > 0 else ''}{kv:,})"
        rows.append((f"`{entry['model']}` ({entry['status']})", capacity(entry["old"]), after))
    return Section("Capacity", table=Table(("model", "before", "after"), rows), count=len(rows))


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{round(value)} s"


def _cold_start_check(diff: dict[str, Any]) -> Section | None:
    rows = []
    for model in diff.get("coldStartCheck") or []:
        predicted = model["predicted"]
        first, warm = predicted.get("containerFirstStartSeconds"), predicted.get("warmCacheSeconds")
        for server in model["measured"]:
            rows.append(
                (
                    f"`{server['server']}`",
                    f"{_seconds(server['readySeconds'])} (first start {_seconds(first)}, warm {_seconds(warm)})",
                    f"{_seconds(server['hostBootSeconds'])} ({_seconds(predicted.get('hostBootSeconds'))})",
                    _seconds(server["weightsSeconds"]),
                )
            )
    if not rows:
        return None
    headers = ("server", "to healthy: measured (predicted)", "host boot: measured (predicted)", "weight read")
    return Section("Cold start, predicted vs measured", table=Table(headers, rows), count=len(rows))


def _resources(title: str, entries: list[dict[str, Any]], extra: str) -> Section | None:
    if not entries:
        return None
    items = []
    for entry in entries:
        note = f" — {', '.join(entry[extra])}" if extra in entry else ""
        mode = f" ({entry['mode']})" if "mode" in entry else ""
        effect = " (stop and start)" if entry.get("effect") == "stop-start" else ""
        items.append(Item(f"`{entry['name']}` `{entry['type']}`{mode}{effect}{note}"))
    return Section(title, items=items, collapsed=True, count=len(items))


def _steps(diff: dict[str, Any]) -> Section | None:
    steps = diff.get("steps") or []
    if not steps:
        return None
    items = []
    for step in steps:
        if step["phase"] == "delete":
            when = f" — delete phase, round {step['round'] + 1}"
        elif step["at"] != step["name"]:
            when = f" — when `{step['at']}` registers"
        else:
            when = ""
        skipped = f" (provider delete skipped: {step['skipped']})" if step.get("skipped") else ""
        items.append(Item(f"{step['op']} `{step['name']}`{when}{skipped}"))
    return Section("Engine steps, in order", items=items, collapsed=True, numbered=True, count=len(items))


def diff_sections(diff: dict[str, Any]) -> list[Section]:
    resources = diff["resources"]
    warnings = diff["warnings"]["new"]
    sections: list[Section | None] = [
        _blockers(diff),
        _availability(diff),
        _disruptions(diff),
        _cost(diff),
        _capacity(diff),
        _cold_start_check(diff),
        Section(None, [f":arrows_counterclockwise: {m['message']}" for m in diff["upstreamMoved"]])
        if diff.get("upstreamMoved")
        else None,
        Section("New warnings", items=[Item(f":warning: {w}") for w in warnings], count=len(warnings))
        if warnings
        else None,
        Section(None, [f"> {note}" for note in diff["notes"]]) if diff.get("notes") else None,
        _resources("Replaced", resources["replaced"], "reasons"),
        _resources("Re-created under a new URN (no alias)", resources.get("recreated") or [], ""),
        _resources("Added", resources["added"], ""),
        _resources("Removed", resources["removed"], ""),
        _resources("Changed in place", resources["changed"], "fields"),
        _steps(diff),
    ]
    return [s for s in sections if s is not None]


def footer(diff: dict[str, Any]) -> str:
    return (
        "Offline plan (no cloud access): "
        + " ".join(diff["previewOnly"])
        + " The Pulumi preview comment is authoritative for what AWS holds today."
    )
