"""The day-2 simulator's rules on small hand-written plan documents: each rule fires, and stays silent.

Every rule's source is cited where it is encoded (components/simulate/*); the tests name the rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from import_graph import reachable, read_graph
from stack_runs import run_stack

import components
from components.cli.program import run_program
from components.cli.report import resource_json
from components.cli.simulate import simulate
from components.cli.simulate.engine import CBD, DBR
from components.cli.simulate.paths import diff, mask, parse
from components.cli.simulate.provider_rules import RULES, has_rule
from components.cli.simulate.urns import inherited_alias, make_urn, parent_urn, qualified_type

INSTANCE = "aws:ec2/instance:Instance"
VOLUME = "aws:ebs/volume:Volume"
ATTACH = "aws:ec2/volumeAttachment:VolumeAttachment"
RULE = "aws:lb/listenerRule:ListenerRule"
LISTENER = "aws:lb/listener:Listener"
CONTAINER = "docker:index/container:Container"
COMMAND = "command:local:Command"
SG = "aws:ec2/securityGroup:SecurityGroup"
HOST = "vllm-aws:index:GpuHost"
SPOT = {"marketType": "spot", "spotOptions": {"spotInstanceType": "one-time"}}


def res(type_: str, name: str, /, parent: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A plan-JSON resource; ``fields`` are inputs, except the option names given in ``options``."""
    options = fields.pop("options", {})
    return {
        "type": type_,
        "name": name,
        "urn": make_urn("s", "p", parent["urn"] if parent else None, type_, name),
        "parent": parent["name"] if parent else None,
        "custom": fields.pop("custom", True),
        "inputs": fields,
        "options": options,
    }


