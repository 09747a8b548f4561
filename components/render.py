"""Write what the hosts will run, so the real consuming tools can check it (``python -m components render``)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from components.sizing import StackPlan
from components.vllm_args import render_args


def write_artifacts(plan: StackPlan, out: Path) -> list[Path]:
    """Write every artifact under ``out`` and return the paths written, in order."""
    written: list[Path] = []
    vllm_dir = out / "vllm"
    vllm_dir.mkdir(parents=True, exist_ok=True)
    for model in plan.models:
        args = render_args(model.config, model.memory.max_model_len)
        json_path = vllm_dir / f"{model.config.name}.args.json"
        json_path.write_text(json.dumps(args, indent=2) + "\n", encoding="utf-8")
        shell_path = vllm_dir / f"{model.config.name}.args.sh"
        shell_path.write_text(f"vllm serve {shlex.join(args)}\n", encoding="utf-8")
        written += [json_path, shell_path]
    return written
