"""Day-2 scenarios a team goes through in its first months, each planned through the REAL program under mocks
for the old and the new config, then simulated (`plan --compare`): every one either plans with no blocker or
is reported with a blocker that names the AWS error or engine rule and a fix.

The expected outcome of each scenario is data below. The bugs of issue #10 were blockers here before their fixes
(the comment on a row names the item); what stays a blocker is a change AWS itself refuses, reported with its fix.
Outages (every replica of a model down in one `pulumi up`) are reported, not blocked. Since #14 a change rolls:
each replica's host and server wait for the previous replica's health wait, so a two-replica model loses one
replica at a time and only the single-replica 72B has an outage (whose fix is a second replica).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from stack_runs import plan_document

from components.cli.compare import compare
from components.cli.offline import OfflineAws, volume_zones_of

STACK = "prod"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
SSH_KEY = "tls:index/privateKey:PrivateKey"
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0123abcd-4567-89ef-0123-456789abcdef"
Change = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Scenario:
    id: str
    new: Change | None = None
    """The config change the team makes (the old side is the shipped stack unless ``old`` says otherwise)."""
    old: Change | None = None
    old_zones: tuple[str, ...] | None = None
    new_zones: tuple[str, ...] | None = None
    """AZs that offer the 8B model's g6e.xlarge at the old / new preview (OfflineAws)."""
    replace_types: tuple[str, ...] = ()
    """Forced replacement of every resource of these types (`pulumi up --replace`)."""
    rotate: tuple[str, ...] = ()
    """Secrets (SSM parameters) whose value changes (`plan --compare --rotate-secret`)."""
    fresh_runner: bool = False
    blockers: tuple[tuple[str, str], ...] = ()
    """Expected blockers as sorted (code, resource type) pairs; () means the change plans with no blocker."""
    outages: tuple[str, ...] = ()
    """Models with every replica down at once."""
    rolling: tuple[str, ...] = ()
    """Models whose replicas the change takes down one at a time, each healthy before the next goes."""


