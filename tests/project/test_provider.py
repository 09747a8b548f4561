"""The component provider (provider/): schema snapshot, Pulumi's package metaschema, construct from camelCase
inputs under mocks (as TypeScript, Go or YAML would send them), and the YAML example against the schema."""

from __future__ import annotations

import importlib
import json
import re
import sys
from collections.abc import Iterator
from typing import Any

import jsonschema
import pulumi
import pytest
import yaml
from pulumi.provider.server import ComponentInitError
from repo import DATA_DIR, PROJECT_DIR

from components.cli.offline import OfflineAws
from components.cli.program import RecordedResource, Recording, mock_engine
from components.config import SECRET_PLACEHOLDER

PROVIDER_DIR = PROJECT_DIR / "provider"
METASCHEMA = DATA_DIR / "pulumi-package-metaschema.json"
YAML_EXAMPLE = PROJECT_DIR / "examples" / "yaml" / "Pulumi.yaml"
TOKEN = "vllm-aws:index:VllmDeployment"

sys.path.insert(0, str(PROVIDER_DIR))
generate_schema = importlib.import_module("generate_schema")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = generate_schema.schema()
    return loaded


# --- schema -------------------------------------------------------------------------------------------------------


def test_schema_snapshot_is_current() -> None:
    committed = generate_schema.SCHEMA_FILE.read_text(encoding="utf-8")
    assert committed == generate_schema.render(), (
        "provider/schema.json is stale: run `.venv/bin/python provider/generate_schema.py` and commit the result"
    )


def test_schema_declares_the_component_and_its_types(schema: dict[str, Any]) -> None:
    resource = schema["resources"][TOKEN]
    assert resource["isComponent"] is True
    assert set(resource["requiredInputs"]) == {
        "model",
        "endpoint",
        "region",
        "vpcId",
        "subnetIds",
        "availabilityZones",
        "amiId",
        "sshPublicKey",
        "sshPrivateKey",
        "sshKeyFile",
        "secretParameters",
    }
    assert set(resource["properties"]) == {"hostSecurityGroupIds", "targetGroupArn", "baseUrl"}
    model = schema["types"]["vllm-aws:index:Model"]
    assert set(model["required"]) == {"id", "name"}
    assert {"tensorParallelSize", "replicasPerHost", "kvCacheDtype", "extraArgs", "spot"} <= set(model["properties"])
    assert [m["value"] for m in schema["types"]["vllm-aws:index:Quantization"]["enum"]] == [
        "awq",
        "gptq",
        "fp8",
        "compressed-tensors",
    ]


def _metaschema() -> dict[str, Any]:
    """Pulumi's metaschema as its authors meant it.

    The file declares `properties.language` twice (an object, then a base64 string); a JSON parser keeps the last,
    which would reject every package with language settings. Keep the first (the object form PackageSpec uses)
    and insist that this is the only duplicate.
    """
    duplicates: list[str] = []

    def first_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                duplicates.append(key)
                continue
            out[key] = value
        return out

    loaded: dict[str, Any] = json.loads(METASCHEMA.read_text(encoding="utf-8"), object_pairs_hook=first_wins)
    assert duplicates == ["language"], duplicates
    assert loaded["properties"]["language"]["type"] == "object"
    return loaded


def test_schema_is_valid_against_the_pulumi_package_metaschema(schema: dict[str, Any]) -> None:
    metaschema = _metaschema()
    assert metaschema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(metaschema)
    # The SDK always writes `dependencies` (Go's PackageSpec has it, `omitempty`); the metaschema predates it.
    # Empty here, so dropping it is exactly what the Go serializer would emit.
    document = dict(schema)
    assert document.pop("dependencies") == []
    validator = jsonschema.Draft202012Validator(metaschema, format_checker=jsonschema.FormatChecker())
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []


def test_every_enum_member_has_a_description(schema: dict[str, Any]) -> None:
    # Members without a docstring come out as "description": null, which the metaschema rejects.
    for token, spec in schema["types"].items():
        for member in spec.get("enum", []):
            assert isinstance(member.get("description"), str), (token, member)


