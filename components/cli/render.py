"""Write what the hosts will run, so the real consuming tools can check it (``python -m components render``)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path, PurePosixPath

from ..host.bootstrap import bootstrap_script, mount_cache_script
from ..planner.plan import StackPlan
from ..planner.vllm_args import render_args
from .out_dir import replace_contents
from .recorded import RecordedResource


def write_artifacts(plan: StackPlan, resources: list[RecordedResource], out: Path) -> list[Path]:
    """Write every artifact under ``out`` (in place of the last run's) and return the paths written, in order.

    ``resources`` come from running the program offline, so each host's user-data is exactly what the
    instance receives (with offline placeholder ids for the volume and key).
    """
    files: dict[PurePosixPath, str] = {}
    for model in plan.models:
        args = render_args(model.config, model.memory.max_model_len)
        files[PurePosixPath("vllm", f"{model.config.name}.args.json")] = json.dumps(args, indent=2) + "\n"
        files[PurePosixPath("vllm", f"{model.config.name}.args.sh")] = (
            f"#!/bin/sh\n# What the {model.config.name} container runs after its entrypoint.\n"
            f"exec vllm serve {shlex.join(args)}\n"
        )
    for resource in sorted(resources, key=lambda r: r.name):
        if resource.type == "aws:ec2/instance:Instance" and resource.parent:
            files[PurePosixPath("hosts", resource.parent, "user-data.yaml")] = str(resource.inputs["userData"])
        if resource.type == "docker:index/container:Container":
            # Files uploaded into containers (Prometheus config and rules, Grafana provisioning and
            # dashboards, the vLLM entrypoint), at their in-container paths under the resource's name.
            for upload in resource.inputs.get("uploads", []):
                if isinstance(upload, dict) and isinstance(upload.get("content"), str):
                    path = PurePosixPath("containers", resource.name, upload["file"].lstrip("/"))
                    files[path] = upload["content"]
    files[PurePosixPath("bootstrap", "bootstrap.sh")] = bootstrap_script()
    files[PurePosixPath("bootstrap", "mount-cache.sh")] = mount_cache_script()
    return replace_contents(out, files)
