"""Write what the hosts will run, so the real consuming tools can check it (``python -m components render``)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from ..host.bootstrap import bootstrap_script, mount_cache_script
from ..planner.plan import StackPlan
from ..planner.vllm_args import render_args
from .recorded import RecordedResource


def write_artifacts(plan: StackPlan, resources: list[RecordedResource], out: Path) -> list[Path]:
    """Write every artifact under ``out`` and return the paths written, in order.

    ``resources`` come from running the program offline, so each host's user-data is exactly what the
    instance receives (with offline placeholder ids for the volume and key).
    """
    written: list[Path] = []

    def write(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)

    for model in plan.models:
        args = render_args(model.config, model.memory.max_model_len)
        write(out / "vllm" / f"{model.config.name}.args.json", json.dumps(args, indent=2) + "\n")
        write(out / "vllm" / f"{model.config.name}.args.sh", f"vllm serve {shlex.join(args)}\n")
    for resource in sorted(resources, key=lambda r: r.name):
        if resource.type == "aws:ec2/instance:Instance" and resource.parent:
            write(out / "hosts" / resource.parent / "user-data.yaml", str(resource.inputs["userData"]))
        if resource.type == "docker:index/container:Container":
            # Files uploaded into containers (Prometheus config and rules, Grafana provisioning and
            # dashboards, the vLLM entrypoint), at their in-container paths under the resource's name.
            for upload in resource.inputs.get("uploads", []):
                if isinstance(upload, dict) and isinstance(upload.get("content"), str):
                    write(out / "containers" / resource.name / upload["file"].lstrip("/"), upload["content"])
    write(out / "bootstrap" / "bootstrap.sh", bootstrap_script())
    write(out / "bootstrap" / "mount-cache.sh", mount_cache_script())
    return written
