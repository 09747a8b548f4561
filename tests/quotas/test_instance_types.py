"""The preview-time cross-check of the planned types' GPUs with EC2 (aws.ec2.get_instance_type, answered by the
mock engine: from the catalog, or from ``OfflineAws.gpus`` where a test makes EC2 disagree)."""

from __future__ import annotations

import pulumi
import pytest
from stack_runs import of_type, run_stack

from components.cli.offline import OfflineAws
from components.quotas.instance_types import gpu_mismatch


def test_the_catalog_agrees_with_itself() -> None:
    assert gpu_mismatch("g6e.12xlarge", [(4, 45776)]) is None
    assert gpu_mismatch("not-a-type.xlarge", []) is None


def test_a_type_ec2_describes_differently_fails_the_preview_before_anything_is_registered() -> None:
    with pytest.raises(pulumi.RunError) as caught:
        run_stack("prod", aws=OfflineAws(gpus={"g6e.12xlarge": [(4, 24576)]}))
    message = str(caught.value)
    assert "vllm-aws:models[0].instanceType" in message
    assert "EC2 describes g6e.12xlarge with 4 x 24576 MiB, but it was sized on 4 x 45776 MiB" in message
    assert "scripts/gen_instance_catalog.py" in message


def test_matching_types_pass() -> None:
    run = run_stack("dev")
    assert run.resources


def test_without_describe_permission_the_preview_goes_on_with_warnings_that_name_it(engine_log: list[str]) -> None:
    # A least-privilege preview role without ec2:DescribeInstanceTypes: the three reads of the type (GPU
    # cross-check, the monitoring host's vCPUs for the quotas, EC2 auto recovery) each fall back and say how.
    denied = (
        "UnauthorizedOperation: You are not authorized to perform this operation. User: "
        "arn:aws:sts::123456789012:assumed-role/preview/ci is not authorized to perform: ec2:DescribeInstanceTypes"
    )
    run = run_stack("prod", aws=OfflineAws(describe_error=denied))
    assert of_type(run, "aws:ec2/instance:Instance")
    # Every GPU host keeps a system-check alarm, on the stop-and-start path every type supports.
    assert sorted(r.name for r in of_type(run, "aws:cloudwatch/eventRule:EventRule")) == [
        "qwen-72b-0-restart-rule",
        "qwen-8b-0-restart-rule",
        "qwen-8b-1-restart-rule",
    ]
    warnings = [m for m in engine_log if m.startswith("could not describe")]
    gpu = [w for w in warnings if "not cross-checked with EC2" in w]
    vcpus = [w for w in warnings if "left out of the vCPU quota check" in w]
    recovery = [w for w in warnings if "stop and start them through SSM Automation" in w]
    assert {w.split()[3] for w in gpu} == {"g6e.12xlarge", "g6e.xlarge"}
    assert [w.split()[3] for w in vcpus] == ["t3.medium"]
    assert {w.split()[3] for w in recovery} == {"g6e.12xlarge", "g6e.xlarge"}
    assert all("Grant the deploying role ec2:DescribeInstanceTypes" in w for w in warnings)
