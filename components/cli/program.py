"""Run the stack's real ``__main__.py`` under Pulumi mocks and record what it registers.

No Pulumi CLI, no plugins and no cloud: the mock monitor answers every registration, and this module keeps
each resource's type, name, parent, inputs (secrets redacted) and options as the engine would receive them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import runpy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from components.cli.offline import OFFLINE_ACCOUNT_ID, VOLUME_TYPE, OfflineAws
from components.config import SECRET_PLACEHOLDER, to_pulumi_config
from components.errors import NAMESPACE
from components.simulate.provider_rules import auto_name_length
from components.simulate.urns import make_urn, stack_and_project

STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"
_SECRET_SIG = rpc._special_sig_key
_SECRET_VALUE = rpc._special_secret_sig


@dataclass
class RecordedResource:
    type: str
    name: str
    parent: str | None
    inputs: dict[str, Any]
    options: dict[str, Any]
    urn: str
    custom: bool = True


# Outputs the program reads that a provider would compute (secrets stay placeholders).
_OFFLINE_OUTPUTS: dict[str, dict[str, Any]] = {
    "random:index/randomPassword:RandomPassword": {"result": SECRET_PLACEHOLDER},
    "tls:index/privateKey:PrivateKey": {
        "publicKeyOpenssh": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOfflineOfflineOfflineOfflineOfflineOffline vllm-aws",
        "privateKeyOpenssh": SECRET_PLACEHOLDER,
    },
    "aws:ec2/instance:Instance": {"privateIp": "10.0.0.10", "publicIp": "198.51.100.10"},
    "command:local:Command": {"stdout": "GPU 0: offline"},
}


# AWS ids have shapes the program (and the bootstrap) checks; other ids are "<name>-id".
_ID_PREFIXES = {
    "aws:ebs/volume:Volume": "vol-",
    "aws:ec2/instance:Instance": "i-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
}


def offline_id(type_: str, name: str) -> str:
    """A stable, well-formed placeholder id for a resource registered offline."""
    prefix = _ID_PREFIXES.get(type_)
    return f"{prefix}{hashlib.sha256(name.encode()).hexdigest()[:17]}" if prefix else f"{name}-id"


@dataclass
class _Recorder(mocks.Mocks):
    """Returns inputs as outputs (plus the few outputs the program reads) and answers invokes offline."""

    aws: OfflineAws
    invokes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    stack_outputs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if args.typ == STACK_REFERENCE_TYPE:
            # A read of another stack: answer with the outputs given for that stack name.
            stack_name = str(args.inputs.get("name") or args.resource_id)
            if stack_name not in self.stack_outputs:
                raise KeyError(f"no outputs given for the referenced stack {stack_name!r}")
            return stack_name, {
                "name": stack_name,
                "outputs": dict(self.stack_outputs[stack_name]),
                "secretOutputNames": [],
            }
        outputs = dict(args.inputs)
        outputs.update(_OFFLINE_OUTPUTS.get(args.typ, {}))
        if args.typ.startswith("aws:") and "arn" not in outputs:
            # Resources refer to each other by ARN (listener -> load balancer, rule -> target group).
            service = args.typ.split(":")[1].split("/")[0]
            outputs["arn"] = f"arn:aws:{service}:{self.aws.region}:{OFFLINE_ACCOUNT_ID}:{args.name}"
        if args.typ == "docker:index/remoteImage:RemoteImage":
            # The image id follows what is pulled or built, so a new tag changes the containers' image input.
            source = json.dumps([args.inputs.get("name"), args.inputs.get("build")], sort_keys=True, default=str)
            outputs["imageId"] = "sha256:" + hashlib.sha256(source.encode()).hexdigest()
        if args.typ == VOLUME_TYPE and args.name in self.aws.volume_zones:
            outputs["availabilityZone"] = self.aws.volume_zones[args.name]
        if args.typ == "aws:lb/loadBalancer:LoadBalancer":
            outputs["dnsName"] = f"{args.name}-0123456789.{self.aws.region}.elb.amazonaws.com"
        if "name" not in outputs and auto_name_length(args.typ) is not None:
            # The provider's auto-name (logical name + 7 random hex characters); dependents such as a role
            # policy attachment read it, and without it their input (and its dependency) would be dropped.
            outputs["name"] = f"{args.name}-{hashlib.sha256(args.name.encode()).hexdigest()[:7]}"
        return offline_id(args.typ, args.name), outputs

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        self.invokes.append((args.token, dict(args.args)))
        return self.aws.answer(args.token, dict(args.args)), self.aws.failures(args.token)


class RecordingMonitor(mocks.MockMonitor):
    """A mock monitor that also keeps the registration options (protect, retainOnDelete, ...).

    The mock's URNs carry only the parent's last type; each resource is recorded under the URN the engine
    gives it, with the parent's whole type chain (pulumi/pulumi ``deployment.go`` ``generateURN``).
    """

    def __init__(self, recorder: _Recorder, on_register: Callable[[RecordedResource], None] | None = None) -> None:
        super().__init__(recorder)
        self.recorded: list[RecordedResource] = []
        self._engine_urns: dict[str, str] = {}
        self._on_register = on_register

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        stack, project = stack_and_project(response.urn)
        parent = self._engine_urns.get(request.parent, request.parent) or None
        urn = make_urn(stack, project, parent, request.type, request.name)
        self._engine_urns[response.urn] = urn
        if request.type != "pulumi:pulumi:Stack":
            inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
            self.recorded.append(
                RecordedResource(
                    type=request.type,
                    name=request.name,
                    parent=_name_from_urn(request.parent),
                    inputs=redact(inputs),
                    options=_options(request, urn, parent, self._engine_urns),
                    urn=urn,
                    custom=bool(request.custom),
                )
            )
            if self._on_register is not None:
                self._on_register(self.recorded[-1])
        return response


def _options(request: Any, urn: str, parent: str | None, engine_urns: Mapping[str, str]) -> dict[str, Any]:
    return {
        "protect": bool(request.protect),
        "retainOnDelete": bool(request.retainOnDelete),
        # null: not set, so the provider's default applies (an explicit false overrides it).
        "deleteBeforeReplace": bool(request.deleteBeforeReplace) if request.deleteBeforeReplaceDefined else None,
        "ignoreChanges": sorted(request.ignoreChanges),
        "replaceOnChanges": sorted(request.replaceOnChanges),
        "dependsOn": sorted(_name_from_urn(urn) or urn for urn in request.dependencies),
        "propertyDependencies": {
            key: sorted(_name_from_urn(urn) or urn for urn in deps.urns)
            for key, deps in sorted(request.propertyDependencies.items())
            if deps.urns
        },
        "provider": _provider_name(request.provider),
        "deletedWith": _name_from_urn(request.deletedWith),
        "replaceWith": sorted(_name_from_urn(urn) or urn for urn in request.replace_with),
        "replacementTrigger": _replacement_trigger(request),
        "aliases": _aliases(request, urn, parent, engine_urns),
    }


def _aliases(request: Any, urn: str, parent: str | None, engine_urns: Mapping[str, str]) -> list[str]:
    """Each alias as the URN the engine looks up (unset spec fields default to the resource's own)."""
    stack, project = stack_and_project(urn)
    out = []
    for alias in request.aliases:
        if alias.HasField("urn"):
            out.append(alias.urn)
            continue
        spec = alias.spec
        alias_parent = None if spec.noParent else (engine_urns.get(spec.parentUrn, spec.parentUrn) or parent)
        out.append(
            make_urn(
                spec.stack or stack,
                spec.project or project,
                alias_parent,
                spec.type or request.type,
                spec.name or request.name,
            )
        )
    return sorted(out)


def _replacement_trigger(request: Any) -> Any:
    if not request.HasField("replacement_trigger"):
        return None
    return json_format.MessageToDict(request.replacement_trigger)


def _name_from_urn(urn: str) -> str | None:
    if not urn or (urn.endswith("pulumi:pulumi:Stack::" + urn.rsplit("::", 1)[-1]) and "$" not in urn):
        return None
    return urn.rsplit("::", 1)[-1]


def _provider_name(reference: str) -> str | None:
    # "<provider urn>::<id>"; default providers are an implementation detail of the engine.
    if not reference:
        return None
    urn = reference.rsplit("::", 1)[0]
    name = urn.rsplit("::", 1)[-1]
    return None if name.startswith("default") else name


def _forget_failed_program() -> None:
    """A program that failed mid-registration (e.g. in an apply) leaves its registrations, their error and its
    outputs in the runtime's bookkeeping, which ``set_mocks`` does not reset; the next program of this process
    (tests) would inherit the failure. Cancel what still runs and clear the bookkeeping."""
    loop = asyncio.get_event_loop()
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending and not loop.is_running():
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()


def redact(value: Any) -> Any:
    """Replace every secret (wire-wrapped) value, however deeply nested, with ``[secret]``; order map keys.

    Inputs arrive as a protobuf ``Struct``, whose map iterates in no fixed order from one process to the next, so
    the keys are sorted: the same program and config must print the same plan JSON, byte for byte.
    """
    if isinstance(value, Mapping):
        if value.get(_SECRET_SIG) == _SECRET_VALUE:
            return SECRET_PLACEHOLDER
        return {key: redact(value[key]) for key in sorted(value)}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


@dataclass
class ProgramRun:
    resources: list[RecordedResource]
    invokes: list[tuple[str, dict[str, Any]]]
    outputs: dict[str, Any]


def run_program(
    program: Path,
    raw_config: Mapping[str, Any],
    secret_keys: list[str],
    stack: str,
    aws: OfflineAws | None = None,
    *,
    project: str = NAMESPACE,
    stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
    on_register: Callable[[RecordedResource], None] | None = None,
) -> ProgramRun:
    """Run ``program`` (the stack's ``__main__.py``) under mocks; ``aws`` answers its lookups.

    ``project`` names the Pulumi project (the namespace of ``pulumi.Config()``); ``stack_outputs`` answers
    ``pulumi.StackReference`` reads, by referenced stack name; ``on_register`` sees each resource as it is
    recorded (the CLI's progress). Programs may use ``pulumi.run(async_main)``.
    """
    recorder = _Recorder(
        aws=aws or OfflineAws(region=str(raw_config.get("aws:region", "us-east-1"))),
        stack_outputs=stack_outputs or {},
    )
    monitor = RecordingMonitor(recorder, on_register)
    settings.ROOT.set(None)  # a fresh root stack: exports from an earlier run must not leak in
    # The planner already reports warnings; the program's pulumi.log calls would only echo them.
    quiet = logging.getLogger("vllm-aws.mock-engine")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    pulumi.runtime.set_mocks(recorder, project=project, stack=stack, preview=False, monitor=monitor, logger=quiet)
    pulumi.runtime.set_all_config(
        to_pulumi_config(raw_config), [key if ":" in key else f"{NAMESPACE}:{key}" for key in secret_keys]
    )
    # As the language host runs a program: a new root stack, the module, then any pulumi.run entrypoint.
    settings.ROOT.set(None)
    roots: list[Any] = []

    def module() -> None:
        runpy.run_path(str(program), run_name="__main__")
        roots.append(settings.get_root_resource())

    try:
        _sync_await(run_in_stack(module))
        outputs = dict(getattr(roots[0], "outputs", None) or {}) if roots else {}
    except BaseException:
        _forget_failed_program()
        raise
    finally:
        pulumi.runtime.set_all_config({}, [])
    return ProgramRun(resources=monitor.recorded, invokes=recorder.invokes, outputs=outputs)
