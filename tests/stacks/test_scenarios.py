"""Day-2 scenarios a team goes through in its first months, each planned through the REAL program under mocks
for the old and the new config, then simulated (`plan --compare`): every one either plans with no blocker or
is reported with a blocker that names the AWS error or engine rule and a fix.

The expected outcome of each scenario is data below. The bugs of issue #10 were blockers here before their fixes
(the comment on a row names the item); what stays a blocker is a change AWS itself refuses, reported with its fix.
Outages (every replica of a model down in one `pulumi up`) are reported, not blocked.
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
    fresh_runner: bool = False
    blockers: tuple[tuple[str, str], ...] = ()
    """Expected blockers as sorted (code, resource type) pairs; () means the change plans with no blocker."""
    outages: tuple[str, ...] = ()
    """Models with every replica down at once."""


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
        # #10 item 8: userDataReplaceOnChange makes it a host replacement, which cloud-init applies; every host
        # of a model is replaced in the same `pulumi up`, hence the outages (rolling changes: #14).
        outages=("qwen-72b", "qwen-8b"),
    ),
    Scenario(
        "rotate-the-ssh-key",
        replace_types=(SSH_KEY,),
        # #10 item 5: the program writes the new key file itself (no one-shot command); #10 item 8: the new public
        # key is user data, so every host is replaced and gets it.
        outages=("qwen-72b", "qwen-8b"),
    ),
    Scenario("deploy-from-a-fresh-runner", fresh_runner=True),  # nothing changes, nothing reaches Docker
    Scenario(
        "deploy-an-image-bump-from-a-fresh-runner",
        NEW_IMAGE,
        fresh_runner=True,
        # #10 item 5: every run writes ~/.ssh/vllm-aws-prod.key before a Docker provider connects.
        outages=("qwen-72b", "qwen-8b"),
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
        # #10 item 9: a spot host's cache is detached by the instance's termination (skipDestroy), never by a stop.
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
    return compare(old, new, fresh_runner=scenario.fresh_runner, replace=forced)


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