# --- construct, as a non-Python consumer calls it -------------------------------------------------------------------

INPUTS: dict[str, Any] = {
    "model": {
        "name": "qwen-7b",
        "id": "Qwen/Qwen2.5-7B-Instruct",
        "replicas": 2,
        "dtype": "bfloat16",
        "extraArgs": ["--enable-chunked-prefill"],
    },
    "endpoint": {
        "listenerArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/endpoint/0123456789/abcdef",
        "securityGroupId": "sg-0123456789abcdef0",
        "rulePriority": 10_010,
    },
    "region": "us-east-1",
    "vpcId": "vpc-0123456789abcdef0",
    "subnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    "availabilityZones": ["us-east-1a", "us-east-1b"],
    "associatePublicIp": True,
    "amiId": "ami-0123456789abcdef0",
    "rootVolumeGib": 200,
    "sshPublicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIConsumerConsumerConsumerConsumerConsumerCo consumer",
    "sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----",
    "sshKeyFile": "~/.ssh/consumer.key",
    "secretParameters": {"VLLM_API_KEY": "/vllm-aws/prod/api-key"},
    "tags": {"team": "ml"},
}


@pytest.fixture
def engine() -> Iterator[Recording]:
    """The plan's mock engine: AWS lookups answered offline, well-shaped ids (vol-, i-, sg-), registrations recorded."""
    with mock_engine("consumer", "test", aws=OfflineAws()) as recording:
        yield recording


def _construct(name: str, inputs: dict[str, Any]) -> Any:
    def program() -> Any:
        return generate_schema.provider().construct(name, TOKEN, inputs, None)

    return pulumi.runtime.test(program)()  # type: ignore[no-untyped-call]


def _named(monitor: Recording, type_: str) -> list[str]:
    return sorted(r.name for r in monitor.resources if r.type == type_)


def _one(monitor: Recording, name: str) -> RecordedResource:
    (found,) = [r for r in monitor.resources if r.name == name]
    return found


def test_construct_creates_the_deployment_from_camel_case_inputs(engine: Recording) -> None:
    _construct("qwen", INPUTS)
    (component,) = [r for r in engine.resources if r.type == TOKEN]
    assert component.name == "qwen"
    assert _named(engine, "vllm-aws:index:GpuHost") == ["qwen-0", "qwen-1"]
    assert _named(engine, "vllm-aws:index:ModelCache") == ["qwen-0-cache", "qwen-1-cache"]
    assert _named(engine, "vllm-aws:index:VllmServer") == ["qwen-0-vllm-0", "qwen-1-vllm-0"]
    assert _named(engine, "vllm-aws:index:ModelEndpoint") == ["qwen-endpoint"]
    for child in ("qwen-0", "qwen-0-cache", "qwen-1-vllm-0", "qwen-endpoint"):
        assert _one(engine, child).parent == "qwen"

    # Inputs reached the children: placement, public IP, tags, rule priority, enum and list values.
    instance = _one(engine, "qwen-1-instance").inputs
    assert instance["subnetId"] == "subnet-0123456789abcdef1"
    assert instance["associatePublicIpAddress"] is True
    assert instance["rootBlockDevice"]["volumeSize"] == 200
    assert instance["tags"]["team"] == "ml"
    assert _one(engine, "qwen-1-cache-volume").inputs["availabilityZone"] == "us-east-1b"
    rule = _one(engine, "qwen-endpoint-prefix-rule").inputs
    assert (rule["listenerArn"], rule["priority"]) == (INPUTS["endpoint"]["listenerArn"], 10_010)
    command = _one(engine, "qwen-0-vllm-0-container").inputs["command"]
    assert "--dtype" in command
    assert command[command.index("--dtype") + 1] == "bfloat16"
    assert "--enable-chunked-prefill" in command
    # The ARN of each secret parameter is derived from region, account (offline answer) and name.
    policy = json.loads(_one(engine, "qwen-0-read-secrets").inputs["policy"])
    assert "arn:aws:ssm:us-east-1:123456789012:parameter/vllm-aws/prod/api-key" in json.dumps(policy)


