"""VllmServer containers and host exporters as the real program registers them (mocks), both stacks."""

from __future__ import annotations

import json

import pytest
from stack_runs import PROJECT_DIR, named, of_type, run_stack, stack_raw

from components.config import parse_stack_config
from components.observability import DCGM_COUNTERS_PATH, render_dcgm_counters
from components.planner import plan_stack
from components.planner.vllm_args import render_args

CONTAINER = "docker:index/container:Container"
IMAGE = "docker:index/remoteImage:RemoteImage"


def vllm_containers(run):  # type: ignore[no-untyped-def]
    return [c for c in of_type(run, CONTAINER) if c.name.endswith("-container")]


@pytest.mark.parametrize(("stack", "count"), [("dev", 1), ("prod", 3)])
def test_every_replica_runs_one_server_with_the_planned_arguments(stack: str, count: int) -> None:
    run = run_stack(stack)
    servers = vllm_containers(run)
    assert len(servers) == count
    raw, _ = stack_raw(stack)
    plan = plan_stack(parse_stack_config(raw))
    expected = {m.config.name: render_args(m.config, m.memory.max_model_len) for m in plan.models}
    for server in servers:
        model = server.inputs["name"].removeprefix("vllm-").rsplit("-", 1)[0]
        # The planned arguments, then the drain: the ALB deregistration delay (idle timeout 600 s in both stacks).
        assert server.inputs["command"] == [*expected[model], "--shutdown-timeout", "600"]
        assert server.inputs["entrypoints"] == ["/usr/local/bin/vllm-aws-entrypoint"]


def test_server_container_shape() -> None:
    run = run_stack("prod")
    (server,) = [c for c in vllm_containers(run) if c.parent == "qwen-72b-0-vllm-0"]
    inputs = server.inputs
    assert inputs["deviceRequests"] == [{"driver": "nvidia", "capabilities": ["gpu"], "count": -1}]
    assert inputs["ipcMode"] == "host"
    assert {"name": "memlock", "soft": -1, "hard": -1} in inputs["ulimits"]
    assert inputs["restart"] == "unless-stopped"
    assert inputs["logDriver"] == "json-file" and inputs["logOpts"]["max-size"] == "100m"
    assert inputs["ports"] == [{"internal": 8000, "external": 8000, "ip": "0.0.0.0", "protocol": "tcp"}] or inputs[
        "ports"
    ] == [{"internal": 8000, "external": 8000}]
    mounts = {m["target"]: m for m in inputs["mounts"]}
    assert mounts["/opt/vllm-cache"]["source"] == "/opt/vllm-cache" and not mounts["/opt/vllm-cache"].get("readOnly")
    assert mounts["/run/vllm-aws/secrets"] == {
        "type": "bind",
        "source": "/etc/vllm-aws/secrets",
        "target": "/run/vllm-aws/secrets",
        "readOnly": True,
    }
    envs = dict(e.split("=", 1) for e in inputs["envs"])
    assert envs["HF_HOME"] == "/opt/vllm-cache/huggingface" and envs["VLLM_CACHE_ROOT"] == "/opt/vllm-cache/vllm"
    assert envs["VLLM_NO_USAGE_STATS"] == "1"
    assert "HF_TOKEN" not in envs and "VLLM_API_KEY" not in envs  # from the root-only files, never Pulumi state
    assert envs["ENTRYPOINT_SECRETS_DIR"] == "/run/vllm-aws/secrets"  # where the entrypoint reads them


def test_healthcheck_start_period_comes_from_the_planned_cold_start() -> None:
    run = run_stack("prod")
    raw, _ = stack_raw("prod")
    plan = {m.config.name: m for m in plan_stack(parse_stack_config(raw)).models}
    for server in vllm_containers(run):
        model = plan[server.inputs["name"].removeprefix("vllm-").rsplit("-", 1)[0]]
        check = server.inputs["healthcheck"]
        period = int(check["startPeriod"].removesuffix("s"))
        assert period >= model.cold_start.container_first_start_seconds * 1.5
        assert check["tests"][0] == "CMD" and "/health" in check["tests"][-1]


