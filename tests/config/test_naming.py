"""Logical names leave room for the names Pulumi generates from them (#10 item 10)."""

from __future__ import annotations

import pulumi
import pytest
from stack_runs import of_type, run_stack

from components._naming import (
    AUTO_NAME_SUFFIX_LENGTH,
    MODEL_NAME_MAX,
    TARGET_GROUP_NAME_MAX,
    auto_named,
    target_group_name,
)
from components.cli.program import Recording
from components.config import parse_stack_config
from components.errors import ConfigError
from components.network.load_balancer import LoadBalancer, LoadBalancerArgs


def test_the_longest_model_name_leaves_room_for_its_target_groups_auto_name() -> None:
    name = ("qwen-7b-awq-" + "x" * MODEL_NAME_MAX)[:MODEL_NAME_MAX]
    run = run_stack("dev", models=[{"name": name, "id": "Qwen/Qwen2.5-7B-Instruct-AWQ", "instanceType": "g6.xlarge"}])

    (group,) = of_type(run, "aws:lb/targetGroup:TargetGroup")
    assert group.name == target_group_name(name)
    assert len(group.name) + AUTO_NAME_SUFFIX_LENGTH == TARGET_GROUP_NAME_MAX  # exactly full, nothing to spare


def test_one_character_more_is_rejected_at_config_time() -> None:
    name = "q" * (MODEL_NAME_MAX + 1)
    with pytest.raises(ConfigError, match=r"vllm-aws:models\[0\]\.name: has 22 characters"):
        parse_stack_config({"models": [{"name": name, "id": "Qwen/Qwen2.5-7B-Instruct-AWQ"}]})


@pulumi.runtime.test
def test_a_load_balancer_named_too_long_for_its_alb_fails_at_construction(pulumi_mocks: Recording) -> None:
    # VllmDeployment(new_load_balancer=...) names it "<deployment>-alb": its ALB "<deployment>-alb-alb" must fit 32.
    args = LoadBalancerArgs(vpc_id="vpc-1", subnet_ids=("subnet-1", "subnet-2"), allowed_cidrs=("0.0.0.0/0",))
    with pytest.raises(ValueError, match=r"'qwen-7b-instruct-awq-alb-alb' is 28 characters.*at most 24"):
        LoadBalancer("qwen-7b-instruct-awq-alb", args)
    assert not [r for r in pulumi_mocks.resources if r.type == "aws:lb/loadBalancer:LoadBalancer"]


def test_a_component_name_without_room_for_the_suffix_fails_with_the_fix() -> None:
    assert auto_named("a" * 24, 32) == "a" * 24
    with pytest.raises(
        ValueError, match=r"'a{25}-' plus 7 random characters, and AWS allows 32.*at most 24 characters"
    ):
        auto_named("a" * 25, 32)
