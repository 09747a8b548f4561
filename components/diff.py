"""``plan --compare``: what a change does to resources, cost and capacity, from two plan documents.

Replacement is predicted the way Pulumi decides it where that is knowable offline: inputs the provider
cannot update in place (per resource type, below), ``replaceOnChanges`` and ``replacementTrigger`` options,
and dependents that are replaced with their host. What only ``pulumi preview`` can know (drift, provider
defaults, values looked up in AWS at preview) is said in ``previewOnly``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SCHEMA_VERSION = 1

# Inputs whose change forces a new resource (the providers' ForceNew fields we set). "*" = any input.
REPLACE_ON: dict[str, frozenset[str]] = {
    "aws:ec2/instance:Instance": frozenset(
        {"availabilityZone", "subnetId", "instanceMarketOptions", "associatePublicIpAddress", "instanceType"}
    ),
    "aws:ebs/volume:Volume": frozenset({"availabilityZone", "snapshotId", "encrypted", "kmsKeyId"}),
    "aws:ec2/volumeAttachment:VolumeAttachment": frozenset({"deviceName", "instanceId", "volumeId"}),
    "aws:ec2/securityGroup:SecurityGroup": frozenset({"vpcId", "name", "description"}),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": frozenset({"securityGroupId"}),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": frozenset({"securityGroupId"}),
    "aws:iam/role:Role": frozenset({"name", "path"}),
    "aws:iam/rolePolicy:RolePolicy": frozenset({"role", "name"}),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": frozenset({"role", "policyArn"}),
    "aws:iam/instanceProfile:InstanceProfile": frozenset({"name", "path"}),
    "aws:ssm/parameter:Parameter": frozenset({"name"}),
    "aws:lb/loadBalancer:LoadBalancer": frozenset({"internal", "loadBalancerType", "name"}),
    "aws:lb/targetGroup:TargetGroup": frozenset({"name", "port", "protocol", "vpcId", "targetType"}),
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": frozenset({"targetGroupArn", "targetId", "port"}),
    "aws:lb/listener:Listener": frozenset({"loadBalancerArn"}),
    "aws:lb/listenerRule:ListenerRule": frozenset({"listenerArn"}),
    # The Docker provider recreates containers and images for (nearly) any change.
    "docker:index/container:Container": frozenset({"*"}),
    "docker:index/remoteImage:RemoteImage": frozenset({"name", "build"}),
    "docker:index/network:Network": frozenset({"name", "driver"}),
    "command:local:Command": frozenset({"*"}),
    "tls:index/privateKey:PrivateKey": frozenset({"*"}),
    "random:index/randomPassword:RandomPassword": frozenset({"*"}),
}
# Replaced whenever a resource they depend on is replaced (they name its id or live on it).
REPLACED_WITH_DEPENDENCY = frozenset(
    {
        "aws:ec2/volumeAttachment:VolumeAttachment",
        "aws:lb/targetGroupAttachment:TargetGroupAttachment",
        "command:local:Command",
        "docker:index/container:Container",
        "docker:index/remoteImage:RemoteImage",
        "docker:index/network:Network",
    }
)
INSTANCE = "aws:ec2/instance:Instance"
CONTAINER = "docker:index/container:Container"
PREVIEW_ONLY = [
    "Drift (changes made outside Pulumi) and provider-side defaults are invisible offline.",
    "Values looked up in AWS at preview (latest DLAMI, AZ offerings, subnets) are placeholders offline; "
    "a new DLAMI release never replaces a host (ignored), but an AZ that stops offering a type would.",
]


def _key(resource: Mapping[str, Any]) -> tuple[str, str]:
    return str(resource["type"]), str(resource["name"])


def _changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    fields = sorted(set(old) | set(new))
    return [field for field in fields if old.get(field) != new.get(field)]


def _model_of(name: str, models: list[str]) -> str | None:
    """The model a resource belongs to, from its logical name (``<model>-<n>-...``)."""
    for model in sorted(models, key=len, reverse=True):
        if name.startswith(f"{model}-"):
            return model
    return None


def compare(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The diff document (README "Plan diff JSON")."""
    old_resources = {_key(r): r for r in old.get("resources", [])}
    new_resources = {_key(r): r for r in new.get("resources", [])}
    added = sorted(set(new_resources) - set(old_resources))
    removed = sorted(set(old_resources) - set(new_resources))

    replaced: dict[tuple[str, str], list[str]] = {}
    changed: dict[tuple[str, str], list[str]] = {}
    for key in sorted(set(old_resources) & set(new_resources)):
        before, after = old_resources[key], new_resources[key]
        fields = _changed_fields(before.get("inputs", {}), after.get("inputs", {}))
        ignored = set(after.get("options", {}).get("ignoreChanges", []))
        fields = [f for f in fields if f not in ignored]
        force = REPLACE_ON.get(key[0], frozenset()) | set(after.get("options", {}).get("replaceOnChanges", []))
        trigger_changed = before.get("options", {}).get("replacementTrigger") != after.get("options", {}).get(
            "replacementTrigger"
        )
        forcing = [f for f in fields if "*" in force or f in force]
        if forcing or trigger_changed:
            replaced[key] = forcing or ["replacementTrigger"]
        elif fields:
            changed[key] = fields

    # Dependents of replaced resources: offline ids do not change, so follow the dependency graph instead.
    by_name = {name: (type_, name) for type_, name in new_resources}
    progress = True
    while progress:
        progress = False
        for key, resource in new_resources.items():
            if key in replaced or key in added or key[0] not in REPLACED_WITH_DEPENDENCY:
                continue
            options = resource.get("options", {})
            deps = [*options.get("dependsOn", []), options.get("deletedWith")]
            causes = [d for d in deps if d and by_name.get(d) in replaced]
            if causes:
                replaced[key] = [f"replaced with {causes[0]}"]
                changed.pop(key, None)
                progress = True

    old_models = {m["name"]: m for m in old.get("models", [])}
    new_models = {m["name"]: m for m in new.get("models", [])}
    all_models = sorted(set(old_models) | set(new_models))
    disruptions = _disruptions(replaced, new_models, all_models)

    return {
        "schemaVersion": SCHEMA_VERSION,
        "stack": new.get("stack"),
        "resources": {
            "added": [_ref(k) for k in added],
            "removed": [_ref(k) for k in removed],
            "replaced": [{**_ref(k), "reasons": v} for k, v in sorted(replaced.items())],
            "changed": [{**_ref(k), "fields": v} for k, v in sorted(changed.items())],
            "unchanged": len(set(old_resources) & set(new_resources)) - len(replaced) - len(changed),
        },
        "disruptions": disruptions,
        "cost": _cost(old.get("cost") or {}, new.get("cost") or {}),
        "capacity": [_capacity(name, old_models.get(name), new_models.get(name)) for name in all_models],
        "warnings": {
            "new": [w for w in new.get("warnings", []) if w not in set(old.get("warnings", []))],
            "resolved": [w for w in old.get("warnings", []) if w not in set(new.get("warnings", []))],
        },
        "previewOnly": PREVIEW_ONLY,
    }