def doc(*resources: dict[str, Any], models: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    return {"stack": "s", "models": list(models), "resources": list(resources)}


def run(old: list[dict[str, Any]], new: list[dict[str, Any]], **kwargs: Any) -> Any:
    return simulate(doc(*old), doc(*new), **kwargs)


def op(simulation: Any, name: str) -> str:
    return next(d.op for u, d in simulation.run.decisions.items() if simulation.run.new[u].name == name)


def codes(simulation: Any) -> list[str]:
    return sorted(b.code for b in simulation.blockers)


# --- identity (#10 item 14) -----------------------------------------------------------------------------------


def test_urns_follow_the_parent_type_chain() -> None:
    host = make_urn("s", "p", None, HOST, "h")
    child = make_urn("s", "p", host, INSTANCE, "h-instance")
    assert host == "urn:pulumi:s::p::vllm-aws:index:GpuHost::h"
    assert qualified_type(child) == f"{HOST}${INSTANCE}"
    assert parent_urn(child, "h") == host and parent_urn(host, None) is None
    root = make_urn("s", "p", None, "pulumi:pulumi:Stack", "p-s")
    assert make_urn("s", "p", root, INSTANCE, "i") == f"urn:pulumi:s::p::{INSTANCE}::i"
    assert inherited_alias(INSTANCE, "new-instance", "new", host) == make_urn("s", "p", host, INSTANCE, "h-instance")


def test_a_reparent_is_a_delete_and_a_create_not_no_change() -> None:
    host = res(HOST, "h", custom=False)
    old = [res(INSTANCE, "i", instanceType="g6.xlarge")]
    new = [host, res(INSTANCE, "i", parent=host, instanceType="g6.xlarge")]
    simulation = run(old, new)
    (created,) = [u for u in simulation.run.matching.created if simulation.run.new[u].type == INSTANCE]
    assert simulation.run.matching.moved == {created: old[0]["urn"]}
    assert [s.op for s in simulation.run.steps if s.urn in (created, old[0]["urn"])] == ["create", "delete"]


def test_another_parent_of_the_same_type_keeps_the_urn() -> None:
    old_host, new_host = res(HOST, "a", custom=False), res(HOST, "b", custom=False)
    simulation = run([old_host, res(INSTANCE, "i", parent=old_host)], [new_host, res(INSTANCE, "i", parent=new_host)])
    assert op(simulation, "i") == "same"


def test_an_alias_carries_the_old_state_and_children_inherit_it() -> None:
    old_host = res(HOST, "old", custom=False)
    old = [old_host, res(INSTANCE, "old-instance", parent=old_host, instanceType="a")]
    new_host = res(HOST, "new", custom=False, options={"aliases": [old_host["urn"]]})
    new = [new_host, res(INSTANCE, "new-instance", parent=new_host, instanceType="a")]
    simulation = run(old, new)
    assert simulation.run.matching.created == () and simulation.run.matching.deleted == ()
    assert op(simulation, "new-instance") == "same"


def test_an_old_plan_without_urns_is_matched_by_type_and_name() -> None:
    new = [res(INSTANCE, "i", instanceType="b")]
    old = [{k: v for k, v in new[0].items() if k != "urn"} | {"inputs": {"instanceType": "a"}}]
    simulation = simulate(doc(*old), doc(*new))
    assert op(simulation, "i") == "stop-start" and "no resource URNs" in simulation.notes[0]


# --- provider rules -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "before", "after", "expected"),
    [
        (INSTANCE, {"instanceType": "a"}, {"instanceType": "b"}, "stop-start"),
        (INSTANCE, {"userData": "a"}, {"userData": "b"}, "stop-start"),
        (INSTANCE, {"userData": "a"}, {"userData": "b", "userDataReplaceOnChange": True}, "replace"),
        (INSTANCE, {"subnetId": "a"}, {"subnetId": "b"}, "replace"),
        (INSTANCE, {"rootBlockDevice": {"encrypted": True}}, {"rootBlockDevice": {"encrypted": False}}, "replace"),
        (INSTANCE, {"rootBlockDevice": {"volumeSize": 1}}, {"rootBlockDevice": {"volumeSize": 2}}, "update"),
        (INSTANCE, {"tags": {"a": "1"}}, {"tags": {"a": "2"}}, "update"),
        (INSTANCE, {}, {"instanceMarketOptions": SPOT}, "replace"),
        (CONTAINER, {"image": "a"}, {"image": "b"}, "replace"),
        (CONTAINER, {"restart": "no"}, {"restart": "always"}, "update"),
        (RULE, {"priority": 1}, {"priority": 2}, "update"),
        (RULE, {"listenerArn": "a"}, {"listenerArn": "b"}, "replace"),
        (SG, {"description": "a"}, {"description": "b"}, "replace"),
        (
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            {"cidrIpv4": "10.0.0.0/8"},
            {"cidrIpv4": "10.1.0.0/16"},
            "update",
        ),
        (
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            {"cidrIpv4": "10.0.0.0/8"},
            {"referencedSecurityGroupId": "sg-1"},
            "replace",
        ),
        (COMMAND, {"environment": {"A": "1"}}, {"environment": {"A": "2"}}, "update"),
        (COMMAND, {"triggers": ["a"]}, {"triggers": ["b"]}, "replace"),
        ("example:index:Unknown", {"a": 1}, {"a": 2}, "replace"),
    ],
)
def test_each_input_change_replaces_stops_and_starts_or_updates(
    type_: str, before: dict[str, Any], after: dict[str, Any], expected: str
) -> None:
    assert op(run([res(type_, "r", **before)], [res(type_, "r", **after)]), "r") == expected


def test_ignore_changes_masks_and_replace_on_changes_promotes() -> None:
    old = [res(INSTANCE, "i", ami="a", instanceType="x")]
    assert (
        op(run(old, [res(INSTANCE, "i", ami="b", instanceType="x", options={"ignoreChanges": ["ami"]})]), "i") == "same"
    )
    new = [res(INSTANCE, "i", ami="a", instanceType="y", options={"replaceOnChanges": ["instanceType"]})]
    assert op(run(old, new), "i") == "replace"


def test_replacement_trigger_fires_only_between_two_values() -> None:
    old = [res(CONTAINER, "c", options={"replacementTrigger": "i-1"})]
    assert op(run(old, [res(CONTAINER, "c", options={"replacementTrigger": "i-2"})]), "c") == "replace"
    assert op(run(old, [res(CONTAINER, "c", options={"replacementTrigger": None})]), "c") == "same"


