"""Generate docs/api.md, the API reference (component inputs and outputs), from the pydantic models and classes.

Rewrites the block between ``<!-- BEGIN_API_DOCS -->`` and ``<!-- END_API_DOCS -->``:

    python scripts/gen_api_docs.py           # rewrite docs/api.md
    python scripts/gen_api_docs.py --check   # exit 1 if docs/api.md is stale (tests/project/test_api_docs.py does this)

Inputs come from each ``...Args`` model's ``model_fields`` (description, type, default, required, bounds);
outputs from the ``pulumi.Output`` attributes declared on each component class and the docstring under each.
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
import textwrap
import types
import typing
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import annotated_types
import pulumi
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import components  # noqa: E402 - after the repository root is importable
from components import (  # noqa: E402
    AccessConfig,
    CacheConfig,
    ExistingEndpoint,
    GpuHost,
    GpuHostArgs,
    HostExporters,
    HostExportersArgs,
    HostPlacement,
    HostSecrets,
    ImageBuild,
    IngressRule,
    LoadBalancer,
    LoadBalancerArgs,
    ModelCache,
    ModelCacheArgs,
    ModelConfig,
    ModelEndpoint,
    ModelEndpointArgs,
    Monitoring,
    MonitoringArgs,
    MonitoringHostArgs,
    SshAccess,
    Target,
    VllmDeployment,
    VllmDeploymentArgs,
    VllmServer,
    VllmServerArgs,
    create_monitoring_host,
)

API_DOC = ROOT / "docs" / "api.md"
WIDTH = 115  # prose line width, as the rest of the docs
BEGIN = "<!-- BEGIN_API_DOCS -->"
END = "<!-- END_API_DOCS -->"

# (component, its Args) in the order docs/api.md lists them.
COMPONENTS: tuple[tuple[type[pulumi.ComponentResource], type[BaseModel]], ...] = (
    (VllmDeployment, VllmDeploymentArgs),
    (GpuHost, GpuHostArgs),
    (ModelCache, ModelCacheArgs),
    (VllmServer, VllmServerArgs),
    (HostExporters, HostExportersArgs),
    (ModelEndpoint, ModelEndpointArgs),
    (LoadBalancer, LoadBalancerArgs),
    (Monitoring, MonitoringArgs),
)
# Helpers that register resources at the stack's root (not components: their logical names predate them).
HELPERS: tuple[tuple[Callable[..., object], type[BaseModel]], ...] = ((create_monitoring_host, MonitoringHostArgs),)
# Input types the Args refer to, with a table each.
INPUT_TYPES: tuple[type[BaseModel], ...] = (
    ExistingEndpoint,
    HostPlacement,
    HostSecrets,
    SshAccess,
    ImageBuild,
    Target,
    IngressRule,
)
# Config sections: documented (camelCase keys) in docs/configuration.md.
CONFIG_TYPES = {ModelConfig: "`models` entry", CacheConfig: "`cache`", AccessConfig: "`access`"}
CONFIG_ANCHOR = "configuration.md"

# Where a model field has no description of its own (the models' descriptions also feed the provider schema).
FALLBACK = {
    "ExistingEndpoint.security_group_id": "The ALB's security group (the hosts admit the vLLM ports from it).",
    "IngressRule.description": "Description of the security group rule.",
    "cache_volume_id": "The model cache volume (`ModelCache.volume_id`); the bootstrap mounts it by id.",
    "source_security_group_id": "The security group allowed in.",
    "targets": "The model's vLLM servers (instance and host port).",
    "access_mode": "`ssm` (SSH through Session Manager, no inbound port) or `ssh`.",
    "allowed_cidrs": "Who may reach the load balancer.",
    "ami_id": "AMI of the hosts (e.g. the Deep Learning Base GPU AMI from `DLAMI_SSM_PARAMETER`).",
    "availability_zone": "Availability zone.",
    "deletion_protection": "ALB deletion protection.",
    "domain": "Also route `<model>.<domain>` by host header.",
    "host_ready": "The host's readiness gate.",
    "pinned_images": "Image -> the reference hosts pull, e.g. by digest (`StackPlan.images`). Default: by tag.",
    "idle_timeout_seconds": "The ALB's idle timeout (the target group's deregistration delay).",
    "instance_id": "EC2 instance id.",
    "instance_type": "EC2 instance type.",
    "internal": "Internal (private) load balancer.",
    "iops": "gp3 IOPS.",
    "labels": "Docker labels of the container.",
    "listener_arn": "The ALB listener to add the rules to.",
    "load_balancer_security_group_id": "The ALB's security group (paired with the targets group).",
    "model_name": "The model's name (served name, route, resource key).",
    "parameter_arns": "ARNs of those parameters (the hosts' IAM policy).",
    "port": "Host port.",
    "public_key": "OpenSSH public key installed for the hosts' SSH user.",
    "region": "AWS region of the resources.",
    "secret_parameter_arns": "ARNs of those parameters (the host's IAM policy).",
    "security_group_id": "Security group id.",
    "slot": "GPUs and host port of this server (`containers.server_slots`).",
    "ssh_cidrs": "Who may reach port 22 in `ssh` mode.",
    "ssh_public_key": "OpenSSH public key installed for `ssh_user`.",
    "start_period_seconds": "Container healthcheck start period (the predicted first start × 1.5).",
    "subnet_id": "Subnet id.",
    "tags": "Extra tags on every AWS resource.",
    "throughput_mibps": "gp3 throughput, MiB/s.",
    "vpc_id": "VPC id.",
    "warm_marker": "File on the cache that marks this model revision as complete (then `HF_HUB_OFFLINE=1`).",
}
_BOUNDS = (
    (annotated_types.Ge, "≥", "ge"),
    (annotated_types.Gt, ">", "gt"),
    (annotated_types.Le, "≤", "le"),
    (annotated_types.Lt, "<", "lt"),
    (annotated_types.MinLen, "items ≥", "min_length"),
    (annotated_types.MaxLen, "items ≤", "max_length"),
)


def anchor(name: str) -> str:
    """GitHub's heading anchor for a heading that is just ``name``."""
    return "#" + re.sub(r"[^a-z0-9 _-]", "", name.lower()).replace(" ", "-")


