"""examples/extra-model: one more model behind an existing vllm-aws stack's ALB, run under mocks.

The referenced stack's outputs are the real exports of the prod stack (run under mocks first), so a change to
what ``__main__.py`` exports that the example depends on fails here.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
from example_runs import EXAMPLE_DIR, MODEL, PROJECT, main_stack_outputs, run_example
from stack_runs import of_type, run_stack

import components
from components.cli.program import ProgramRun
from components.network import routing


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return run_example()


def test_example_is_a_python_pulumi_project() -> None:
    import yaml

    project = yaml.safe_load((EXAMPLE_DIR / "Pulumi.yaml").read_text())
    assert project["name"] == PROJECT
    assert project["runtime"]["name"] == "python"
    # Pulumi.yaml declares no key (Pulumi would require each one in every stack); the README documents them.
    assert "config" not in project
    example = yaml.safe_load((EXAMPLE_DIR / "Pulumi.example.yaml").read_text())["config"]
    readme = (EXAMPLE_DIR / "README.md").read_text()
    for key in set(example) - {"aws:region"}:
        assert f"`{key.removeprefix(PROJECT + ':')}`" in readme, key
    requirements = (EXAMPLE_DIR / "requirements.txt").read_text()
    assert "vllm-aws @ git+https://" in requirements
    assert "-e ../.." in requirements


def test_example_uses_only_the_public_api() -> None:
    tree = ast.parse((EXAMPLE_DIR / "__main__.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("components"):
            assert node.module == "components", f"imports the internal module {node.module}"
            assert {alias.name for alias in node.names} <= set(components.__all__)
        if isinstance(node, ast.Import):
            assert not any(alias.name.startswith("components.") for alias in node.names)


def test_one_deployment_with_hosts_caches_and_servers_spread_over_zones(run: ProgramRun) -> None:
    (deployment,) = of_type(run, "vllm-aws:index:VllmDeployment")
    assert deployment.name == "qwen-7b"
    hosts = of_type(run, "vllm-aws:index:GpuHost")
    assert sorted(h.name for h in hosts) == ["qwen-7b-0", "qwen-7b-1"]
    assert {h.parent for h in hosts} == {"qwen-7b"}
    assert sorted(c.name for c in of_type(run, "vllm-aws:index:ModelCache")) == ["qwen-7b-0-cache", "qwen-7b-1-cache"]
    assert sorted(s.name for s in of_type(run, "vllm-aws:index:VllmServer")) == ["qwen-7b-0-vllm-0", "qwen-7b-1-vllm-0"]
    network = main_stack_outputs()["network"]
    instances = of_type(run, "aws:ec2/instance:Instance")
    assert {i.inputs["instanceType"] for i in instances} == {"g6.xlarge"}
    placed = {(i.inputs["subnetId"], i.inputs["availabilityZone"]) for i in instances}
    assert len(placed) == 2  # one replica per zone
    assert all(network["hostSubnets"][subnet] == zone for subnet, zone in placed)
    # This stack creates no load balancer, listener or monitoring of its own.
    for type_ in ("aws:lb/loadBalancer:LoadBalancer", "aws:lb/listener:Listener", "vllm-aws:index:Monitoring"):
        assert not of_type(run, type_)


def test_routes_attach_to_the_referenced_listener_in_the_attached_range(run: ProgramRun) -> None:
    load_balancer = main_stack_outputs()["loadBalancer"]
    (target_group,) = of_type(run, "aws:lb/targetGroup:TargetGroup")
    assert target_group.inputs["vpcId"] == main_stack_outputs()["network"]["vpcId"]
    assert len(of_type(run, "aws:lb/targetGroupAttachment:TargetGroupAttachment")) == 2
    rules = of_type(run, "aws:lb/listenerRule:ListenerRule")
    assert {r.inputs["listenerArn"] for r in rules} == {load_balancer["listenerArn"]}
    # The referenced stack's models hold 1-10000 (and their host rules, the default rule above): an attached
    # model's priority comes from 10001-20000, so neither side can ever take the other's. No /v1/* rule either.
    loading, rule = sorted(rules, key=lambda r: r.name)
    assert (rule.name, loading.name) == ("qwen-7b-endpoint-prefix-rule", "qwen-7b-endpoint-prefix-loading-rule")
    # Its loading rule sits in the attached models' own block, clear of the owner's loading rules.
    assert loading.inputs["priority"] == routing.loading_slot(rule.inputs["priority"])
    assert loading.inputs["priority"] not in {routing.loading_slot(p) for p in routing.STACK_PRIORITIES}
    assert rule.inputs["priority"] == routing.derived_priority("qwen-7b", attached=True)
    assert rule.inputs["priority"] in routing.ATTACHED_PRIORITIES
    assert rule.inputs["conditions"][0]["pathPattern"]["values"] == ["/qwen-7b/v1/*", "/qwen-7b/health"]
    assert run.outputs["rulePriority"] == rule.inputs["priority"]


def test_main_stack_priorities_stay_clear_of_attached_models() -> None:
    main = run_stack("prod")  # with its domain: host rules too
    for rule in of_type(main, "aws:lb/listenerRule:ListenerRule"):
        assert rule.inputs["priority"] not in routing.ATTACHED_PRIORITIES, rule.name
        assert rule.inputs["priority"] - routing.HOST_RULE_OFFSET not in routing.ATTACHED_PRIORITIES, rule.name


def test_hosts_admit_the_referenced_alb_security_group_only(run: ProgramRun) -> None:
    alb_group = main_stack_outputs()["loadBalancer"]["securityGroupId"]
    ingress = of_type(run, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert ingress
    assert {r.inputs["referencedSecurityGroupId"] for r in ingress} == {alb_group}
    egress = [
        r for r in of_type(run, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule") if r.name.endswith("-out")
    ]
    assert [r.inputs["securityGroupId"] for r in egress] == [alb_group]  # one rule on the shared group, any host count


def test_hosts_read_the_referenced_stacks_secret_parameters(run: ProgramRun) -> None:
    parameters = main_stack_outputs()["secretParameters"]
    arns = {f"arn:aws:ssm:us-east-1:123456789012:parameter{name}" for name in parameters.values()}
    policies = {p.name.removeprefix(f"{p.parent}-"): p for p in of_type(run, "aws:iam/rolePolicy:RolePolicy")}
    # The host role's policies; restart-* belong to the self-healing roles (tests/host/test_self_healing.py).
    assert set(policies) == {"read-secrets", "no-other-parameters", "restart-instance", "restart-events-start"}
    read = json.loads(policies["read-secrets"].inputs["policy"])
    assert arns <= {r for statement in read["Statement"] for r in _as_list(statement["Resource"])}
    # The Deny of every other parameter leaves exactly the referenced stack's readable.
    (deny,) = json.loads(policies["no-other-parameters"].inputs["policy"])["Statement"]
    assert deny["Effect"] == "Deny" and set(deny["NotResource"]) == arns


def test_own_ssh_key_and_key_file(run: ProgramRun) -> None:
    (key,) = of_type(run, "tls:index/privateKey:PrivateKey")
    assert key.inputs["algorithm"] == "ED25519"
    # Its Docker providers dial with this stack's own key file (written by every run: components.host.ssh_access).
    for provider in of_type(run, "pulumi:providers:docker"):
        assert f"~/.ssh/{PROJECT}-extra.key" in json.loads(provider.inputs["sshOpts"])


def test_a_pinned_rule_priority_for_a_second_extra_stack() -> None:
    run = run_example(rulePriority=12_345)
    _loading, rule = sorted(of_type(run, "aws:lb/listenerRule:ListenerRule"), key=lambda r: r.name)
    assert rule.inputs["priority"] == 12_345


@pytest.mark.parametrize("priority", [100, 20_001])
def test_a_rule_priority_outside_the_attached_range_is_rejected(priority: int) -> None:
    with pytest.raises(pulumi.RunError, match=rf"{PROJECT}:rulePriority: .*Fix: choose one in 10001-20000"):
        run_example(rulePriority=priority)


def test_a_model_name_the_referenced_stack_serves_is_rejected() -> None:
    outputs = main_stack_outputs()
    outputs["modelNames"].append("qwen-7b")
    with pytest.raises(pulumi.RunError, match=rf"{PROJECT}:model\.name: .*already served by the referenced stack"):
        run_example(outputs)


def test_bad_model_config_names_this_projects_key() -> None:
    with pytest.raises(pulumi.RunError, match=rf"{PROJECT}:model\.tensorParallelSize: does not divide"):
        run_example(model={**MODEL, "tensorParallelSize": 3})


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        # Every section names this project's key, wherever it sits (no key path is rewritten afterwards).
        ({"cache": {"iops": 100}}, rf"{PROJECT}:cache\.iops: "),
        ({"access": {"mode": "ssh"}}, rf"{PROJECT}:access\.sshCidrs: is required with mode 'ssh'"),
        ({"image": "vllm/vllm-openai:latest"}, rf"{PROJECT}:image: is not pinned"),
        ({"model": {**MODEL, "maxModelLen": 10**7}}, rf"{PROJECT}:model\.maxModelLen: is above"),
        ({"model": {**MODEL, "tensorParallelSize": 3}}, rf"{PROJECT}:model\.tensorParallelSize: does not divide"),
    ],
    ids=["cache", "access", "image", "max-model-len", "tp"],
)
def test_every_bad_section_names_this_projects_key(config: dict[str, Any], expected: str) -> None:
    with pytest.raises(pulumi.RunError, match=expected):
        run_example(**config)


def test_a_gated_model_needs_the_referenced_stacks_hf_token() -> None:
    gated = {**MODEL, "id": "meta-llama/Llama-3.1-8B-Instruct", "instanceType": "g6e.xlarge"}
    with pytest.raises(pulumi.RunError, match=r"vllm-aws:hfToken: is required: model \(meta-llama/"):
        run_example(model=gated)
    outputs = main_stack_outputs()
    outputs["secretParameters"]["HF_TOKEN"] = "/vllm-aws/prod/hf-token"
    assert of_type(run_example(outputs, model=gated), "vllm-aws:index:GpuHost")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_example_readme_exists() -> None:
    assert Path(EXAMPLE_DIR / "README.md").is_file()


def test_the_extra_models_hosts_decrypt_the_main_stacks_secrets_with_its_key() -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/0f0e0d0c-0b0a-0908-0706-050403020100"
    plain = [r for r in run_example().resources if r.name.endswith("-read-secrets")]
    assert plain and all("kms:Decrypt" not in r.inputs["policy"] for r in plain)
    run = run_example({**main_stack_outputs(), "secretsKmsKeyArn": key})
    policies = [json.loads(r.inputs["policy"]) for r in run.resources if r.name.endswith("-read-secrets")]
    assert policies
    for policy in policies:
        (decrypt,) = [s for s in policy["Statement"] if s["Action"] == "kms:Decrypt"]
        assert decrypt["Resource"] == key
        assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": "ssm.us-east-1.amazonaws.com"}}
