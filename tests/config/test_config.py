"""StackConfig loading: defaults, the plain-file path, the pulumi.Config path, secrets, custom architectures."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pytest
from pydantic import SecretStr, ValidationError

from components.config import (
    DEFAULT_IMAGE,
    SECRET_PLACEHOLDER,
    OutputSecret,
    StackConfig,
    load_stack_config,
    parse_stack_config,
    raw_from_stack_file,
    secret_output,
    to_pulumi_config,
)
from components.errors import ConfigError, key_path
from components.planner.plan import plan_stack

MODEL = {"name": "qwen-7b", "id": "Qwen/Qwen2.5-7B-Instruct-AWQ", "instanceType": "g6.xlarge", "maxModelLen": 8192}
# Transport is not what these tests are about: plain HTTP, explicitly (a stack without HTTPS needs it).
PLAIN_HTTP = {"allowPlainHttp": True}


def test_defaults_live_in_code() -> None:
    config = parse_stack_config({"models": [MODEL], "loadBalancer": PLAIN_HTTP})
    assert config.image == DEFAULT_IMAGE
    assert config.region == "us-east-1"
    model = config.models[0]
    assert (model.tensor_parallel_size, model.replicas, model.gpu_memory_utilization) == (1, 1, 0.92)
    assert model.enable_prefix_caching is True
    assert config.cache.size_gib == "auto" and config.cache.retain_on_delete is True
    assert config.access.mode == "ssm" and config.access.ssh_cidrs == ()
    assert config.load_balancer.idle_timeout_seconds == 600
    assert config.monitoring.placement == "dedicated" and config.monitoring.retention_days == 15
    assert config.api_key is None and config.hf_token is None


def test_config_is_frozen() -> None:
    config = parse_stack_config({"models": [MODEL], "loadBalancer": PLAIN_HTTP})
    with pytest.raises(ValidationError):
        config.models[0].replicas = 3  # type: ignore[misc]


def test_key_path_renders_namespace_indexes_and_fields() -> None:
    assert key_path(("models", 1, "tensorParallelSize")) == "vllm-aws:models[1].tensorParallelSize"
    assert key_path(("aws:region",)) == "aws:region"


def test_stack_file_secure_values_become_placeholders_and_plain_secrets_stay_secret(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.x.yaml"
    # A passphrase-encrypted value has this shape (v1:<12-byte nonce>:<ciphertext>, keyed by encryptionsalt).
    stack.write_text(
        "encryptionsalt: v1:AAECAwQFBgc=:v1:AAECAwQFBgcICQoL:KCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/\n"
        "config:\n"
        "  aws:region: us-west-2\n"
        "  aws:profile: ignored\n"
        "  vllm-aws:models: [{name: a, id: Qwen/Qwen2.5-1.5B-Instruct}]\n"
        "  vllm-aws:loadBalancer: {allowPlainHttp: true}\n"
        "  vllm-aws:hfToken: {secure: v1:AAECAwQFBgcICQoL:KCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/}\n"
        "  vllm-aws:apiKey: plain-key-for-offline-checks\n"
    )
    raw, secret_keys = raw_from_stack_file(stack)
    assert raw["hfToken"] == SECRET_PLACEHOLDER
    assert sorted(secret_keys) == ["apiKey", "hfToken"]
    assert "aws:profile" not in raw
    config = parse_stack_config(raw)
    assert config.region == "us-west-2"
    assert isinstance(config.api_key, SecretStr)
    assert "plain-key-for-offline-checks" not in repr(config)


def test_stack_file_that_is_not_yaml_is_a_config_error(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.bad.yaml"
    stack.write_text("config: [unclosed\n")
    with pytest.raises(ConfigError, match="is not valid YAML"):
        raw_from_stack_file(stack)


def test_to_pulumi_config_namespaces_and_json_encodes() -> None:
    out = to_pulumi_config({"models": [MODEL], "image": "vllm/vllm-openai:v0.33.0", "aws:region": "us-east-1"})
    assert out["vllm-aws:image"] == "vllm/vllm-openai:v0.33.0"
    assert json.loads(out["vllm-aws:models"]) == [MODEL]
    assert out["aws:region"] == "us-east-1"


@pulumi.runtime.test
def test_load_from_pulumi_config_keeps_secrets_secret(pulumi_mocks: object) -> None:
    pulumi.runtime.set_all_config(
        {
            "vllm-aws:models": json.dumps([MODEL]),
            "vllm-aws:loadBalancer": json.dumps(PLAIN_HTTP),
            "vllm-aws:hfToken": "hf_secret_value",
            "aws:region": "eu-west-1",
        },
        ["vllm-aws:hfToken"],
    )
    config = load_stack_config()
    assert config.region == "eu-west-1"
    # Held as a SecretStr (validated like a plain file's value), handed to resources as a Pulumi secret.
    assert isinstance(config.hf_token, SecretStr)
    assert "hf_secret_value" not in repr(config)
    token = secret_output(config.hf_token)

    def check(values: list[object]) -> None:
        assert values == [True, "hf_secret_value"]

    return pulumi.Output.all(token.is_secret(), token).apply(check)


@pulumi.runtime.test
def test_a_program_building_its_config_may_give_secrets_as_outputs(pulumi_mocks: object) -> None:
    config = parse_stack_config(
        {"models": [MODEL], "loadBalancer": PLAIN_HTTP, "hfToken": pulumi.Output.secret("hf_secret_value")}
    )
    # The schema holds the Output opaquely (it imports no Pulumi); secret_output gives it back as a secret.
    assert isinstance(config.hf_token, OutputSecret)
    assert isinstance(config.hf_token.output, pulumi.Output)
    assert "hf_secret_value" not in repr(config)
    token = secret_output(config.hf_token)

    def check(values: list[object]) -> None:
        assert values == [True, "hf_secret_value"]

    return pulumi.Output.all(token.is_secret(), token).apply(check)


@pulumi.runtime.test
def test_load_from_pulumi_config_validates_the_api_key_before_anything_is_registered(pulumi_mocks: object) -> None:
    pulumi.runtime.set_all_config(
        {"vllm-aws:models": json.dumps([MODEL]), "vllm-aws:apiKey": "xyzzy\n"}, ["vllm-aws:apiKey"]
    )
    with pytest.raises(ConfigError) as caught:
        load_stack_config()
    assert [issue.path for issue in caught.value.issues] == ["vllm-aws:apiKey"]
    assert "xyzzy" not in str(caught.value)


@pulumi.runtime.test
def test_load_from_pulumi_config_rejects_unknown_keys_with_a_hint(pulumi_mocks: object) -> None:
    pulumi.runtime.set_all_config({"vllm-aws:models": json.dumps([MODEL]), "vllm-aws:loadBalancr": "{}"}, [])
    with pytest.raises(ConfigError) as caught:
        load_stack_config()
    assert caught.value.issues[0].path == "vllm-aws:loadBalancr"
    assert "did you mean 'loadBalancer'" in str(caught.value)


def test_architecture_from_a_local_hf_config_json(tmp_path: Path) -> None:
    hf_config = tmp_path / "config.json"
    hf_config.write_text(
        json.dumps(
            {
                # Every Hugging Face config.json names its model_type: the reader's parser sizes by it.
                "model_type": "llama",
                "architectures": ["LlamaForCausalLM"],
                "num_hidden_layers": 32,
                "num_attention_heads": 32,
                "num_key_value_heads": 8,
                "hidden_size": 4096,
                "intermediate_size": 14336,
                "vocab_size": 128256,
                "max_position_embeddings": 131072,
                "torch_dtype": "bfloat16",
                "tie_word_embeddings": False,
            }
        )
    )
    model = {
        "name": "custom",
        "id": "acme/private-llama",
        "instanceType": "g6e.xlarge",
        "maxModelLen": 8192,
        "architecture": {"configJson": str(hf_config)},
    }
    plan = plan_stack(parse_stack_config({"models": [model], "loadBalancer": PLAIN_HTTP}))
    spec = plan.models[0].spec
    assert (spec.num_layers, spec.head_dim, spec.num_key_value_heads) == (32, 128, 8)
    assert spec.params_billion == pytest.approx(8.03, abs=0.01)  # estimated from the shape


def test_architecture_block_overrides_and_sizes_an_unknown_model() -> None:
    model = {
        "name": "custom",
        "id": "acme/model",
        "instanceType": "g6e.xlarge",
        "maxModelLen": 4096,
        "architecture": {
            "numLayers": 24,
            "numAttentionHeads": 16,
            "numKeyValueHeads": 4,
            "headDim": 128,
            "paramsBillion": 3.0,
            "maxPositionEmbeddings": 32768,
        },
    }
    plan = plan_stack(parse_stack_config({"models": [model], "loadBalancer": PLAIN_HTTP}))
    assert plan.models[0].spec.hidden_size == 16 * 128
    assert plan.models[0].memory.kv_bytes_per_token == 2 * 24 * 4 * 128 * 2


def test_every_top_level_model_field_has_a_camel_case_alias() -> None:
    aliases = {field.alias for field in StackConfig.model_fields.values()}
    assert {"models", "loadBalancer", "hfToken", "apiKey", "aws:region"} <= aliases


@pulumi.runtime.test
def test_load_from_the_language_hosts_pulumi_config_env(pulumi_mocks: object, monkeypatch: pytest.MonkeyPatch) -> None:
    # Under `pulumi up` the Python language host passes config as the PULUMI_CONFIG JSON bag.
    pulumi.runtime.set_all_config({}, [])
    monkeypatch.setenv(
        "PULUMI_CONFIG",
        json.dumps(
            {
                "vllm-aws:models": json.dumps([MODEL]),
                "vllm-aws:image": "vllm/vllm-openai:v0.33.0",
                "vllm-aws:monitoring": json.dumps({"placement": "colocated"}),
                "vllm-aws:loadBalancer": json.dumps(PLAIN_HTTP),
                "aws:region": "us-west-2",
            }
        ),
    )
    config = load_stack_config()
    assert config.region == "us-west-2"
    assert config.monitoring.placement == "colocated"
    assert config.models[0].name == "qwen-7b"