def _models(change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> Change:
    def apply(raw: dict[str, Any]) -> None:
        raw["models"] = change(raw["models"])

    return apply


def _model(name: str, /, **fields: Any) -> Change:
    return _models(lambda models: [{**m, **fields} if m["name"] == name else m for m in models])


def _both(*changes: Change) -> Change:
    def apply(raw: dict[str, Any]) -> None:
        for change in changes:
            change(raw)

    return apply


def _set(**values: Any) -> Change:
    return lambda raw: raw.update(values)


def _with_certificate(raw: dict[str, Any]) -> None:
    raw["loadBalancer"] = {**raw["loadBalancer"], "certificateArn": CERTIFICATE}


NEW_IMAGE = _set(image="vllm/vllm-openai:v0.33.1")
ENABLE_KMS_KEY = _set(kmsKey={"enabled": True})


def _enable_access_logs(raw: dict[str, Any]) -> None:
    raw["loadBalancer"] = {**raw["loadBalancer"], "accessLogs": {"enabled": True}}


SPOT_8B = _model("qwen-8b", spot=True)

SCENARIOS = [
    Scenario("add-a-model", _models(lambda m: [*m, {"name": "qwen-7b", "id": "Qwen/Qwen2.5-7B-Instruct-AWQ"}])),
    # #10 item 6: priorities follow model names and the default rule is the load balancer's own, so the remaining
    # model keeps its rules and the default rule changes its target in place.
    Scenario("remove-a-model", _models(lambda m: m[1:])),
    Scenario("reorder-models", _models(lambda m: m[::-1])),  # #10 item 6: no priority moves
    # #10 item 6: the new name derives a priority of its own (a clash with the old name's is a blocker, 1 in 10,000).
    Scenario("rename-a-model", _model("qwen-8b", name="qwen-8b-chat")),
    # #10 item 7: the port-80 listener keeps its name and turns into the redirect in place; the HTTPS listener is new.
    Scenario("add-a-certificate", _with_certificate),
    Scenario(
        "bump-the-image-tag",
        NEW_IMAGE,
        # #14: the 8B's servers are replaced one after the other (each waits for the previous one's /health);
        # the 72B has one replica, hence its outage.
        outages=("qwen-72b",),
        rolling=("qwen-8b",),
    ),
    Scenario(
        "change-the-bootstrap",
        _set(hfToken="hf_" + "x" * 34),  # a gated model's token: every GPU host's user data reads it at boot
        # #10 item 8: userDataReplaceOnChange makes it a host replacement, which cloud-init applies; #14: host
        # qwen-8b-1 is replaced once qwen-8b-0's new server is healthy.
        outages=("qwen-72b",),
        rolling=("qwen-8b",),
    ),
    Scenario(
        "rotate-the-ssh-key",
        replace_types=(SSH_KEY,),
        # #10 item 5: the program writes the new key file itself (no one-shot command); #10 item 8: the new public
        # key is user data, so every host is replaced and gets it (rolling, #14).
        outages=("qwen-72b",),
        rolling=("qwen-8b",),
    ),
    Scenario(
        "rotate-the-api-key",
        _set(apiKey="k" * 40),
        rotate=("api-key-parameter",),
        # #14: the parameter's new version reaches every host (its bootstrap re-reads the secrets), then the
        # servers restart one replica at a time (their secrets-version label); the 72B's one server: an outage.
        outages=("qwen-72b",),
        rolling=("qwen-8b",),
    ),
    Scenario("deploy-from-a-fresh-runner", fresh_runner=True),  # nothing changes, nothing reaches Docker
    Scenario(
        "deploy-an-image-bump-from-a-fresh-runner",
        NEW_IMAGE,
        fresh_runner=True,
        # #10 item 5: every run writes ~/.ssh/vllm-aws-prod.key before a Docker provider connects.
        outages=("qwen-72b",),
        rolling=("qwen-8b",),
    ),
    Scenario("scale-replicas-down", _model("qwen-8b", replicas=1)),
    Scenario(
        "change-the-instance-type-of-two-replicas",
        _model("qwen-8b", instanceType="g6e.2xlarge"),
        # replace_on_changes makes the type a host replacement (delete first: the cache volume); #14: host
        # qwen-8b-1 goes only once qwen-8b-0's server on the new type is healthy.
        rolling=("qwen-8b",),
    ),
    Scenario(
        "switch-a-model-to-spot",
        SPOT_8B,
        # Switching works (the old, on-demand hosts can be stopped before their caches detach); #14: the hosts are
        # replaced one after the other.
        rolling=("qwen-8b",),
    ),
    Scenario(
        "scale-down-a-spot-model",
        _both(SPOT_8B, _model("qwen-8b", replicas=1)),
        old=SPOT_8B,
        # #14: spot requests are persistent (interruption: stop), so a spot host is stopped before its cache
        # detaches, like an on-demand one (#10 item 9 had to leave one-time spot hosts' attachments to termination).
    ),
    Scenario(
        "make-the-load-balancer-internal",
        _set(
            loadBalancer={
                "domain": "llm.example.com",
                "hostedZoneId": "ZREPLACEWITHYOURZONEID",
                "idleTimeoutSeconds": 600,
                "deletionProtection": True,
                "internal": True,
            }
        ),
        # `internal` is force-new, and the old ALB (deletion protection on, as prod ships) cannot be deleted: a
        # blocker that stays, whose fix is to turn the protection off in an `up` of its own first.
        blockers=(("OperationNotPermitted", LOAD_BALANCER),),
    ),
    # #13: closing the hosts' egress swaps their all-traffic rule for HTTPS and HTTP rules (creates, then the old
    # rule's delete): security-group rules only, no host or container is replaced; opening it again likewise.
    Scenario("close-the-hosts-egress", old=_set(network={"hostEgress": "open"})),
    Scenario("open-the-hosts-egress", _set(network={"hostEgress": "open"})),
    Scenario(
        "enable-the-kms-key",
        ENABLE_KMS_KEY,
        # #13: a root volume's kmsKeyId is force-new, so every host is replaced (rolling, #14); the cache volumes
        # ignore kmsKeyId (they keep their weights and the AWS managed key), so each host comes back warm
        # (test_enabling_the_kms_key_replaces_hosts_not_caches).
        outages=("qwen-72b",),
        rolling=("qwen-8b",),
    ),
    # #13: the ALB's access_logs attribute changes in place (ModifyLoadBalancerAttributes); the bucket is new.
    Scenario("enable-alb-access-logs", _enable_access_logs),
    # #14 Disk: ModifyVolume grows a root volume in place (no stop, no replacement); EBS never shrinks one, so a
    # smaller root or cache volume is a blocker (botocore ec2 ModifyVolumeRequest.Size), not a failed `up`.
    Scenario("grow-the-root-volumes", _set(rootVolumeGib=200)),
    Scenario(
        "shrink-the-root-volumes",
        _set(rootVolumeGib=140),
        old=_set(rootVolumeGib=200),
        blockers=(("InvalidParameterValue", "aws:ec2/instance:Instance"),) * 3,  # each GPU host's root
    ),
    Scenario(
        "shrink-the-caches",
        _set(cache={"sizeGib": 300}),
        old=_set(cache={"sizeGib": 400}),
        blockers=(("InvalidParameterValue", "aws:ebs/volume:Volume"),) * 3,  # each GPU host's cache
    ),
    Scenario(
        "a-new-az-appears",
        old_zones=("us-east-1b", "us-east-1c"),
        new_zones=("us-east-1a", "us-east-1b", "us-east-1c"),
        # #10 item 11: hosts follow their caches' zones (state), so the new zone moves nothing.
    ),
]


@cache
def _shipped(zones: tuple[str, ...] | None) -> dict[str, Any]:
    return _document(None, zones)


def _document(
    change: Change | None, zones: tuple[str, ...] | None, deployed: dict[str, Any] | None = None
) -> dict[str, Any]:
    # As `plan --compare` does: the deployed plan's volumes exist, and hosts follow them to their zones.
    aws = OfflineAws(
        offered_zones={"g6e.xlarge": list(zones)} if zones else {},
        volume_zones=volume_zones_of(deployed or {}),
    )
    return plan_document(STACK, change, aws)


def _diff(scenario: Scenario) -> dict[str, Any]:
    old = _shipped(scenario.old_zones) if scenario.old is None else _document(scenario.old, scenario.old_zones)
    new = _document(scenario.new, scenario.new_zones, deployed=old)
    forced = [r["urn"] for r in new["resources"] if r["type"] in scenario.replace_types]
    return compare(old, new, fresh_runner=scenario.fresh_runner, replace=forced, rotate=scenario.rotate)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_scenario(scenario: Scenario) -> None:
    diff = _diff(scenario)
    found = tuple(sorted((b["code"], b["type"]) for b in diff["blockers"]))
    assert found == tuple(sorted(scenario.blockers)), [b["reason"] for b in diff["blockers"]]
    for blocker in diff["blockers"]:
        # The reason names the AWS error or engine rule; a source and a fix come with it.
        assert blocker["reason"].startswith(f"{blocker['code']}: ") and blocker["source"] and blocker["fix"]
    assert tuple(sorted(a["model"] for a in diff["availability"] if a["outage"])) == scenario.outages
    assert all(a["fix"] for a in diff["availability"] if a["outage"])
    assert tuple(sorted(a["model"] for a in diff["availability"] if a["rolling"])) == scenario.rolling
    for model in diff["availability"]:
        if model["rolling"]:
            # One replica down at a time, for the sum of the replicas' downtimes, in the order the chain sets.
            assert model["replicasDown"] == 1 and not model["outage"]
            assert model["reducedCapacitySeconds"] > model["downtimeSeconds"] and len(model["order"]) > 1


# --- events outside Pulumi (#14): what heals itself leaves nothing for the next `pulumi up` ----------------------


@dataclass(frozen=True)
class Event:
    id: str
    old: Change | None
    model: str
    disruption: str
    """What the team sees, predicted: one replica gone for this long, then back by itself."""


EVENTS = [
    Event(
        "host-loss-restarted-by-automation",
        None,
        "qwen-8b",
        # StatusCheckFailed_System for 2 one-minute periods, then AWS-RestartEC2Instance stops and starts the host.
        "one replica for 2 min of detection + the plan's hostRestartSeconds (boot + warm start)",
    ),
    Event(
        "spot-interruption-persistent",
        SPOT_8B,
        "qwen-8b",
        # EC2 stops the host (2 minutes' notice) and starts the same instance when capacity returns.
        "one replica until spot capacity returns in its zone (unbounded) + the plan's hostRestartSeconds",
    ),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.id)
def test_an_event_that_heals_itself_needs_no_pulumi_change(event: Event) -> None:
    # The host keeps its instance id, private address and volumes: the stack as refreshed afterwards is the stack
    # as deployed, so `plan --compare` of the two is empty (no blocker, nothing replaced, no outage).
    before = _shipped(None) if event.old is None else _document(event.old, None)
    after = _document(event.old, None, deployed=before)
    diff = compare(before, after)
    resources = diff["resources"]
    assert resources["added"] == resources["removed"] == resources["replaced"] == resources["changed"] == []
    assert diff["blockers"] == diff["availability"] == []
    # The mechanism that heals it is in the plan, for every host of the model.
    hosts = [r for r in after["resources"] if r["type"] == "aws:ec2/instance:Instance"]
    hosts = [r for r in hosts if r["name"].startswith(f"{event.model}-")]
    names = {r["name"] for r in after["resources"]}
    for host in hosts:
        prefix = host["name"].removesuffix("-instance")
        if event.id.startswith("host-loss"):
            assert {f"{prefix}-system-check", f"{prefix}-restart-rule", f"{prefix}-restart-target"} <= names
        else:
            assert host["inputs"]["instanceMarketOptions"]["spotOptions"] == {
                "spotInstanceType": "persistent",
                "instanceInterruptionBehavior": "stop",
            }
    (model,) = [m for m in after["models"] if m["name"] == event.model]
    assert model["coldStart"]["hostRestartSeconds"] > 0 and "hostRestartSeconds" in event.disruption


def test_enabling_the_kms_key_replaces_hosts_not_caches() -> None:
    diff = _diff(Scenario("enable-the-kms-key", ENABLE_KMS_KEY))
    replaced = diff["resources"]["replaced"]
    types = {entry["type"] for entry in replaced}
    assert "aws:ec2/instance:Instance" in types
    assert "aws:ebs/volume:Volume" not in types  # ignoreChanges kmsKeyId: the weights stay, with the old key
    added = {entry["type"] for entry in diff["resources"]["added"]}
    assert {"aws:kms/key:Key", "aws:kms/alias:Alias"} <= added
    # The secrets' parameters move to the key in place (PutParameter with Overwrite), nothing replaced.
    assert "aws:ssm/parameter:Parameter" not in types
