"""The preview-time cross-check of the planned types' GPUs with EC2 (aws.ec2.get_instance_type, answered by the
mock engine: from the catalog, or from ``OfflineAws.gpus`` where a test makes EC2 disagree)."""

from __future__ import annotations

import pulumi
import pytest
from stack_runs import run_stack

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
