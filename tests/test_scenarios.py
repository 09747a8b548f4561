"""Day-2 scenarios a team goes through in its first months, each planned through the REAL program under mocks
for the old and the new config, then simulated (`plan --compare`): every one either plans with no blocker or
is reported with a blocker that names the AWS error or engine rule and a fix.

The expected outcome of each scenario is data below, set to what the code on this branch really does. Several
are blockers today on purpose: they are the bugs of issue #10, and the comment on each names the item whose fix
flips it (the integrator updates the row when that fix lands).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from stack_runs import plan_document

from components.cli.offline import OfflineAws
from components.diff import compare

STACK = "prod"
INSTANCE = "aws:ec2/instance:Instance"
ATTACHMENT = "aws:ec2/volumeAttachment:VolumeAttachment"
COMMAND = "command:local:Command"
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
    fresh_runner: bool = False
    blockers: tuple[tuple[str, str], ...] = ()
    """Expected blockers as sorted (code, resource type) pairs; () means the change plans with no blocker."""
    outages: tuple[str, ...] = ()
    """Models with every replica down at once."""
    flips_with: str | None = None


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
        # Every vLLM server is replaced in the same `pulumi up`: both models lose all replicas for a warm start.
        outages=("qwen-72b", "qwen-8b"),
    ),
    Scenario(
        "change-the-bootstrap",
        _set(hfToken="hf_" + "x" * 34),  # a gated model's token: every GPU host's user data reads it at boot
        # #10 item 8: user data is applied by stop/start, and cloud-init does not run it again. With
        # userDataReplaceOnChange the hosts are replaced instead: no blocker (the outages remain).
        blockers=(("UserDataNotApplied", INSTANCE),) * 3,
        outages=("qwen-72b", "qwen-8b"),
        flips_with="#10 item 8",
    ),
    Scenario(
        "rotate-the-ssh-key",
        replace_types=(SSH_KEY,),
        # #10 item 5: the key file's command is replaced create-before-delete and its old `delete` removes the
        # file the new one wrote. #10 item 8: the new public key reaches the hosts only as user data, which a
        # stop/start does not apply (four hosts, monitoring included).
        blockers=(("LocalSideEffectUndone", COMMAND), *(("UserDataNotApplied", INSTANCE),) * 4),
        outages=("qwen-72b", "qwen-8b"),
        flips_with="#10 items 5 and 8",
    ),
    Scenario("deploy-from-a-fresh-runner", fresh_runner=True),  # nothing changes, nothing reaches Docker
    Scenario(
        "deploy-an-image-bump-from-a-fresh-runner",
        NEW_IMAGE,
        fresh_runner=True,
        # #10 item 5: the Docker providers use ~/.ssh/vllm-aws-prod.key, written once by `ssh-key-file`.
        blockers=(("LocalSideEffectMissing", COMMAND),),
        outages=("qwen-72b", "qwen-8b"),
        flips_with="#10 item 5",
    ),
    Scenario("scale-replicas-down", _model("qwen-8b", replicas=1)),
    Scenario(
        "switch-a-model-to-spot",
        SPOT_8B,
        # Switching works (the old, on-demand hosts can be stopped before their caches detach); both hosts are
        # replaced at once.
        outages=("qwen-8b",),
    ),
    Scenario(
        "scale-down-a-spot-model",
        _both(SPOT_8B, _model("qwen-8b", replicas=1)),
        old=SPOT_8B,
        # #10 item 9: detaching the cache stops the one-time spot host first (EC2 UnsupportedOperation).
        blockers=(("UnsupportedOperation", ATTACHMENT),),
        flips_with="#10 item 9",
    ),
    Scenario(
        "a-new-az-appears",
        old_zones=("us-east-1b", "us-east-1c"),
        new_zones=("us-east-1a", "us-east-1b", "us-east-1c"),
        # #10 item 11: placement is recomputed, both replicas move one zone over, and their caches stay behind.
        blockers=(("InvalidVolume.ZoneMismatch", ATTACHMENT),) * 2,
        outages=("qwen-8b",),
        flips_with="#10 item 11",
    ),
]


@cache
def _shipped(zones: tuple[str, ...] | None) -> dict[str, Any]:
    return _document(None, zones)


def _document(change: Change | None, zones: tuple[str, ...] | None) -> dict[str, Any]:
    aws = OfflineAws(offered_zones={"g6e.xlarge": list(zones)}) if zones else None
    return plan_document(STACK, change, aws)


def _diff(scenario: Scenario) -> dict[str, Any]:
    old = _shipped(scenario.old_zones) if scenario.old is None else _document(scenario.old, scenario.old_zones)
    new = _shipped(scenario.new_zones) if scenario.new is None else _document(scenario.new, scenario.new_zones)
    forced = [r["urn"] for r in new["resources"] if r["type"] in scenario.replace_types]
    return compare(old, new, fresh_runner=scenario.fresh_runner, replace=forced)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_scenario(scenario: Scenario) -> None:
    diff = _diff(scenario)
    found = tuple(sorted((b["code"], b["type"]) for b in diff["blockers"]))
    # A row that changes after a fix is expected: update it (flips_with names the fix that changes it).
    assert found == tuple(sorted(scenario.blockers)), (scenario.flips_with, [b["reason"] for b in diff["blockers"]])
    for blocker in diff["blockers"]:
        # The reason names the AWS error or engine rule; a source and a fix come with it.
        assert blocker["reason"].startswith(f"{blocker['code']}: ") and blocker["source"] and blocker["fix"]
    assert tuple(sorted(a["model"] for a in diff["availability"] if a["outage"])) == scenario.outages
    assert all(a["fix"] for a in diff["availability"] if a["outage"])
