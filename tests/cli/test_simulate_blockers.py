"""The day-2 simulator's blockers and disruptions: what AWS or the engine refuses at ``pulumi up`` (uniqueness
races, protected resources, spot hosts, zones, one-shot local commands), and outages."""

from __future__ import annotations

from typing import Any

import pytest
from simulations import ATTACH, COMMAND, CONTAINER, INSTANCE, LISTENER, RULE, SG, SPOT, VOLUME, codes, doc, res, run

from components.cli.simulate import simulate

# --- uniqueness -----------------------------------------------------------------------------------------------


def _rule(name: str, priority: int, **options: Any) -> dict[str, Any]:
    return res(RULE, name, listenerArn="arn:l", priority=priority, options=options)


def test_priority_in_use_when_the_holder_goes_only_in_the_delete_phase() -> None:
    simulation = run([_rule("a-rule", 100)], [_rule("b-rule", 100)])
    assert codes(simulation) == ["PriorityInUse"] and "delete phase" in simulation.blockers[0].reason
    assert run([_rule("a-rule", 100)], [_rule("b-rule", 101)]).blockers == []


def test_swapped_priorities_race() -> None:
    simulation = run([_rule("a", 1), _rule("b", 2)], [_rule("a", 2), _rule("b", 1)])
    assert codes(simulation) == ["PriorityInUse", "PriorityInUse"]
    # Moving onto a priority the other rule gives up first is safe when the move waits for it.
    ordered = run([_rule("a", 1), _rule("b", 2)], [_rule("a", 3), _rule("b", 1, dependsOn=["a"])])
    assert ordered.blockers == []


def test_a_listener_on_a_taken_port_fails_unless_identical_which_adopts_it_until_the_old_delete() -> None:
    old = [res(LISTENER, "http", loadBalancerArn="arn:lb", port=80, protocol="HTTP", defaultActions=["404"])]
    redirect = [res(LISTENER, "redirect", loadBalancerArn="arn:lb", port=80, protocol="HTTP", defaultActions=["301"])]
    assert codes(run(old, redirect)) == ["DuplicateListener"]
    same = [res(LISTENER, "renamed", loadBalancerArn="arn:lb", port=80, protocol="HTTP", defaultActions=["404"])]
    (blocker,) = run(old, same).blockers
    assert "adopts" in blocker.reason and "removes what the new resource owns" in blocker.reason


def test_ssm_parameter_names_and_overwrite() -> None:
    old = [res("aws:ssm/parameter:Parameter", "a", name="/x")]
    assert codes(run(old, [res("aws:ssm/parameter:Parameter", "b", name="/x")])) == ["ParameterAlreadyExists"]
    overwrite = run(old, [res("aws:ssm/parameter:Parameter", "b", name="/x", overwrite=True)])
    assert "adopts" in overwrite.blockers[0].reason
    assert run(old, [res("aws:ssm/parameter:Parameter", "a", name="/x", value="2")]).blockers == []


def test_a_retained_holder_never_lets_go() -> None:
    old = [res("aws:iam/role:Role", "a", name="r", options={"retainOnDelete": True})]
    assert codes(run(old, [res("aws:iam/role:Role", "b", name="r")])) == ["EntityAlreadyExists"]


# --- engine, EC2, local side effects -----------------------------------------------------------------------------


def test_protected_resources_cannot_be_replaced_or_deleted() -> None:
    old = [res(INSTANCE, "i", subnetId="a", options={"protect": True})]
    assert codes(run(old, [res(INSTANCE, "i", subnetId="b", options={"protect": True})])) == ["Protected"]
    assert codes(run(old, [])) == ["Protected"]
    assert run(old, [res(INSTANCE, "i", subnetId="a", options={"protect": True})]).blockers == []


def test_a_one_time_spot_instance_cannot_be_stopped() -> None:
    old = [res(INSTANCE, "i", instanceType="a", instanceMarketOptions=SPOT)]
    assert codes(run(old, [res(INSTANCE, "i", instanceType="b", instanceMarketOptions=SPOT)])) == [
        "UnsupportedOperation"
    ]
    persistent = {"marketType": "spot", "spotOptions": {"spotInstanceType": "persistent"}}
    old_p = [res(INSTANCE, "i", instanceType="a", instanceMarketOptions=persistent)]
    assert run(old_p, [res(INSTANCE, "i", instanceType="b", instanceMarketOptions=persistent)]).blockers == []