def test_a_replaced_dependency_replaces_what_takes_a_forcing_input_from_it() -> None:
    old = [res(INSTANCE, "i", subnetId="a"), res(ATTACH, "at", instanceId="i-1", options={"dependsOn": ["i"]})]
    deps = {"dependsOn": ["i"], "propertyDependencies": {"instanceId": ["i"]}}
    replaced = run(old, [res(INSTANCE, "i", subnetId="b"), res(ATTACH, "at", instanceId="i-1", options=deps)])
    assert op(replaced, "at") == "replace"
    # A dependsOn edge alone carries no value: nothing to replace.
    ordered = run(
        old, [res(INSTANCE, "i", subnetId="b"), res(ATTACH, "at", instanceId="i-1", options={"dependsOn": ["i"]})]
    )
    assert op(ordered, "at") == "same"


def test_deleted_with_and_replace_with_cascade() -> None:
    old = [res(INSTANCE, "i", subnetId="a"), res(CONTAINER, "c"), res(COMMAND, "k")]
    new = [
        res(INSTANCE, "i", subnetId="b"),
        res(CONTAINER, "c", options={"deletedWith": "i"}),
        res(COMMAND, "k", options={"replaceWith": ["i"]}),
    ]
    simulation = run(old, new)
    assert op(simulation, "c") == op(simulation, "k") == "replace"
    assert op(run(old, [res(INSTANCE, "i", subnetId="a"), *new[1:]]), "c") == "same"


@pytest.mark.parametrize(
    ("resource", "mode"),
    [
        (res(SG, "g", description="b"), CBD),  # auto-named: a fresh name, no clash
        (res(SG, "g", description="b", name="fixed"), DBR),  # explicit name on an SDKv2 resource
        (res(CONTAINER, "c", image="b"), DBR),  # pulumi-docker's default
        (res(CONTAINER, "c", image="b", options={"deleteBeforeReplace": False}), CBD),  # explicit false wins
        (res(INSTANCE, "i", subnetId="b", options={"deleteBeforeReplace": True}), DBR),
    ],
)
def test_replace_mode(resource: dict[str, Any], mode: str) -> None:
    before = {**resource, "inputs": {**resource["inputs"], "description": "a", "image": "a", "subnetId": "a"}}
    simulation = run([before], [resource])
    assert next(iter(simulation.run.decisions.values())).mode == mode


# --- step order -----------------------------------------------------------------------------------------------


def _host_pair(subnet: str, dbr: bool) -> list[dict[str, Any]]:
    deps = {"dependsOn": ["i"], "propertyDependencies": {"instanceId": ["i"]}}
    return [
        res(INSTANCE, "i", subnetId=subnet, options={"deleteBeforeReplace": dbr}),
        res(ATTACH, "at", instanceId="i-1", volumeId="vol-1", deviceName="/dev/sdf", options=deps),
    ]


def test_delete_before_replace_deletes_dependents_then_itself_then_creates_at_registration() -> None:
    simulation = run(_host_pair("a", True), _host_pair("b", True))
    steps = [(s.phase, s.op, s.urn.rsplit("::", 1)[-1]) for s in simulation.run.steps]
    assert steps == [
        ("program", "delete-replaced", "at"),
        ("program", "delete-replaced", "i"),
        ("program", "create-replacement", "i"),
        ("program", "create-replacement", "at"),
    ]
    assert simulation.blockers == []


def test_create_before_delete_creates_at_registration_and_deletes_last_dependents_first() -> None:
    simulation = run(_host_pair("a", False), _host_pair("b", False))
    steps = [(s.phase, s.op, s.urn.rsplit("::", 1)[-1], s.round) for s in simulation.run.steps]
    assert steps == [
        ("program", "create-replacement", "i", None),
        ("program", "create-replacement", "at", None),
        ("delete", "delete-replaced", "at", 0),
        ("delete", "delete-replaced", "i", 1),
    ]
    # The new attachment claims the volume while the old one still holds it.
    assert codes(simulation) == ["VolumeInUse"]


