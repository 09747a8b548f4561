"""The ``plan --compare`` views: the PR comment (markdown) and the same content for a terminal.

Blockers come first and loud, then outages and disruptions, then cost and capacity; details are collapsed.
"""

from __future__ import annotations

from typing import Any

COMMENT_MARKER = "<!-- vllm-aws-plan -->"


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.2f}"


def _signed_money(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{'+' if value > 0 else '−' if value < 0 else '±'}${abs(value):,.2f}"


def _minutes(seconds: float | None) -> str:
    return "?" if seconds is None else f"~{seconds / 60:.0f} min" if seconds >= 90 else f"~{seconds:.0f} s"


def _fmt_capacity(view: dict[str, Any] | None) -> str:
    if view is None:
        return "—"
    return (
        f"{view['replicas']}× {view['instanceType']} (TP {view['tensorParallelSize']}), "
        f"{view['kvCacheTokens']:,} KV tokens, {view['maxConcurrency']:.1f}× @ {view['maxModelLen']:,}"
    )


def _blockers(diff: dict[str, Any]) -> list[str]:
    blockers = diff.get("blockers") or []
    if not blockers:
        return [":white_check_mark: **No blockers**: the simulated `pulumi up` runs every step.", ""]
    lines = [
        f":no_entry: **{len(blockers)} BLOCKER(S): this change would fail at `pulumi up` or leave the stack "
        "broken.** Fix these before merging:",
        "",
    ]
    for blocker in blockers:
        lines.append(f"- **`{blocker['resource']}`** (`{blocker['type']}`): {blocker['reason']}")
        if blocker.get("fix"):
            lines.append(f"  - Fix: {blocker['fix']}")
        lines.append(f"  - Source: {blocker['source']}")
    lines.append("")
    return lines


def _service(diff: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for entry in diff.get("availability") or []:
        down = (
            f"{entry['replicasDown']} of {entry['replicas']} replica(s) down at once "
            f"for {_minutes(entry['downtimeSeconds'])}"
        )
        if entry["outage"]:
            lines.append(f":rotating_light: **OUTAGE: `{entry['model']}`**: {down}. Fix: {entry['fix']}.")
        else:
            lines.append(f":warning: `{entry['model']}`: {down}; the other replicas keep serving.")
    kinds = {
        "host-replaced": "replaced (cold start on a new host)",
        "host-stopped-started": "stopped and started",
        "server-restarted": "vLLM server restarted (warm cache)",
    }
    entries = diff.get("disruptions") or []
    if entries:
        lines += ["", "| host | model | what happens | down for | because |", "|---|---|---|---|---|"]
        for entry in entries:
            lines.append(
                f"| `{entry['host']}` | {entry['model'] or '—'} | {kinds.get(entry['kind'], entry['kind'])} "
                f"| {_minutes(entry['downtimeSeconds']) if entry['model'] else '—'} | {', '.join(entry['cause'])} |"
            )
    return [*lines, ""] if lines else []


def render_diff_markdown(diff: dict[str, Any]) -> str:
    """The PR comment: blockers first, outages and disruptions loud, details collapsed."""
    resources = diff["resources"]
    cost = diff["cost"]
    counts = (
        f"+{len(resources['added'])} added, −{len(resources['removed'])} removed, "
        f"{len(resources['replaced'])} replaced, {len(resources['changed'])} changed"
    )
    lines = [COMMENT_MARKER, f"### vllm-aws plan diff: `{diff['stack']}`", "", *_blockers(diff), *_service(diff)]
    lines += [
        "| | before | after | change |",
        "|---|---|---|---|",
        f"| $/hour | {_money(cost['old']['hourlyUsd'])} | {_money(cost['new']['hourlyUsd'])} "
        f"| {_signed_money(cost['delta']['hourlyUsd'])} |",
        f"| $/month | {_money(cost['old']['monthlyUsd'])} | {_money(cost['new']['monthlyUsd'])} "
        f"| {_signed_money(cost['delta']['monthlyUsd'])} |",
        f"| resources | | | {counts} |",
        "",
    ]
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
    lines += [f"> {note}" for note in diff.get("notes") or []]
    if diff.get("notes"):
        lines.append("")

    def details(title: str, entries: list[dict[str, Any]], extra: str) -> None:
        if not entries:
            return
        lines.extend([f"<details><summary>{title} ({len(entries)})</summary>", ""])
        for entry in entries:
            note = f" — {', '.join(entry[extra])}" if extra in entry else ""
            mode = f" ({entry['mode']})" if "mode" in entry else ""
            effect = " (stop and start)" if entry.get("effect") == "stop-start" else ""
            lines.append(f"- `{entry['name']}` `{entry['type']}`{mode}{effect}{note}")
        lines.extend(["", "</details>", ""])

    details("Replaced", resources["replaced"], "reasons")
    details("Re-created under a new URN (no alias)", resources.get("recreated") or [], "")
    details("Added", resources["added"], "")
    details("Removed", resources["removed"], "")
    details("Changed in place", resources["changed"], "fields")
    steps = diff.get("steps") or []
    if steps:
        lines.extend([f"<details><summary>Engine steps, in order ({len(steps)})</summary>", ""])
        for step in steps:
            if step["phase"] == "delete":
                when = f" — delete phase, round {step['round'] + 1}"
            elif step["at"] != step["name"]:
                when = f" — when `{step['at']}` registers"
            else:
                when = ""
            skipped = f" (provider delete skipped: {step['skipped']})" if step.get("skipped") else ""
            lines.append(f"1. {step['op']} `{step['name']}`{when}{skipped}")
        lines.extend(["", "</details>", ""])
    lines += [
        "<sub>Offline plan (no cloud access): "
        + " ".join(diff["previewOnly"])
        + " The Pulumi preview comment is authoritative for what AWS holds today.</sub>",
        "",
    ]
    return "\n".join(lines)


def render_diff_text(diff: dict[str, Any]) -> str:
    """The same content as the PR comment, for a terminal (no HTML)."""
    markdown = render_diff_markdown(diff)
    return "\n".join(line for line in markdown.splitlines() if not line.startswith(("<!--", "<details", "</details")))
