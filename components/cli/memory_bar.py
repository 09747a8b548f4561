"""Each model's per-GPU memory as a bar the terminal plan shows: weights, reserve, KV cache, free."""

from __future__ import annotations

from typing import Any

SEGMENTS = (("weights", "█"), ("reserve", "▓"), ("KV cache", "▒"), ("free", "░"))


def _widths(values: list[float], width: int) -> list[int]:
    """Character widths proportional to ``values`` that add up to ``width``; a part above zero gets at least one."""
    total = sum(values) or 1.0
    exact = [v / total * width for v in values]
    widths = [max(1, int(x)) if v > 0 else 0 for v, x in zip(values, exact, strict=True)]
    # Largest remainders get the characters still to place; the widest part gives back any excess.
    order = sorted(range(len(values)), key=lambda i: exact[i] - int(exact[i]), reverse=True)
    while sum(widths) < width:
        widths[order.pop(0) if order else widths.index(max(widths))] += 1
    while sum(widths) > width:
        widths[widths.index(max(widths))] -= 1
    return widths


def memory_parts(fit: dict[str, Any]) -> list[tuple[str, float]]:
    """GiB per GPU of each part; free is what the GPU has beyond the other three."""
    used = [fit["weightsGib"], fit["reserveGib"], fit["kvCacheGibPerGpu"]]
    return list(zip((name for name, _ in SEGMENTS), [*used, max(0.0, fit["gpuMemoryGib"] - sum(used))], strict=True))


def memory_bar(fit: dict[str, Any], width: int = 40) -> str:
    parts = memory_parts(fit)
    widths = _widths([gib for _, gib in parts], width)
    return "".join(char * w for (_, char), w in zip(SEGMENTS, widths, strict=True))


def memory_lines(document: dict[str, Any], width: int = 40) -> list[str]:
    """One line per model: the bar, then each part in GiB (legend: █ weights ▓ reserve ▒ KV cache ░ free)."""
    lines = ["Memory per GPU: " + "  ".join(f"{char} {name}" for name, char in SEGMENTS)]
    name_width = max((len(m["name"]) for m in document["models"]), default=0)
    for model in document["models"]:
        fit = model["fit"]
        parts = ", ".join(f"{name} {gib:.1f}" for name, gib in memory_parts(fit))
        lines.append(
            f"  {model['name']:<{name_width}} {memory_bar(fit, width)} {fit['gpuMemoryGib']:.1f} GiB {model['gpu']}: "
            f"{parts} GiB"
        )
    return lines