def test_the_private_key_stays_secret(engine: Recording) -> None:
    _construct("qwen", INPUTS)
    secret = INPUTS["sshPrivateKey"]
    for resource in engine.resources:
        assert secret not in json.dumps(resource.inputs, default=str), resource.name
    # The readiness gate gets the key in its environment, which is a secret as a whole.
    assert _one(engine, "qwen-0-ready").inputs["environment"] == SECRET_PLACEHOLDER


def _with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    inputs = json.loads(json.dumps(INPUTS))
    target = inputs
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return inputs


BAD_INPUTS: list[tuple[tuple[str, ...], Any, str]] = [
    (
        ("model", "tensorParallelSize"),
        3,
        "model.tensorParallelSize: does not divide the 28 attention heads of Qwen/Qwen2.5-7B-Instruct",
    ),
    (("model", "name"), "Qwen_7B", "model.name: must be DNS-safe"),
    (("model", "gpuMemoryUtilization"), 1.5, "model.gpuMemoryUtilization:"),
    (("model", "extraArgs"), ["--no-such-flag"], "model.extraArgs"),
    (("image",), "vllm/vllm-openai:latest", "image: is not pinned"),
    (("region",), "mars-1", "region: is not an AWS region"),
    (("subnetIds",), ["subnet-0123456789abcdef0"], "subnetIds: needs one subnet per host: 2 for 2 replica(s)"),
    (("availabilityZones",), ["us-east-1a"], "availabilityZones: needs the zone of each of the 2 subnet(s)"),
    (("endpoint", "rulePriority"), 20_001, "endpoint.rulePriority:"),
    (("cache",), {"iops": 100}, "cache.iops:"),
]


@pytest.mark.parametrize(("path", "value", "expected"), BAD_INPUTS, ids=[".".join(p) for p, _, _ in BAD_INPUTS])
def test_bad_input_names_its_key_path(engine: Recording, path: tuple[str, ...], value: Any, expected: str) -> None:
    with pytest.raises(ComponentInitError) as raised:
        _construct("qwen", _with(path, value))
    assert "invalid configuration" in str(raised.value)
    assert expected in str(raised.value)
    assert [r for r in engine.resources if r.type == TOKEN] == [], "rejected before anything is registered"


def test_gated_model_needs_an_hf_token_parameter(engine: Recording) -> None:
    inputs = _with(("model", "id"), "meta-llama/Llama-3.1-8B-Instruct")
    with pytest.raises(ComponentInitError, match=r"secretParameters\.HF_TOKEN: is required"):
        _construct("llama", inputs)
    inputs["secretParameters"]["HF_TOKEN"] = "/vllm-aws/prod/hf-token"
    _construct("llama", inputs)
    assert _named(engine, "vllm-aws:index:GpuHost") == ["llama-0", "llama-1"]


def test_a_missing_required_input_is_reported_by_the_sdk(engine: Recording) -> None:
    inputs = json.loads(json.dumps(INPUTS))
    del inputs["model"]["id"]
    with pytest.raises(Exception, match=r"Missing required input 'model\.id'"):
        _construct("qwen", inputs)


def test_a_plain_input_given_as_an_output_is_rejected(engine: Recording) -> None:
    inputs = json.loads(json.dumps(INPUTS))

    def program() -> Any:
        inputs["model"]["id"] = pulumi.Output.from_input("Qwen/Qwen2.5-7B-Instruct")
        return generate_schema.provider().construct("qwen", TOKEN, inputs, None)

    with pytest.raises(ComponentInitError, match=r"model\.id: must be a plain value known at preview"):
        pulumi.runtime.test(program)()  # type: ignore[no-untyped-call]


# --- the YAML example ------------------------------------------------------------------------------------------------


def _is_expression(value: Any) -> bool:
    """A Pulumi YAML interpolation or function call: its type is only known at run time."""
    if isinstance(value, str):
        return value.startswith("${") and value.endswith("}")
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)).startswith("fn::")


