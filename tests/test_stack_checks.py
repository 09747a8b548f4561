"""The preview's checks report the config's, the models' and the AWS lookups' problems in one run (#15), and
still register nothing before every check passed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from repo import PROJECT_DIR
from stack_runs import PROGRAM

from components.cli.offline import OfflineAws
from components.cli.program import mock_engine, run_program
from components.config import parse_stack_config
from components.errors import ConfigError
from components.stack_checks import check_stack

VPC = "vpc-0123456789abcdef0"
SUBNET_A, SUBNET_B = "subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"
GOOD_MODEL = {"name": "qwen", "id": "Qwen/Qwen2.5-7B-Instruct-AWQ", "instanceType": "g6.xlarge", "maxModelLen": 8192}
# tensorParallelSize 3 divides neither the heads nor the GPUs of a g6.xlarge: a planner problem (one issue, with
# one fix for both).
BAD_MODEL = {**GOOD_MODEL, "name": "bad", "tensorParallelSize": 3}


def config(**sections: Any) -> dict[str, Any]:
    return {"loadBalancer": {"allowPlainHttp": True}, "models": [GOOD_MODEL], **sections}


def problems(raw: dict[str, Any], aws: OfflineAws | None = None) -> list[str]:
    """The key paths of every problem ``check_stack`` reports, under the mock engine (its lookups offline)."""
    with mock_engine(config=raw, aws=aws), pytest.raises(ConfigError) as raised:
        check_stack(lambda: parse_stack_config(raw))
    return [issue.path for issue in raised.value.issues]


def test_a_preview_reports_the_models_and_the_subnets_problems_together_and_registers_nothing() -> None:
    raw = config(models=[GOOD_MODEL, BAD_MODEL], network={"vpcId": VPC, "publicSubnetIds": [SUBNET_A, SUBNET_B]})
    registered: list[str] = []
    with pytest.raises(pulumi.RunError) as raised:
        run_program(
            PROGRAM,
            raw,
            [],
            "test",
            aws=OfflineAws(missing_subnets={SUBNET_B}),
            on_register=lambda r: registered.append(r.name),
        )
    message = str(raised.value)
    assert registered == []
    assert "Traceback" not in message
    lines = message.splitlines()
    assert lines[0] == "invalid configuration (2 problems):"
    assert [line.split(": ")[0].removeprefix("  - ") for line in lines[1:]] == [
        "vllm-aws:models[1].tensorParallelSize",
        "vllm-aws:network.publicSubnetIds[1]",
    ]
    # What EC2 answered, without the SDK's wrapping; the placement checks that need that subnet say nothing.
    assert (
        f"is not a subnet of network.vpcId ({VPC}) in this account and region (no matching EC2 Subnet found)"
        in (lines[2])
    )
    assert f"Name=vpc-id,Values={VPC}" in lines[2]


def test_zones_that_do_not_offer_a_type_and_a_one_zone_load_balancer_are_reported_with_a_models_problem() -> None:
    raw = config(
        models=[GOOD_MODEL, BAD_MODEL, {**GOOD_MODEL, "name": "big", "instanceType": "g6e.xlarge"}],
        network={"vpcId": VPC, "publicSubnetIds": [SUBNET_A, SUBNET_B]},
    )
    aws = OfflineAws(
        subnet_zones={SUBNET_A: "us-east-1a", SUBNET_B: "us-east-1a"}, offered_zones={"g6e.xlarge": ["us-east-1c"]}
    )
    assert problems(raw, aws) == [
        "vllm-aws:models[1].tensorParallelSize",
        "vllm-aws:network.publicSubnetIds",  # big's g6e.xlarge is offered in none of their zones
        "vllm-aws:network.publicSubnetIds",  # the load balancer needs two zones
    ]


def test_the_cli_reports_a_bad_key_a_bad_model_and_a_one_zone_load_balancer_in_one_run(tmp_path: Path) -> None:
    # Offline nothing knows the user's subnets: each is assumed in its own zone, so only a certain problem shows.
    stack = {
        "vllm-aws:modles": [],
        "vllm-aws:models": [BAD_MODEL],
        "vllm-aws:network": {"vpcId": VPC, "publicSubnetIds": [SUBNET_A]},
        "vllm-aws:loadBalancer": {"allowPlainHttp": True},
    }
    path = tmp_path / "Pulumi.net.yaml"
    path.write_text(yaml.safe_dump({"config": stack}), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "components", "plan", "--config", str(path)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_DIR)},
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: invalid configuration (3 problems):")
    assert "vllm-aws:modles: is not a vllm-aws config key" in result.stderr
    assert "vllm-aws:network.publicSubnetIds: covers 1 availability zone(s)" in result.stderr


def test_offline_two_configured_subnets_are_two_zones_so_no_problem_is_invented() -> None:
    raw = config(network={"vpcId": VPC, "publicSubnetIds": [SUBNET_A, SUBNET_B]})
    with mock_engine(config=raw):
        checked = check_stack(lambda: parse_stack_config(raw))
    assert checked.load_balancer_subnets == (SUBNET_A, SUBNET_B)
    assert set(checked.network.public_subnets.values()) == {"us-east-1a", "us-east-1b"}


def test_a_rejected_or_misspelled_section_is_not_looked_up_on_its_default() -> None:
    # `netwrok` leaves the config on the default VPC, which is not what the user wrote: the lookup says nothing
    # (here the region has no default VPC, which would otherwise be reported).
    aws = OfflineAws(no_default_vpc=True)
    assert problems(config(netwrok={"vpcId": VPC}), aws) == ["vllm-aws:netwrok"]
    bad_network = config(network={"vpcId": VPC, "publicSubnetIds": ["subnet-nope"]}, models=[BAD_MODEL])
    assert problems(bad_network, aws) == [
        "vllm-aws:network.publicSubnetIds",
        "vllm-aws:models[0].tensorParallelSize",
    ]


def test_no_default_vpc_names_the_key_to_set_and_where_the_default_came_from() -> None:
    raw = config()
    with mock_engine(config=raw, aws=OfflineAws(no_default_vpc=True)), pytest.raises(ConfigError) as raised:
        check_stack(lambda: parse_stack_config(raw))
    (issue,) = raised.value.issues
    assert issue.path == "vllm-aws:network.vpcId"
    assert "not set; defaults to the region's default VPC" in str(issue) and "got None" not in str(issue)
    assert "no matching EC2 VPC found" in str(issue)


def test_a_vpc_without_subnets_is_bad_input_naming_the_subnet_key() -> None:
    (path,) = problems(config(network={"vpcId": VPC}))
    assert path == "vllm-aws:network.publicSubnetIds"
    with pytest.raises(ConfigError) as raised:
        parse_stack_config(config(network={"vpcId": VPC}))
    assert "(not set)" in str(raised.value) and "remove network.vpcId to use the default VPC" in str(raised.value)


def test_the_quota_check_still_runs_beside_a_network_problem() -> None:
    raw = config(network={"vpcId": VPC, "publicSubnetIds": [SUBNET_A]})
    assert problems(raw, OfflineAws(quota_values={"L-DB2E81BA": 0})) == [
        "vllm-aws:network.publicSubnetIds",
        "vllm-aws:models[0].replicas",  # the G and VT vCPU quota is 0
    ]