@pytest.mark.parametrize(
    ("spot", "skip", "expected"), [(SPOT, False, ["UnsupportedOperation"]), (SPOT, True, []), (None, False, [])]
)
def test_detaching_from_a_spot_host_stops_it_first(spot: Any, skip: bool, expected: list[str]) -> None:
    deps = {"propertyDependencies": {"instanceId": ["i"]}, "dependsOn": ["i"]}
    old = [
        res(INSTANCE, "i", instanceMarketOptions=spot),
        res(ATTACH, "at", instanceId="i-1", stopInstanceBeforeDetaching=True, skipDestroy=skip, options=deps),
    ]
    assert codes(run(old, [])) == expected


def test_a_volume_attaches_only_in_its_own_zone() -> None:
    deps = {"propertyDependencies": {"instanceId": ["i"], "volumeId": ["v"]}, "dependsOn": ["i", "v"]}

    def stack(zone: str) -> list[dict[str, Any]]:
        return [
            res(INSTANCE, "i", availabilityZone=zone, options={"deleteBeforeReplace": True}),
            res(VOLUME, "v", availabilityZone=zone, options={"ignoreChanges": ["availabilityZone"]}),
            res(ATTACH, "at", instanceId="i-1", volumeId="vol-1", options={**deps, "deleteBeforeReplace": True}),
        ]

    assert codes(run(stack("a"), stack("b"))) == ["InvalidVolume.ZoneMismatch"]
    assert run(stack("a"), stack("a")).blockers == []


def test_user_data_changed_in_place_is_never_applied() -> None:
    old = [res(INSTANCE, "i", userData="a")]
    assert codes(run(old, [res(INSTANCE, "i", userData="b")])) == ["UserDataNotApplied"]
    assert run(old, [res(INSTANCE, "i", userData="b", userDataReplaceOnChange=True)]).blockers == []


def test_delete_before_replace_of_a_group_still_in_use() -> None:
    group = {"vpcId": "v", "description": "a", "name": "fixed"}
    users = {"propertyDependencies": {"vpcSecurityGroupIds": ["g"]}, "dependsOn": ["g"]}
    old = [res(SG, "g", **group), res(INSTANCE, "i", vpcSecurityGroupIds=["sg-1"], options=users)]
    new = [
        res(SG, "g", **{**group, "description": "b"}),
        res(INSTANCE, "i", vpcSecurityGroupIds=["sg-1"], options=users),
    ]
    assert codes(run(old, new)) == ["DependencyViolation"]
    auto = {k: v for k, v in group.items() if k != "name"}
    old_auto = [res(SG, "g", **auto), old[1]]
    assert run(old_auto, [res(SG, "g", **{**auto, "description": "b"}), new[1]]).blockers == []


def test_a_load_balancer_with_deletion_protection_cannot_be_deleted_or_replaced() -> None:
    # botocore elbv2 DeleteLoadBalancer: "You can't delete a load balancer if deletion protection is enabled".
    alb = "aws:lb/loadBalancer:LoadBalancer"
    protected = [res(alb, "lb", internal=False, enableDeletionProtection=True)]
    assert codes(run(protected, [])) == ["OperationNotPermitted"]
    # Turning protection off in the same change only reaches the new half: the old one still refuses.
    replaced = [res(alb, "lb", internal=True, enableDeletionProtection=False)]
    assert codes(run(protected, replaced)) == ["OperationNotPermitted"]
    unprotected = [res(alb, "lb", internal=False, enableDeletionProtection=False)]
    assert run(unprotected, []).blockers == []
    assert run(unprotected, replaced).blockers == []
    assert run(protected, [res(alb, "lb", internal=False, enableDeletionProtection=False)]).blockers == []


def _key_file(trigger: str, delete: str | None = "rm -f ~/.ssh/k") -> dict[str, Any]:
    return res(COMMAND, "key-file", create="write ~/.ssh/k", delete=delete, triggers=[trigger])


def test_a_replaced_local_command_is_undone_by_its_own_old_delete() -> None:
    assert codes(run([_key_file("a")], [_key_file("b")])) == ["LocalSideEffectUndone"]
    assert run([_key_file("a", None)], [_key_file("b", None)]).blockers == []


def _docker(key_file: dict[str, Any], image: str) -> list[dict[str, Any]]:
    provider = res("pulumi:providers:docker", "d", host="ssh://h", options={"dependsOn": ["key-file"]})
    return [key_file, provider, res(CONTAINER, "c", image=image, options={"provider": "d", "dependsOn": ["d"]})]


