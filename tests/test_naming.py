"""Logical names leave room for the names Pulumi generates from them (#10 item 10)."""

from __future__ import annotations

import pytest
from stack_runs import of_type, run_stack

from components._naming import (
    AUTO_NAME_SUFFIX_LENGTH,
    MODEL_NAME_MAX,
    TARGET_GROUP_NAME_MAX,
    auto_named,
    target_group_name,
)
from components.config import parse_stack_config
from components.errors import ConfigError


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


def test_a_component_name_without_room_for_the_suffix_fails_with_the_fix() -> None:
    assert auto_named("a" * 24, 32) == "a" * 24
    with pytest.raises(
        ValueError, match=r"'a{25}-' plus 7 random characters, and AWS allows 32.*at most 24 characters"
    ):
        auto_named("a" * 25, 32)