def test_deletes_of_resources_deleted_with_their_host_or_retained_skip_the_provider() -> None:
    old = [
        res(INSTANCE, "i"),
        res(CONTAINER, "c", options={"deletedWith": "i"}),
        res(VOLUME, "v", options={"retainOnDelete": True}),
    ]
    simulation = run(old, [])
    skipped = {s.urn.rsplit("::", 1)[-1]: s.skipped for s in simulation.run.steps}
    assert skipped == {"c": "deletedWith", "i": None, "v": "retainOnDelete"}


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
    one = simulate(
        doc(*old, models=(MODEL,)), doc(*_model_host(0, "a", "2"), *_model_host(1, "a", "1"), models=(MODEL,))
    )
    assert [(m["replicasDown"], m["outage"], m["fix"]) for m in one.availability] == [(1, False, None)]


# --- paths and coverage -----------------------------------------------------------------------------------------


def test_property_paths() -> None:
    assert parse('a.b[0]["c.d"][*]') == ("a", "b", "0", "c.d", "*")
    assert diff({"a": [1, {"b": 2}]}, {"a": [1, {"b": 3}], "c": 1}) == [("a", "1", "b"), ("c",)]
    assert mask({"a": [{"b": 1}, {"b": 2}]}, {"a": [{"b": 5}, {"b": 6}], "x": 1}, ["a[*].b", "x"]) == {
        "a": [{"b": 1}, {"b": 2}]
    }


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_type_the_stack_registers_has_a_provider_rule(stack: str) -> None:
    types = {r.type for r in run_stack(stack).resources if r.custom}
    assert {t for t in types if not has_rule(t)} == set()
    assert all(rule.source for rule in RULES.values())


_ALIAS_PROGRAM = """
import pulumi
import pulumi_random as random


class Box(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("test:index:Box", name, None, opts)
        random.RandomPassword(f"{name}-pw", length=8, opts=pulumi.ResourceOptions(parent=self))


Box({name!r}, opts=pulumi.ResourceOptions(aliases={aliases}))
"""


def _program_document(tmp_path: Path, name: str, aliases: str) -> dict[str, Any]:
    program = tmp_path / f"{name}.py"
    program.write_text(_ALIAS_PROGRAM.format(name=name, aliases=aliases))
    run = run_program(program, {}, [], "s", project="p")
    return doc(*(resource_json(r) for r in run.resources))


def test_the_program_records_aliases_and_the_simulator_honours_them(tmp_path: Path) -> None:
    old = _program_document(tmp_path, "old", "[]")
    renamed = _program_document(tmp_path, "new", "[]")
    aliased = _program_document(tmp_path, "new", '[pulumi.Alias(name="old")]')
    box = next(r for r in aliased["resources"] if r["type"] == "test:index:Box")
    assert box["options"]["aliases"] == ["urn:pulumi:s::p::test:index:Box::old"]
    # Without the alias a rename is a delete and a create; with it, the child follows its parent's alias.
    assert len(simulate(old, renamed).run.matching.created) == 2
    matched = simulate(old, aliased).run
    assert matched.matching.created == () and set(matched.matching.aliased.values()) == {
        "urn:pulumi:s::p::test:index:Box::old",
        "urn:pulumi:s::p::test:index:Box$random:index/randomPassword:RandomPassword::old-pw",
    }


def test_the_simulator_imports_no_pulumi() -> None:
    # Pure logic: it reads plan documents only. Follow every package import of every simulator module (package
    # __init__ re-exports included) and reject any Pulumi import on the way.
    modules = read_graph(Path(components.__file__).parent)
    simulator = [name for name in modules if name.startswith("components.cli.simulate")]
    seen = set().union(*(reachable(modules, name) for name in simulator))
    for name in seen:
        assert not {e for e in modules[name].external if e.startswith("pulumi")}, name
    assert "components._naming" in seen  # the crawl follows imports (disruption reads the tag keys)
