"""What the simulator tests share: resource and plan documents, and a simulation of old -> new."""

from __future__ import annotations

from typing import Any

from components.cli.simulate import simulate
from components.cli.simulate.urns import make_urn

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
