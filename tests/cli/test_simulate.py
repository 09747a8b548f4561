"""The day-2 simulator (``plan --compare``): which resource a new plan matches (URNs, aliases), what each input
change does to it (provider rules, resource options) and in which order the engine runs the steps.

Small hand-written plan documents: each rule fires, and stays silent. Every rule's source is cited where it is
encoded (components/cli/simulate/*); the tests name the rule.
"""

from __future__ import annotations

from typing import Any

import pytest
from simulations import ATTACH, COMMAND, CONTAINER, HOST, INSTANCE, RULE, SG, SPOT, VOLUME, codes, doc, op, res, run

from components.cli.simulate import simulate
from components.cli.simulate.engine import CBD, DBR
from components.cli.simulate.urns import inherited_alias, make_urn, parent_urn, qualified_type

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
