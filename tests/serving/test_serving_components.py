"""VllmServer and HostExporters constructed directly under the plan's mock engine, including the paths the shipped
stacks do not take: a custom image built on the host, a server pinned to some of the GPUs, a host without GPUs."""

from __future__ import annotations

from constructs import construct, gpu_host
from stack_runs import named, of_type

from components import HostExporters, HostExportersArgs, ImageBuild, VllmServer, VllmServerArgs
from components.cli.program import Recording
from components.serving.container_spec import SIDECAR_LOG_OPTIONS, VLLM_LOG_OPTIONS, server_slots
from components.serving.vllm_server import HostAccess

CONTAINER = "docker:index/container:Container"
IMAGE = "docker:index/remoteImage:RemoteImage"


def test_a_server_built_on_the_host_and_pinned_to_its_gpus(pulumi_mocks: Recording) -> None:
    slots = server_slots(tensor_parallel_size=2, servers_on_host=2, gpu_count=4)

    def build() -> None:
        host = gpu_host("h", instance_type="g6e.12xlarge")
        access = HostAccess(
            mode="ssm", region="us-east-1", target=host.access_target, ssh_private_key=host.ready, user="ubuntu"
        )
        after: tuple[VllmServer, ...] = ()
        for slot in slots:
            server = VllmServer(
                f"h-vllm-{slot.index}",
                VllmServerArgs(
                    model_name="qwen-8b",
                    image="vllm/vllm-openai:v0.33.0",
                    build=ImageBuild(context="docker/custom-vllm", tag="vllm-aws-custom:0123456789ab"),
                    vllm_args=("Qwen/Qwen3-8B", "--tensor-parallel-size", "2"),
                    slot=slot,
                    warm_marker="/opt/vllm-cache/vllm/vllm-aws-warm/Qwen_Qwen3-8B@main",
                    start_period_seconds=600,
                    host_instance=host.instance,
                    host_ready=host.readiness,
                    labels={"vllm-aws.model": "qwen-8b"},
                    drain_seconds=600,
                    ready_timeout_seconds=1200,
                    access=access,
                    after=tuple(s.health_wait for s in after),
                ),
            )
            after = (server,)

    construct(build)
    image = named(pulumi_mocks, "h-vllm-1-image").inputs
    # Built FROM the pinned image: the configured image only reaches the build, as VLLM_IMAGE.
    assert (image["name"], image["build"]["buildArgs"]) == (
        "vllm-aws-custom:0123456789ab",
        {"VLLM_IMAGE": "vllm/vllm-openai:v0.33.0"},
    )
    second = named(pulumi_mocks, "h-vllm-1-container")
    assert second.parent == "h-vllm-1"
    assert second.inputs["deviceRequests"][0]["deviceIds"] == ["2", "3"]
    assert [(port["internal"], port["external"]) for port in second.inputs["ports"]] == [(8000, 8001)]
    assert (second.inputs["logDriver"], second.inputs["logOpts"]) == ("json-file", VLLM_LOG_OPTIONS)
    assert second.inputs["healthcheck"]["startPeriod"] == "600s"
    # Nothing touches the daemon before the host is ready, and a new instance means new containers.
    assert "h-ready" in second.options["dependsOn"] and second.options["deletedWith"] == "h-instance"
    assert sorted(r.name for r in of_type(pulumi_mocks, CONTAINER)) == ["h-vllm-0-container", "h-vllm-1-container"]
    # A stop drains for the ALB's deregistration delay, and Docker and pulumi-docker wait for it.
    assert second.inputs["command"][-2:] == ["--shutdown-timeout", "600"]
    assert second.inputs["stopTimeout"] == second.inputs["destroyGraceSeconds"] == 630
    # The second server starts (or is replaced) only once the first passed its health wait: the change rolls.
    assert "h-vllm-0-health" in second.options["dependsOn"]
    wait = named(pulumi_mocks, "h-vllm-1-health")
    assert "h-vllm-1-container" in wait.options["dependsOn"] and wait.inputs["triggers"]
    assert "not healthy after 1200 s" in wait.inputs["create"] and "docker logs --tail" in wait.inputs["create"]


def test_exporters_on_a_host_without_gpus_run_node_exporter_only(pulumi_mocks: Recording) -> None:
    def build() -> None:
        gpu = gpu_host("gpu")
        HostExporters("gpu-exporters", HostExportersArgs(host_instance=gpu.instance, host_ready=gpu.readiness))
        plain = gpu_host("plain", gpu=False)
        HostExporters(
            "plain-exporters", HostExportersArgs(host_instance=plain.instance, host_ready=plain.readiness, gpu=False)
        )

    construct(build)
    containers = {r.name: r for r in of_type(pulumi_mocks, CONTAINER)}
    assert set(containers) == {
        "gpu-exporters-node-exporter",
        "gpu-exporters-dcgm-exporter",
        "plain-exporters-node-exporter",
    }
    dcgm = containers["gpu-exporters-dcgm-exporter"].inputs
    assert dcgm["capabilities"] == {"adds": ["SYS_ADMIN"]} and dcgm["deviceRequests"][0]["count"] == -1
    node = containers["plain-exporters-node-exporter"]
    assert (node.inputs["networkMode"], node.inputs["logOpts"]) == ("host", SIDECAR_LOG_OPTIONS)
    assert node.options["deletedWith"] == "plain-instance"
    assert sorted(r.name for r in of_type(pulumi_mocks, IMAGE)) == [
        "gpu-exporters-dcgm-exporter-image",
        "gpu-exporters-node-exporter-image",
        "plain-exporters-node-exporter-image",
    ]