def type_name(annotation: Any) -> str:
    """A short, readable rendering of a field's annotation (Output for pulumi.Output, links to input types)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is type(None):
        return "None"
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(arg) for arg in args)
    if origin is typing.Literal:
        return " | ".join(f'"{arg}"' if isinstance(arg, str) else repr(arg) for arg in args)
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        inner = ", ".join("..." if arg is Ellipsis else type_name(arg) for arg in args)
        return f"{name}[{inner}]"
    if isinstance(annotation, type):
        if issubclass(annotation, pulumi.Output):
            return "Output"
        if issubclass(annotation, pulumi.Resource):
            return "Resource"
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _headings() -> dict[type, str]:
    """Types with a table in the block -> the heading that holds it."""
    return {**{args: component.__name__ for component, args in COMPONENTS}, **{t: t.__name__ for t in INPUT_TYPES}}


def linked_types(annotation: Any) -> list[type]:
    """Documented input and config types an annotation mentions (for links in the description)."""
    found: list[type] = []
    if isinstance(annotation, type) and (annotation in _headings() or annotation in CONFIG_TYPES):
        found.append(annotation)
    for arg in typing.get_args(annotation):
        found += [t for t in linked_types(arg) if t not in found]
    return found


def _markdown(text: str) -> str:
    text = re.sub(r":class:`~?(?:[\w.]+\.)?(\w+)`", r"`\1`", text)
    return text.replace("``", "`")


def _first_sentence(doc: str | None) -> str:
    return _markdown(" ".join(inspect.cleandoc(doc or "").split("\n\n")[0].split()))


def _paragraphs(doc: str | None) -> list[str]:
    """A docstring's paragraphs as wrapped Markdown."""
    paragraphs = [" ".join(p.split()) for p in inspect.cleandoc(doc or "").split("\n\n") if p.strip()]
    return [textwrap.fill(_markdown(p), WIDTH, break_long_words=False, break_on_hyphens=False) for p in paragraphs]


def description(owner: type[BaseModel], name: str, field: FieldInfo) -> str:
    text = field.description or FALLBACK.get(f"{owner.__name__}.{name}") or FALLBACK.get(name, "")
    bounds = []
    for meta in field.metadata:
        for kind, symbol, attr in _BOUNDS:
            if isinstance(meta, kind):
                bounds.append(f"{symbol} {getattr(meta, attr)}")
    if bounds:
        text = f"{text} ({', '.join(bounds)})".strip()
    links = []
    for linked in linked_types(field.annotation):
        if linked in CONFIG_TYPES:
            links.append(f"See [{linked.__name__}]({CONFIG_ANCHOR}) (the {CONFIG_TYPES[linked]} keys, in snake_case).")
        else:
            links.append(f"See [{linked.__name__}]({anchor(_headings()[linked])}).")
    if not text and links and linked_types(field.annotation)[0] not in CONFIG_TYPES:
        text = _first_sentence(linked_types(field.annotation)[0].__doc__)
    return " ".join(part for part in (text, *links) if part)