def _ref(key: tuple[str, str]) -> dict[str, str]:
    return {"type": key[0], "name": key[1]}


def _disruptions(
    replaced: Mapping[tuple[str, str], list[str]], models: Mapping[str, Any], names: list[str]
) -> list[dict[str, Any]]:
    """Replaced GPU hosts (a cold start on a new host) and replaced vLLM containers (a restart)."""
    out: list[dict[str, Any]] = []
    replaced_hosts = {name.removesuffix("-instance") for type_, name in replaced if type_ == INSTANCE}
    for type_, name in sorted(replaced):
        model = _model_of(name, names)
        plan = models.get(model or "")
        if type_ == INSTANCE and plan:
            out.append(
                {
                    "kind": "host-replaced",
                    "host": name.removesuffix("-instance"),
                    "model": model,
                    "downtimeSeconds": plan["coldStart"]["hostReplacementSeconds"],
                }
            )
        elif type_ == CONTAINER and plan and name.endswith("-container"):
            host = name.split("-vllm-")[0]
            if host not in replaced_hosts:
                out.append(
                    {
                        "kind": "server-restarted",
                        "host": host,
                        "model": model,
                        "downtimeSeconds": plan["coldStart"]["warmCacheSeconds"],
                    }
                )
    return out


def _delta(old: float | None, new: float | None) -> float | None:
    return None if old is None or new is None else round(new - old, 2)


def _cost(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("hourlyUsd", "monthlyUsd")
    return {
        "old": {k: old.get(k) for k in keys},
        "new": {k: new.get(k) for k in keys},
        "delta": {k: _delta(old.get(k), new.get(k)) for k in keys},
    }


_CAPACITY_FIELDS = ("instanceType", "tensorParallelSize", "replicas", "hosts")
_FIT_FIELDS = ("kvCacheTokens", "maxConcurrency", "maxModelLen")


def _capacity_view(model: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if model is None:
        return None
    view = {field: model.get(field) for field in _CAPACITY_FIELDS}
    view.update({field: model["fit"].get(field) for field in _FIT_FIELDS})
    return view


def _capacity(name: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> dict[str, Any]:
    before, after = _capacity_view(old), _capacity_view(new)
    status = "added" if before is None else "removed" if after is None else "changed" if before != after else "same"
    delta: dict[str, Any] = {}
    if before and after:
        for field in ("replicas", "hosts", *_FIT_FIELDS):
            if isinstance(before.get(field), int | float) and isinstance(after.get(field), int | float):
                delta[field] = round(after[field] - before[field], 2)
    return {"model": name, "status": status, "old": before, "new": after, "delta": delta}