def _check_value(schema: dict[str, Any], spec: dict[str, Any], value: Any, path: str) -> list[str]:
    if _is_expression(value):
        return []
    if "$ref" in spec:
        ref = spec["$ref"]
        assert ref.startswith("#/types/"), ref
        type_spec = schema["types"][ref.removeprefix("#/types/")]
        if "enum" in type_spec:
            allowed = [member["value"] for member in type_spec["enum"]]
            return [] if value in allowed else [f"{path}: {value!r} is not one of {allowed}"]
        return _check_object(schema, type_spec.get("properties", {}), type_spec.get("required", []), value, path)
    kind = spec["type"]
    if kind == "array":
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {value!r}"]
        return [e for i, item in enumerate(value) for e in _check_value(schema, spec["items"], item, f"{path}[{i}]")]
    if kind == "object":
        if not isinstance(value, dict):
            return [f"{path}: expected a map, got {value!r}"]
        item_spec = spec.get("additionalProperties", {"type": "string"})
        return [e for k, item in value.items() for e in _check_value(schema, item_spec, item, f"{path}.{k}")]
    python_types: dict[str, tuple[type, ...]] = {
        "string": (str,),
        "integer": (int,),
        "number": (int, float),
        "boolean": (bool,),
    }
    ok = isinstance(value, python_types[kind]) and (kind == "boolean" or not isinstance(value, bool))
    return [] if ok else [f"{path}: expected {kind}, got {value!r}"]


def _check_object(
    schema: dict[str, Any], properties: dict[str, Any], required: list[str], value: Any, path: str
) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: expected an object, got {value!r}"]
    errors = [f"{path}.{key}: not an input of the schema" for key in value if key not in properties]
    errors += [f"{path}.{key}: required input missing" for key in required if key not in value]
    for key, item in value.items():
        if key in properties:
            errors += _check_value(schema, properties[key], item, f"{path}.{key}")
    return errors


def test_yaml_example_matches_the_schema(schema: dict[str, Any]) -> None:
    program = yaml.safe_load(YAML_EXAMPLE.read_text(encoding="utf-8"))
    assert program["runtime"] == "yaml"
    source = program["packages"]["vllm-aws"]
    assert (YAML_EXAMPLE.parent / source / "PulumiPlugin.yaml").is_file(), source
    ours = {name: r for name, r in program["resources"].items() if r["type"].startswith("vllm-aws:")}
    assert ours, "the example declares no vllm-aws resource"
    for name, resource in ours.items():
        assert resource["type"] in schema["resources"], resource["type"]
        spec = schema["resources"][resource["type"]]
        errors = _check_object(
            schema, spec["inputProperties"], spec["requiredInputs"], resource.get("properties", {}), name
        )
        assert errors == []
    # Every ${name} the example interpolates is a config key, a resource or a variable it declares.
    declared = set(program.get("config", {})) | set(program["resources"]) | set(program.get("variables", {}))
    text = YAML_EXAMPLE.read_text(encoding="utf-8")
    for reference in re.findall(r"\$\{([A-Za-z][\w-]*)", text):
        assert reference in declared, reference


def test_yaml_checker_catches_mistakes(schema: dict[str, Any]) -> None:
    spec = schema["resources"][TOKEN]
    bad = _with(("model", "tensorParallelSizes"), 2)
    bad["endpoint"].pop("listenerArn")
    bad["model"]["dtype"] = "fp32"
    bad["subnetIds"] = "subnet-0123456789abcdef0"
    errors = _check_object(schema, spec["inputProperties"], spec["requiredInputs"], bad, "x")
    assert sorted(errors) == [
        "x.endpoint.listenerArn: required input missing",
        "x.model.dtype: 'fp32' is not one of ['auto', 'bfloat16', 'float16']",
        "x.model.tensorParallelSizes: not an input of the schema",
        "x.subnetIds: expected a list, got 'subnet-0123456789abcdef0'",
    ]