def test_containers_follow_their_host_and_never_outlive_it() -> None:
    run = run_stack("dev")
    (server,) = vllm_containers(run)
    assert server.options["provider"] == "qwen-7b-0-docker"
    assert "qwen-7b-0-ready" in server.options["dependsOn"]
    assert server.options["deletedWith"] == "qwen-7b-0-instance"
    assert server.options["replacementTrigger"] is not None
    (provider,) = [r for r in run.resources if r.name == "qwen-7b-0-docker"]
    assert provider.inputs["disableDockerDaemonCheck"] == "true"
    assert "ProxyCommand=aws ssm start-session" in provider.inputs["sshOpts"]
    assert provider.inputs["host"].startswith("ssh://ubuntu@i-")


def test_images_are_pinned_and_kept_on_the_host() -> None:
    run = run_stack("prod")
    images = {i.inputs["name"] for i in of_type(run, IMAGE)}
    assert "vllm/vllm-openai:v0.33.0" in images
    assert all(":latest" not in name and ":" in name for name in images)
    assert all(i.inputs["keepLocally"] is True for i in of_type(run, IMAGE))


def test_several_servers_per_host_are_pinned_to_their_gpus_and_ports() -> None:
    model = {
        "name": "qwen-small",
        "id": "Qwen/Qwen2.5-1.5B-Instruct",
        "instanceType": "g6.12xlarge",
        "replicas": 4,
        "replicasPerHost": 4,
        "maxModelLen": 8192,
    }
    run = run_stack("dev", models=[model])
    assert len(of_type(run, "aws:ec2/instance:Instance")) == 1
    servers = sorted(vllm_containers(run), key=lambda s: s.name)
    assert [s.inputs["deviceRequests"][0]["deviceIds"] for s in servers] == [["0"], ["1"], ["2"], ["3"]]
    assert [s.inputs["ports"][0]["external"] for s in servers] == [8000, 8001, 8002, 8003]


def test_custom_image_is_built_on_the_host_from_the_pinned_base(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(PROJECT_DIR)  # Pulumi runs programs from the project directory
    run = run_stack("dev", imageBuild={"context": "docker/custom-vllm"})
    (image,) = [i for i in of_type(run, IMAGE) if "vllm-0" in i.name]
    assert image.inputs["name"].startswith("vllm-aws-custom:")
    assert image.inputs["build"]["buildArgs"] == {"VLLM_IMAGE": "vllm/vllm-openai:v0.33.0"}
    assert image.inputs["build"]["context"] == "docker/custom-vllm"


def test_every_gpu_host_runs_node_and_dcgm_exporters() -> None:
    run = run_stack("prod")
    names = {c.inputs["name"] for c in of_type(run, CONTAINER) if c.parent and c.parent.endswith("-exporters")}
    assert names == {"node-exporter", "dcgm-exporter"}
    exporters = [c for c in of_type(run, CONTAINER) if c.inputs["name"] == "dcgm-exporter"]
    assert len(exporters) == 3
    assert json.dumps(exporters[0].inputs["ports"]).count("9400") == 2


def test_dcgm_exporter_reads_the_uploaded_counters_file() -> None:
    run = run_stack("prod")
    exporters = [c for c in of_type(run, CONTAINER) if c.inputs["name"] == "dcgm-exporter"]
    assert len(exporters) == 3
    for exporter in exporters:
        [upload] = exporter.inputs["uploads"]
        assert upload["content"] == render_dcgm_counters()
        assert "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL, counter" in upload["content"]
        assert exporter.inputs["command"] == ["-f", upload["file"]]
        assert upload["file"] == DCGM_COUNTERS_PATH == "/etc/dcgm-exporter/vllm-aws-counters.csv"


def test_replicas_roll_and_register_only_once_healthy() -> None:
    run = run_stack("prod")

    def depends(name: str) -> list[str]:
        return list(named(run, name).options.get("dependsOn") or [])

    # Replica 1's host and server go only once replica 0's server passed its health wait (rolling changes).
    assert "qwen-8b-0-vllm-0-health" in depends("qwen-8b-1-instance")
    assert "qwen-8b-0-vllm-0-health" in depends("qwen-8b-1-vllm-0-container")
    assert not any(d.endswith("-health") for d in depends("qwen-8b-0-instance"))
    assert not any(d.endswith("-health") for d in depends("qwen-72b-0-instance"))  # models never wait for each other
    # A target joins its group only once healthy: the ALB never fails open onto a loading server.
    assert "qwen-8b-1-vllm-0-health" in depends("qwen-8b-endpoint-qwen-8b-1-vllm-0-attach")
