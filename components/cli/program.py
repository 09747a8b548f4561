"""Run the stack's real ``__main__.py`` under Pulumi mocks and record what it registers.

No Pulumi CLI, no plugins and no cloud: the mock monitor answers every registration, and this module keeps
each resource's type, name, parent, inputs (secrets redacted) and options as the engine would receive them.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import logging
import runpy
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from ..config.project_rules import read_yaml
from ..config.schema import SECRET_PLACEHOLDER
from ..config.sources import read_stack_file, to_pulumi_config
from ..errors import NAMESPACE
from .event_loops import close_worker_loop_at_thread_exit
from .installed_name import INSTALLED_NAME, share_installed_name
from .offline import (
    OFFLINE_ACCOUNT_ID,
    OFFLINE_ALB_ZONE_ID,
    OFFLINE_OUTPUTS,
    VOLUME_TYPE,
    OfflineAws,
    offline_id,
    offline_validation_options,
)
from .recorded import RecordedResource, name_from_urn, options_of
from .simulate.provider_rules import auto_name_length
from .simulate.urns import make_urn, stack_and_project

STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"
_SECRET_SIG = rpc._special_sig_key
_SECRET_VALUE = rpc._special_secret_sig


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
        outputs.update(OFFLINE_OUTPUTS.get(args.typ, {}))
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
            outputs["zoneId"] = OFFLINE_ALB_ZONE_ID
        if args.typ == "aws:acm/certificate:Certificate":
            outputs["domainValidationOptions"] = offline_validation_options(args.inputs)
        if args.typ == "aws:route53/record:Record":
            outputs["fqdn"] = str(args.inputs.get("name", "")).rstrip(".")
        if "name" not in outputs and auto_name_length(args.typ) is not None:
            # The provider's auto-name (logical name + 7 random hex characters); dependents such as a role
            # policy attachment read it, and without it their input (and its dependency) would be dropped.
            outputs["name"] = f"{args.name}-{hashlib.sha256(args.name.encode()).hexdigest()[:7]}"
        return offline_id(args.typ, args.name), outputs

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        close_worker_loop_at_thread_exit()
        self.invokes.append((args.token, dict(args.args)))
        return self.aws.answer(args.token, dict(args.args)), self.aws.failures(args.token, dict(args.args))


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
        close_worker_loop_at_thread_exit()
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
                    parent=name_from_urn(request.parent),
                    inputs=redact(inputs),
                    options=options_of(request, urn, parent, self._engine_urns),
                    urn=urn,
                    custom=bool(request.custom),
                )
            )
            if self._on_register is not None:
                self._on_register(self.recorded[-1])
        return response


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
    warnings: list[str]
    """What the program logged with ``pulumi.log.warn``, in order."""


@dataclass
class Recording:
    """What the mock engine of :func:`mock_engine` records while it is active."""

    resources: list[RecordedResource]
    """Every registration, in order, as the engine would receive it."""
    invokes: list[tuple[str, dict[str, Any]]]
    """Every invoke (AWS lookup): its token and arguments."""
    mocks: pulumi.runtime.Mocks
    """The mocks answering registrations and invokes (tests may wrap ``new_resource`` to observe the order)."""
    warnings: list[str]
    """What the program logged with ``pulumi.log.warn`` (the quota check's, beside the planner's echoed)."""


class _WarningsKept(logging.Handler):
    def __init__(self, kept: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.kept = kept

    def emit(self, record: logging.LogRecord) -> None:
        self.kept.append(record.getMessage())


@contextmanager
def mock_engine(
    project: str = NAMESPACE,
    stack: str = "test",
    *,
    config: Mapping[str, Any] | None = None,
    secret_keys: Sequence[str] = (),
    aws: OfflineAws | None = None,
    stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
    on_register: Callable[[RecordedResource], None] | None = None,
) -> Iterator[Recording]:
    """Pulumi's mock engine, recording every registration: the one ``plan`` runs programs under.

    Within it, construct components (under ``@pulumi.runtime.test``) or run programs; ``config`` holds raw keys
    as :func:`run_program` takes them, ``aws`` answers the AWS lookups (default: :class:`OfflineAws` in the
    config's region), ``stack_outputs`` answers ``pulumi.StackReference`` reads by referenced stack name,
    ``on_register`` sees each resource as it is recorded.
    """
    raw = dict(config or {})
    recorder = _Recorder(
        aws=aws or OfflineAws(region=str(raw.get("aws:region", "us-east-1"))), stack_outputs=stack_outputs or {}
    )
    monitor = RecordingMonitor(recorder, on_register)
    settings.ROOT.set(None)  # a fresh root stack: exports from an earlier run must not leak in
    # Kept, not printed: the CLI reports the program's warnings with the planner's, once each.
    warnings: list[str] = []
    quiet = logging.getLogger("vllm-aws.mock-engine")
    kept = _WarningsKept(warnings)
    quiet.addHandler(kept)
    quiet.propagate = False
    pulumi.runtime.set_mocks(recorder, project=project, stack=stack, preview=False, monitor=monitor, logger=quiet)
    pulumi.runtime.set_all_config(
        to_pulumi_config(raw), [key if ":" in key else f"{NAMESPACE}:{key}" for key in secret_keys]
    )
    capture_stack = _skip_stack_traces()
    try:
        yield Recording(resources=monitor.recorded, invokes=recorder.invokes, mocks=recorder, warnings=warnings)
    finally:
        quiet.removeHandler(kept)
        pulumi.runtime.set_all_config({}, [])
        if capture_stack is not None:
            sdk_resource._get_stack_trace = capture_stack


def _skip_stack_traces() -> Callable[[], Any] | None:
    """Stop the SDK from walking the Python stack for each resource; return the walker to put back afterwards.

    The SDK sends each registration's stack trace to the engine for its source positions
    (``pulumi/runtime/resource.py`` ``_get_stack_trace``, pulumi 3.x); no engine reads them here and nothing
    records them, yet the walk (``traceback.extract_stack`` and a file URI per frame) is about a tenth of a large
    plan (benchmarks/README.md). An SDK without the function is left as it is.
    """
    walker: Callable[[], Any] | None = getattr(sdk_resource, "_get_stack_trace", None)
    if walker is None:
        return None
    # Whatever message type this SDK's walker returns, built empty: no frames, hence no source position.
    sdk_resource._get_stack_trace = type(walker())
    return walker


@contextmanager
def _cyclic_collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a program runs, on again after (if it was).

    A run allocates millions of short-lived objects (Outputs, futures, protobuf messages), so the collector's
    passes over the young generations were a third of a 32-host plan's time, while what they free within one run
    is a few MiB (benchmarks/README.md: 4.7 s and 228 MiB with it, 3.2 s and 234 MiB without). Reference counting
    still frees everything that is not in a cycle.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            # Collect now, so the run's garbage is finalized here and not inside whatever the caller does next: a
            # finalizer that formats a traceback (a pending task destroyed) parses source with `ast`, and inside
            # another `ast` conversion that trips CPython 3.11's "AST constructor recursion depth mismatch"
            # (python/cpython#106905).
            gc.collect()


def run_program(
    program: Path,
    raw_config: Mapping[str, Any],
    secret_keys: Sequence[str],
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
    As under the Pulumi CLI, the program's directory is importable while it runs, and a program written for
    the installed package (``import vllm_aws``) runs from a checkout too (:func:`share_installed_name`).
    """
    share_installed_name()
    with mock_engine(
        project,
        stack,
        config=raw_config,
        secret_keys=secret_keys,
        aws=aws,
        stack_outputs=stack_outputs,
        on_register=on_register,
    ) as recording:
        # As the language host runs a program: a new root stack, the module, then any pulumi.run entrypoint.
        settings.ROOT.set(None)
        roots: list[Any] = []

        def module() -> None:
            runpy.run_path(str(program), run_name="__main__")
            roots.append(settings.get_root_resource())

        # The language host runs the project directory (runpy.run_path of a directory puts it on sys.path).
        sys.path.insert(0, str(program.parent))
        try:
            with _cyclic_collector_paused():
                _sync_await(run_in_stack(module))
            outputs = dict(getattr(roots[0], "outputs", None) or {}) if roots else {}
        except BaseException:
            _forget_failed_program()
            raise
        finally:
            sys.path.remove(str(program.parent))
    return ProgramRun(
        resources=recording.resources, invokes=recording.invokes, outputs=outputs, warnings=recording.warnings
    )


def run_offline(
    program: Path,
    config_file: Path,
    *,
    stack: str | None = None,
    aws: OfflineAws | None = None,
    stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
) -> ProgramRun:
    """Run any Pulumi program offline under mocks, with a stack file's config: what ``pulumi preview`` would
    register, without the Pulumi CLI, plugins or an AWS account.

    ``program`` is the program's ``__main__.py`` (or its directory); the project name comes from the
    ``Pulumi.yaml`` beside it. ``config_file`` has the ``Pulumi.<stack>.yaml`` shape: every key is used as
    written, ``secure:`` values (which cannot be decrypted offline) become ``[secret]``. ``stack`` defaults to
    the file's ``<stack>``. ``aws`` answers the AWS lookups (default: :class:`OfflineAws` in the configured
    region), ``stack_outputs`` the ``pulumi.StackReference`` reads, by referenced stack name. Returns what was
    registered (``resources``: type, name, parent, inputs, options, URN), the invokes and the stack outputs.
    Bad input in the file raises :class:`~vllm_aws.ConfigError`.
    """
    main = program / "__main__.py" if program.is_dir() else program
    raw, secret_keys = read_stack_file(config_file)
    project_file = main.parent / "Pulumi.yaml"
    project = str(read_yaml(project_file).get("name", NAMESPACE)) if project_file.is_file() else NAMESPACE
    return run_program(
        main,
        raw,
        secret_keys,
        stack or config_file.stem.removeprefix("Pulumi."),
        aws=aws,
        project=project,
        stack_outputs=stack_outputs,
    )


def resolved(value: Any) -> Any:
    """The value of a stack output (an Output, or a plain value holding Outputs) once the offline run resolved it."""
    return _sync_await(pulumi.Output.from_input(value).future())


__all__ = [
    "INSTALLED_NAME",
    "STACK_REFERENCE_TYPE",
    "ProgramRun",
    "RecordedResource",
    "Recording",
    "RecordingMonitor",
    "mock_engine",
    "offline_id",
    "redact",
    "resolved",
    "run_offline",
    "run_program",
    "share_installed_name",
]