def test_a_fresh_runner_lacks_what_a_one_shot_local_command_wrote() -> None:
    old = _docker(_key_file("a"), "img:1")
    assert codes(run(old, _docker(_key_file("a"), "img:2"), fresh_runner=True)) == ["LocalSideEffectMissing"]
    assert run(old, _docker(_key_file("a"), "img:2")).blockers == []  # the machine that wrote it
    assert run(old, old, fresh_runner=True).blockers == []  # nothing goes through the provider


# --- disruptions --------------------------------------------------------------------------------------------------


def _model_host(n: int, subnet: str, image: str) -> list[dict[str, Any]]:
    instance = res(
        INSTANCE, f"m-{n}", subnetId=subnet, tags={"vllm-aws:model": "m"}, options={"deleteBeforeReplace": True}
    )
    server = res(
        CONTAINER,
        f"m-{n}-server",
        image=image,
        labels=[{"label": "vllm-aws.model", "value": "m"}],
        options={"deletedWith": f"m-{n}"},
    )
    return [instance, server]


MODEL = {
    "name": "m",
    "replicas": 2,
    "coldStart": {"hostReplacementSeconds": 400, "hostRestartSeconds": 150, "warmCacheSeconds": 60},
}


def test_every_replica_down_at_once_is_an_outage() -> None:
    old = [*_model_host(0, "a", "1"), *_model_host(1, "a", "1")]
    new = [*_model_host(0, "b", "1"), *_model_host(1, "a", "2")]
    simulation = simulate(doc(*old, models=(MODEL,)), doc(*new, models=(MODEL,)))
    assert [(d["kind"], d["host"], d["downtimeSeconds"]) for d in simulation.disruptions] == [
        ("host-replaced", "m-0", 400),
        ("server-restarted", "m-1", 60),
    ]
    (model,) = simulation.availability
    assert model["outage"] is True and model["replicasDown"] == 2 and "one host at a time" in model["fix"]
    assert model["rolling"] is False
    one = simulate(
        doc(*old, models=(MODEL,)), doc(*_model_host(0, "a", "2"), *_model_host(1, "a", "1"), models=(MODEL,))
    )
    assert [(m["replicasDown"], m["outage"], m["fix"]) for m in one.availability] == [(1, False, None)]


def _health_wait(n: int) -> list[dict[str, Any]]:
    """Host n's health wait: finishes once its server answers /health."""
    return [res("command:local:Command", f"m-{n}-health", create="wait", options={"dependsOn": [f"m-{n}-server"]})]


def _chained_host(n: int, subnet: str, image: str) -> list[dict[str, Any]]:
    instance, server = _model_host(n, subnet, image)
    if n:
        instance["options"] = {**instance["options"], "dependsOn": [f"m-{n - 1}-health"]}
        server["options"] = {**server["options"], "dependsOn": [f"m-{n - 1}-health"]}
    return [instance, server, *_health_wait(n)]


def test_a_change_chained_through_the_health_waits_rolls_one_replica_at_a_time() -> None:
    old = [*_chained_host(0, "a", "1"), *_chained_host(1, "a", "1")]
    new = [*_chained_host(0, "b", "1"), *_chained_host(1, "b", "1")]
    simulation = simulate(doc(*old, models=(MODEL,)), doc(*new, models=(MODEL,)))
    assert [(d["host"], d["after"]) for d in simulation.disruptions] == [("m-0", []), ("m-1", ["m-0"])]
    (model,) = simulation.availability
    assert (model["replicasDown"], model["outage"], model["rolling"]) == (1, False, True)
    assert model["order"] == ["m-0", "m-1"] and model["reducedCapacitySeconds"] == 800
    # The image bump restarts the servers one after the other too: host m-1's server waits for m-0's health wait.
    bumped = simulate(
        doc(*old, models=(MODEL,)), doc(*_chained_host(0, "a", "2"), *_chained_host(1, "a", "2"), models=(MODEL,))
    )
    (model,) = bumped.availability
    assert (model["outage"], model["rolling"], model["reducedCapacitySeconds"]) == (False, True, 120)
    single = {**MODEL, "replicas": 1}
    (alone,) = simulate(
        doc(*_chained_host(0, "a", "1"), models=(single,)), doc(*_chained_host(0, "b", "1"), models=(single,))
    ).availability
    assert alone["outage"] is True and alone["rolling"] is False and "2 replicas" in alone["fix"]
