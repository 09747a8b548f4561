"""Predicted vs measured cold starts: the deployed plan's ``coldStart`` beside what each server's health wait
measured (the stack output ``serverReadiness``, from ``pulumi stack output --json``), so the model in
components.planner.cold_start can be checked and corrected from real runs.

What a health wait measures: ``readySeconds`` from the container's start to its first /health 200 (a first start
on a new host downloads the weights: compare it with ``containerFirstStartSeconds``; a restart on a warm cache
with ``warmCacheSeconds``), ``hostBootSeconds`` from kernel boot to the end of the bootstrap (the bootstrap log's
``phase=ready``; predicted: the planner's host boot), ``weightsSeconds`` vLLM's own "Loading weights took".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..planner.cold_start import HOST_BOOT_SECONDS
from ..serving.health_wait import parse_readiness

OUTPUT_KEY = "serverReadiness"
_MEASURED = ("readySeconds", "hostBootSeconds", "weightsSeconds")


def read_outputs(path: Path) -> dict[str, Any]:
    """The JSON `pulumi stack output --json` printed; a bad file is bad input (exit 2), naming the fix."""
    fix = f"pass the file `pulumi stack output --json > outputs.json` wrote (it has `{OUTPUT_KEY}` once deployed)"
    try:
        outputs = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError.single(str(path), None, f"is not readable stack outputs JSON ({exc})", fix) from None
    if not isinstance(outputs, dict) or not isinstance(outputs.get(OUTPUT_KEY), dict):
        raise ConfigError.single(str(path), None, f"has no `{OUTPUT_KEY}` object", fix)
    return outputs


def cold_start_check(deployed: Mapping[str, Any], outputs: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Per deployed model: the prediction and every server's measurement (null where the wait printed none)."""
    if outputs is None:
        return []
    readiness: Mapping[str, Any] = outputs.get(OUTPUT_KEY) or {}
    out = []
    for model in deployed.get("models") or []:
        servers: Mapping[str, Any] = readiness.get(model["name"]) or {}
        measured = []
        for server, stdout in sorted(servers.items()):
            values = parse_readiness(stdout) if isinstance(stdout, str) else None
            measured.append({"server": server, **{key: (values or {}).get(key) for key in _MEASURED}})
        predicted = {**model["coldStart"], "hostBootSeconds": HOST_BOOT_SECONDS}
        ready = [m["readySeconds"] for m in measured if isinstance(m["readySeconds"], int | float)]
        first_start = predicted.get("containerFirstStartSeconds")
        out.append(
            {
                "model": model["name"],
                "predicted": predicted,
                "measured": measured,
                # > 1: slower than the first-start prediction (the health wait allows READY_MARGIN times it).
                "readyVsFirstStart": round(max(ready) / first_start, 2) if ready and first_start else None,
            }
        )
    return out
