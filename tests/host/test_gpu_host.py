"""GpuHost and ModelCache as registered by the real program (mocks), for both shipped stacks."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pulumi
import pytest
from stack_runs import named, of_type, run_stack
from tools import shellcheck

from components.cli.offline import OFFLINE_AMI_ID, OfflineAws
from components.cli.program import offline_id
from components.host import iam
from components.host.ami import DLAMI_SSM_PARAMETER
from components.host.spot import CANCEL_SCRIPT
from components.planner.root_disk import DEFAULT_ROOT_VOLUME_GIB

INSTANCE = "aws:ec2/instance:Instance"
VOLUME = "aws:ebs/volume:Volume"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def gpu_instances(run):  # type: ignore[no-untyped-def]
    return [i for i in of_type(run, INSTANCE) if i.inputs["tags"]["vllm-aws:role"] == "gpu-host"]


@pytest.mark.parametrize(("stack", "gpu_hosts", "all_hosts"), [("dev", 1, 1), ("prod", 3, 4)])
def test_one_host_and_one_cache_per_replica(stack: str, gpu_hosts: int, all_hosts: int) -> None:
    run = run_stack(stack)
    assert len(gpu_instances(run)) == gpu_hosts
    assert len(of_type(run, INSTANCE)) == len(of_type(run, VOLUME)) == all_hosts  # prod: + the monitoring host
    assert len(of_type(run, "vllm-aws:index:GpuHost")) == all_hosts
    assert len(of_type(run, "vllm-aws:index:ModelCache")) == all_hosts


def test_instances_require_imdsv2_encrypt_root_and_never_replace_on_a_new_ami() -> None:
    run = run_stack("prod")
    for instance in gpu_instances(run):
        metadata = instance.inputs["metadataOptions"]
        assert metadata["httpTokens"] == "required"
        assert metadata["httpPutResponseHopLimit"] == 1  # prod's Prometheus runs on its own host
        root = instance.inputs["rootBlockDevice"]
        assert root == {
            "volumeType": "gp3",
            "volumeSize": DEFAULT_ROOT_VOLUME_GIB,
            "encrypted": True,
            "deleteOnTermination": True,
        }
        assert instance.inputs["ami"] == OFFLINE_AMI_ID
        assert instance.options["ignoreChanges"] == ["ami"]
        assert instance.options["deleteBeforeReplace"] is True
        assert instance.options["replaceOnChanges"] == ["instanceType"]
        assert instance.parent in {"qwen-72b-0", "qwen-8b-0", "qwen-8b-1"}
        assert instance.name == f"{instance.parent}-instance"
        assert "instanceMarketOptions" not in instance.inputs


@pytest.mark.parametrize(
    ("stack", "monitoring", "prometheus_host"),
    [
        ("dev", None, "qwen-7b-0"),  # shipped: colocated
        ("dev", {"placement": "dedicated"}, "monitoring"),
        ("prod", None, "monitoring"),  # shipped: dedicated
        ("prod", {"placement": "colocated"}, "qwen-72b-0"),  # the first model's first host
        ("prod", {"enabled": False}, None),
    ],
    ids=["dev-colocated", "dev-dedicated", "prod-dedicated", "prod-colocated", "prod-no-monitoring"],
)
def test_only_the_host_running_prometheus_lets_containers_reach_the_role_credentials(
    stack: str, monitoring: dict[str, object] | None, prometheus_host: str | None
) -> None:
    """IMDS hop limit 1 keeps containers (vLLM) from the host role's credentials; Prometheus' host needs 2."""
    run = run_stack(stack, **({"monitoring": monitoring} if monitoring else {}))
    hop_limits = {i.parent: i.inputs["metadataOptions"]["httpPutResponseHopLimit"] for i in of_type(run, INSTANCE)}
    assert hop_limits == {host: 2 if host == prometheus_host else 1 for host in hop_limits}
    assert all(i.inputs["metadataOptions"]["httpTokens"] == "required" for i in of_type(run, INSTANCE))
    # The same host, and only it, may discover scrape targets.
    discovery = {r.parent for r in of_type(run, "aws:iam/rolePolicy:RolePolicy") if r.name.endswith("-discovery")}
    assert discovery == ({prometheus_host} if prometheus_host else set())


def test_a_bootstrap_change_replaces_the_host_rather_than_a_stop_start_that_cannot_apply_it() -> None:
    # pulumi-aws stops and starts an instance for a user_data change unless user_data_replace_on_change
    # (PAPY ec2/instance.py), and cloud-init would not re-run its per-instance modules on the same instance.
    before, after = run_stack("prod"), run_stack("prod", hfToken="hf_test")  # a new SSM parameter in the settings
    for run in (before, after):
        assert all(i.inputs["userDataReplaceOnChange"] is True for i in of_type(run, INSTANCE))
    old, new = named(before, "qwen-8b-0-instance"), named(after, "qwen-8b-0-instance")
    assert old.inputs["userData"] != new.inputs["userData"]
    assert new.options["deleteBeforeReplace"] is True  # the cache can only be attached to one instance


def test_ami_comes_from_the_dlami_ssm_parameter_unless_configured() -> None:
    run = run_stack("dev")
    assert ("aws:ssm/getParameter:getParameter", {"name": DLAMI_SSM_PARAMETER}) in [
        (token, {k: v for k, v in args.items() if k == "name"}) for token, args in run.invokes
    ]
    pinned = run_stack("dev", amiId="ami-0123456789abcdef0")
    assert of_type(pinned, INSTANCE)[0].inputs["ami"] == "ami-0123456789abcdef0"


def test_cache_volumes_are_encrypted_gp3_retained_and_never_replaced_by_config() -> None:
    run = run_stack("prod")
    for volume in of_type(run, VOLUME):
        if volume.parent == "monitoring-cache":
            continue  # the monitoring host's data volume: baseline gp3
        assert volume.inputs["type"] == "gp3" and volume.inputs["encrypted"] is True
        # The default throughput follows the host: g6e.12xlarge reads up to 2384 MiB/s (capped at 6000 IOPS / 4),
        # g6e.xlarge 596 (#15).
        expected = 1500 if volume.parent.startswith("qwen-72b") else 596
        assert (volume.inputs["iops"], volume.inputs["throughput"]) == (6000, expected)
        assert volume.options["retainOnDelete"] is True
        assert {"availabilityZone", "snapshotId"} <= set(volume.options["ignoreChanges"])
        assert volume.parent is not None and volume.parent.endswith("-cache")
        assert volume.inputs["tags"]["vllm-aws:role"] == "model-cache"
    sizes = {v.parent: v.inputs["size"] for v in of_type(run, VOLUME)}
    assert sizes["qwen-72b-0-cache"] > sizes["qwen-8b-0-cache"] >= 100


def test_retain_on_delete_and_snapshot_follow_config() -> None:
    run = run_stack("dev", cache={"retainOnDelete": False, "snapshotId": "snap-0123456789abcdef0"})
    (volume,) = of_type(run, VOLUME)
    assert volume.options["retainOnDelete"] is False
    assert volume.inputs["snapshotId"] == "snap-0123456789abcdef0"


def test_replicas_spread_across_zones_and_each_cache_shares_its_hosts_zone() -> None:
    run = run_stack("prod")
    zones = {i.parent: i.inputs["availabilityZone"] for i in of_type(run, INSTANCE)}
    assert zones["qwen-8b-0"] != zones["qwen-8b-1"]
    for volume in of_type(run, VOLUME):
        assert volume.inputs["availabilityZone"] == zones[volume.parent.removesuffix("-cache")]
    offered_in_one = run_stack("prod", aws=OfflineAws(offered_zones={"g6e.xlarge": ["us-east-1b"]}))
    assert {i.inputs["availabilityZone"] for i in of_type(offered_in_one, INSTANCE) if "8b" in i.name} == {"us-east-1b"}


def test_cache_attachment_detaches_safely_and_gates_readiness() -> None:
    run = run_stack("dev")
    attachment = named(run, "qwen-7b-0-cache-attach")
    assert attachment.inputs["stopInstanceBeforeDetaching"] is True
    assert attachment.options["deleteBeforeReplace"] is True
    assert attachment.inputs["volumeId"] == offline_id("aws:ebs/volume:Volume", "qwen-7b-0-cache-volume")
    ready = named(run, "qwen-7b-0-ready")
    assert "qwen-7b-0-cache-attach" in ready.options["dependsOn"]
    assert ready.inputs["triggers"] == [offline_id(INSTANCE, "qwen-7b-0-instance"), "qwen-7b-0-cache-attach-id"]
    assert ready.inputs["environment"]["VLLM_AWS_SSH_KEY"] == "[secret]"
    assert "cloud-init status --wait" in ready.inputs["create"]


def test_ssm_mode_opens_no_inbound_port_at_all() -> None:
    run = run_stack("prod", monitoring={"enabled": False})
    host_rules = [r for r in of_type(run, INGRESS) if r.parent in {"qwen-72b-0", "qwen-8b-0", "qwen-8b-1"}]
    assert host_rules == []  # the hosts' own rules; the load balancer adds only its vLLM-port rules
    assert {r.inputs["fromPort"] for r in of_type(run, INGRESS) if not r.parent.endswith("endpoint")} == set()
    assert all(
        r.inputs["cidrIpv4"] == "0.0.0.0/0"
        for r in of_type(run, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
        if not r.parent.endswith("endpoint")
    )
    for sg in of_type(run, "aws:ec2/securityGroup:SecurityGroup"):
        assert "ingress" not in sg.inputs


def test_ssh_mode_admits_port_22_from_the_listed_cidrs_only() -> None:
    run = run_stack(
        "dev", access={"mode": "ssh", "sshCidrs": ["203.0.113.0/24", "2001:db8::/32"]}, monitoring={"enabled": False}
    )
    rules = [r for r in of_type(run, INGRESS) if r.parent == "qwen-7b-0"]
    assert {
        (r.inputs["fromPort"], r.inputs["toPort"], r.inputs.get("cidrIpv4"), r.inputs.get("cidrIpv6")) for r in rules
    } == {(22, 22, "203.0.113.0/24", None), (22, 22, None, "2001:db8::/32")}
    host = run.outputs["hosts"]["qwen-7b-0"]["dockerHost"]
    assert isinstance(host, pulumi.Output)


def test_ssh_rules_are_keyed_by_cidr_so_removing_one_leaves_the_others_untouched() -> None:
    # Keyed by list position, dropping the first CIDR would rename the second rule onto the first one's name and
    # create it while the old rule still holds the same permission (EC2 InvalidPermission.Duplicate; create
    # before delete, PULUMI_ENGINE.md §3), failing `pulumi up`.
    def ssh_rules(cidrs: list[str]) -> dict[str, dict[str, object]]:
        run = run_stack("dev", access={"mode": "ssh", "sshCidrs": cidrs}, monitoring={"enabled": False})
        return {
            r.name: r.inputs for r in of_type(run, INGRESS) if r.parent == "qwen-7b-0" and r.inputs["fromPort"] == 22
        }

    both = ssh_rules(["203.0.113.0/24", "198.51.100.0/24"])
    one = ssh_rules(["198.51.100.0/24"])
    assert set(one) == {"qwen-7b-0-ssh-198.51.100.0-24"}
    assert one.items() <= both.items()


def test_iam_role_is_ec2_only_with_ssm_core_and_exactly_this_stacks_parameters() -> None:
    run = run_stack("prod", apiKey="sk-test", hfToken="hf_test")
    # By name: the host also owns its self-healing roles (host/self_healing.py), registered in no fixed order.
    role = named(run, "qwen-8b-0-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    attachments = [
        r for r in of_type(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment") if r.parent == "qwen-8b-0"
    ]
    assert [a.inputs["policyArn"] for a in attachments] == [iam.SSM_CORE_POLICY_ARN]
    policies = {
        r.name: r
        for r in of_type(run, "aws:iam/rolePolicy:RolePolicy")
        if r.parent == "qwen-8b-0" and r.inputs["role"] == named(run, "qwen-8b-0-profile").inputs["role"]
    }
    assert set(policies) == {"qwen-8b-0-read-secrets", "qwen-8b-0-no-other-parameters"}
    own = [
        "arn:aws:ssm:us-east-1:123456789012:parameter/vllm-aws/prod/api-key",
        "arn:aws:ssm:us-east-1:123456789012:parameter/vllm-aws/prod/hf-token",
    ]
    (statement,) = json.loads(policies["qwen-8b-0-read-secrets"].inputs["policy"])["Statement"]
    assert statement["Action"] == ["ssm:GetParameter", "ssm:GetParameters"]
    assert statement["Resource"] == own
    # The managed policy reads every parameter; this Deny leaves only the stack's own (tests/host/test_iam.py).
    (statement,) = json.loads(policies["qwen-8b-0-no-other-parameters"].inputs["policy"])["Statement"]
    assert (statement["Effect"], statement["Action"], statement["NotResource"]) == ("Deny", "ssm:GetParameter*", own)


def test_secrets_go_to_ssm_securestrings_and_never_into_user_data() -> None:
    run = run_stack("dev", apiKey="sk-never-in-user-data", hfToken="hf_never_in_user_data")
    parameters = of_type(run, "aws:ssm/parameter:Parameter")
    assert {p.inputs["name"]: (p.inputs["type"], p.inputs["value"]) for p in parameters} == {
        "/vllm-aws/dev/api-key": ("SecureString", "[secret]"),
        "/vllm-aws/dev/hf-token": ("SecureString", "[secret]"),
        "/vllm-aws/dev/grafana-admin-password": ("SecureString", "[secret]"),
    }
    everything = json.dumps([r.inputs for r in run.resources])
    assert "never_in_user_data" not in everything and "never-in-user-data" not in everything
    user_data = of_type(run, INSTANCE)[0].inputs["userData"]
    assert user_data.startswith("#cloud-config") and "/vllm-aws/dev/hf-token" in user_data


SPOT_MODEL = {
    "name": "qwen-7b",
    "id": "Qwen/Qwen2.5-7B-Instruct-AWQ",
    "instanceType": "g6.xlarge",
    "maxModelLen": 8192,
    "spot": True,
}


def test_spot_uses_persistent_requests_that_stop_on_interruption_and_are_cancelled_with_the_host() -> None:
    # #14: an interrupted host comes back as the same instance (cache, containers, Pulumi's state).
    run = run_stack("dev", models=[SPOT_MODEL])
    options = of_type(run, INSTANCE)[0].inputs["instanceMarketOptions"]
    assert options == {
        "marketType": "spot",
        "spotOptions": {"spotInstanceType": "persistent", "instanceInterruptionBehavior": "stop"},
    }
    # The request is cancelled after the cache detaches and before the instance goes (deletes: dependents first).
    cancel = named(run, "qwen-7b-0-spot-request")
    assert cancel.inputs["delete"] == CANCEL_SCRIPT and "create" not in cancel.inputs
    assert cancel.inputs["environment"]["AWS_REGION"] == "us-east-1"
    assert cancel.parent == "qwen-7b-0"
    assert "qwen-7b-0-spot-request" in named(run, "qwen-7b-0-cache-attach").options["dependsOn"]
    assert not [r for r in run_stack("dev").resources if r.name.endswith("-spot-request")]


def test_the_cancel_script_passes_shellcheck(tmp_path: Path) -> None:
    script = tmp_path / "cancel.sh"
    script.write_text("#!/bin/bash\n" + CANCEL_SCRIPT)
    result = subprocess.run(
        [shellcheck(), "--severity=style", str(script)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("spot", [False, True], ids=["on-demand", "spot"])
def test_no_host_is_ever_stopped_that_ec2_cannot_stop(spot: bool) -> None:
    # EC2 stops a spot instance only when it comes from a persistent request with interruption behaviour stop
    # (EC2 User Guide "Behavior of Spot Instance interruptions"); StopInstances on a one-time spot instance
    # fails with UnsupportedOperation, and stop_instance_before_detaching calls it before every detach
    # (TF ec2/ebs_volume_attachment.go resourceVolumeAttachmentDelete), so replacing or destroying it failed.
    run = run_stack("dev", models=[{**SPOT_MODEL, "spot": spot}])
    instance = named(run, "qwen-7b-0-instance")
    attachment = named(run, "qwen-7b-0-cache-attach")
    market = instance.inputs.get("instanceMarketOptions")
    stoppable = market is None or (
        market["spotOptions"]["spotInstanceType"] == "persistent"
        and market["spotOptions"]["instanceInterruptionBehavior"] == "stop"
    )
    assert stoppable  # #14: spot requests are persistent with stop, so both kinds are stopped before detaching
    assert attachment.inputs["stopInstanceBeforeDetaching"] is True
    assert "skipDestroy" not in attachment.inputs
    assert attachment.options["deleteBeforeReplace"] is True


def test_default_vpc_hosts_get_a_public_ip_for_egress_and_configured_private_subnets_do_not() -> None:
    assert of_type(run_stack("dev"), INSTANCE)[0].inputs["associatePublicIpAddress"] is True
    aws = OfflineAws()
    private = run_stack(
        "dev",
        aws=aws,
        network={
            "vpcId": "vpc-0123456789abcdef0",
            "privateSubnetIds": [aws.subnet_id("us-east-1a")],
            "publicSubnetIds": [aws.subnet_id("us-east-1b"), aws.subnet_id("us-east-1c")],
        },
    )
    instance = of_type(private, INSTANCE)[0]
    assert instance.inputs["associatePublicIpAddress"] is False
    assert instance.inputs["subnetId"] == aws.subnet_id("us-east-1a")


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({}, "vllm-aws:models[0].instanceType"),
        (
            {"network": {"vpcId": "vpc-0123456789abcdef0", "privateSubnetIds": [OfflineAws().subnet_id("us-east-1a")]}},
            "vllm-aws:network.privateSubnetIds",
        ),
    ],
    ids=["default-vpc", "configured-subnets"],
)
def test_no_zone_offering_the_instance_type_is_bad_input(overrides: dict, path: str) -> None:
    aws = OfflineAws(offered_zones={"g6.xlarge": ["us-east-1f"]})
    with pytest.raises(pulumi.RunError) as caught:
        run_stack("dev", aws=aws, **overrides)
    assert path in str(caught.value) and "us-east-1f" in str(caught.value)