def default(field: FieldInfo) -> str:
    if field.is_required():
        return ""
    value = field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]
    if value is PydanticUndefined:
        return ""
    if isinstance(value, BaseModel):
        return f"`{type(value).__name__}()`"
    return f"`{value!r}`"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def inputs_table(model: type[BaseModel]) -> list[str]:
    lines = ["| Name | Description | Type | Default | Required |", "|---|---|---|---|---|"]
    for name, field in model.model_fields.items():
        row = (
            f"`{name}`",
            cell(description(model, name, field)),
            f"`{cell(type_name(field.annotation))}`",
            cell(default(field)),
            "yes" if field.is_required() else "no",
        )
        lines.append("| " + " | ".join(row) + " |")
    return lines


def declared_outputs(component: type) -> list[tuple[str, str, str]]:
    """(name, type, docstring) of each ``pulumi.Output`` attribute declared in the class body."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(component)))
    (body,) = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    found: list[tuple[str, str, str]] = []
    for index, node in enumerate(body.body):
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        name = node.target.id
        if "Output" not in ast.unparse(node.annotation):
            continue
        following = body.body[index + 1] if index + 1 < len(body.body) else None
        doc = (
            following.value.value
            if isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
            else ""
        )
        found.append((name, ast.unparse(node.annotation).replace("pulumi.", ""), _first_sentence(doc)))
    return found


def outputs_table(component: type) -> list[str]:
    outputs = declared_outputs(component)
    if not outputs:
        return ["No outputs."]
    lines = ["| Name | Description | Type |", "|---|---|---|"]
    lines += [f"| `{name}` | {cell(doc)} | `{cell(type_)}` |" for name, type_, doc in outputs]
    return lines


def _section(heading: str, paragraphs: Iterable[str], tables: Iterable[list[str]]) -> list[str]:
    lines = [f"## {heading}", ""]
    for paragraph in paragraphs:
        lines += [paragraph, ""]
    for table in tables:
        lines += [*table, ""]
    return lines


def render_block() -> str:
    """The generated Markdown between the markers (without them)."""
    lines = [
        "<!-- Generated by scripts/gen_api_docs.py from the pydantic models; edit the models, then re-run it. -->",
        "",
        *_paragraphs(
            f"Version {components.__version__}. Every component is `Component(name, ComponentArgs(...), opts=None)`; "
            "`Output` means `pulumi.Output`, `Resource` a `pulumi.Resource`. Config sections such as `ModelConfig` "
            f"take the keys of [Configuration]({CONFIG_ANCHOR}) in snake_case (or camelCase through "
            "`ModelConfig.model_validate`)."
        ),
        "",
    ]
    for component, args in COMPONENTS:
        lines += _section(
            component.__name__,
            [*_paragraphs(component.__doc__), f"Inputs: `{args.__name__}`."],
            [inputs_table(args), ["Outputs:", "", *outputs_table(component)]],
        )
    for helper, args in HELPERS:
        lines += _section(
            f"{helper.__name__}()", [*_paragraphs(helper.__doc__), f"Inputs: `{args.__name__}`."], [inputs_table(args)]
        )
    for input_type in INPUT_TYPES:
        lines += _section(input_type.__name__, _paragraphs(input_type.__doc__), [inputs_table(input_type)])
    return "\n".join(lines).rstrip() + "\n"


def replace_block(text: str, block: str) -> str:
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"{API_DOC}: markers {BEGIN} ... {END} not found")
    return text[: start + len(BEGIN)] + "\n" + block + text[end:]


def main(argv: list[str]) -> int:
    current = API_DOC.read_text(encoding="utf-8")
    updated = replace_block(current, render_block())
    if "--check" in argv:
        if updated != current:
            print("docs/api.md is stale: run python scripts/gen_api_docs.py", file=sys.stderr)
            return 1
        return 0
    if updated != current:
        API_DOC.write_text(updated, encoding="utf-8")
        print("docs/api.md updated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
