"""Warnings that mean something (#15): each fires only when acting on it changes the outcome, says by how much and
names the fix; defaults never trigger one unless its condition is real."""

from __future__ import annotations

from typing import Any

import pytest
from repo import PROJECT_DIR

from components import catalog
from components.catalog.hub import bundled_snapshot
from components.config import parse_stack_config
from components.config.sources import raw_from_stack_file
from components.errors import ConfigError
from components.planner import StackPlan, plan_config
from components.planner.checks import model_warnings
from components.planner.memory import fit_memory, resolve_settings
from components.planner.model_spec import bundled_spec

# Warnings that may fire on defaults, and why their condition is real there.
ALLOWED_ON_DEFAULTS = {
    # HTTPS needs the user's domain (or certificate), which vllm-aws cannot know, so these plans opt into plain
    # HTTP (as dev does); the endpoint really is plain HTTP, and the fix (domain + hostedZoneId) changes that.
    "INSECURE: loadBalancer.allowPlainHttp is set",
    # A 4- or 8-GPU type chosen for one TP 1 replica leaves GPUs unused: real money, and the fix (more replicas or
    # replicasPerHost, at no extra cost) changes that.
    " GPUs of 1 ",
    # An FP8 checkpoint on a GPU without FP8 compute (A100) runs weight-only, slower: real, and the fix (an Ada or
    # Hopper GPU) changes that.
    "has no FP8 compute",
}
COMMON_TYPES = (
    "g4dn.xlarge",
    "g5.xlarge",
    "g6.xlarge",
    "g6e.xlarge",
    "g5.2xlarge",
    "g6.2xlarge",
    "g4dn.12xlarge",
    "g5.12xlarge",
    "g6.12xlarge",
    "g6e.12xlarge",
    "p4d.24xlarge",
    "p5.48xlarge",
)


def _plan(raw: dict[str, Any]) -> StackPlan:
    raw = {"loadBalancer": {"allowPlainHttp": True}, **raw}
    return plan_config(lambda: parse_stack_config(raw))


def _unexplained(plan: StackPlan) -> list[str]:
    every = [*plan.warnings, *(w for model in plan.models for w in model.warnings)]
    return [w for w in every if not any(allowed in w for allowed in ALLOWED_ON_DEFAULTS)]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_shipped_stacks_plan_without_unexplained_warnings(stack: str) -> None:
    raw, _ = raw_from_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml")
    assert _unexplained(_plan(raw)) == []


@pytest.mark.parametrize("instance_type", [*COMMON_TYPES, None])
def test_defaults_trigger_no_warning_on_any_common_type(instance_type: str | None) -> None:
    planned = 0
    for record in bundled_snapshot().values():
        model: dict[str, Any] = {"name": "m", "id": record.repo_id}
        if instance_type is not None:
            model["instanceType"] = instance_type
        try:
            plan = _plan({"models": [model], "hfToken": "hf_x"})
        except ConfigError:
            continue  # does not fit or cannot run there: an error, not a warning
        planned += 1
        assert _unexplained(plan) == [], f"{record.repo_id} on {instance_type or 'the chosen type'}"
    assert planned > 0


def _warnings(model: dict[str, Any], **top: Any) -> tuple[str, ...]:
    return _plan({"models": [{"name": "m", **model}], **top}).models[0].warnings


def test_default_cache_throughput_follows_the_instance_and_a_set_one_above_it_is_costed() -> None:
    small = _plan({"models": [{"name": "m", "id": "Qwen/Qwen2.5-1.5B-Instruct", "instanceType": "g4dn.xlarge"}]})
    big = _plan({"models": [{"name": "m", "id": "Qwen/Qwen2.5-1.5B-Instruct", "instanceType": "g6e.48xlarge"}]})
    # g4dn.xlarge bursts to 3500 Mbps = 417 MiB/s; g6e.48xlarge reads far more than gp3's 2000 and the default
    # 6000 IOPS carry 1500 (0.25 MiB/s per IOPS).
    assert (small.models[0].cache_throughput_mibps, big.models[0].cache_throughput_mibps) == (417, 1500)
    assert small.models[0].warnings == ()
    (warning,) = _warnings(
        {"id": "Qwen/Qwen2.5-1.5B-Instruct", "instanceType": "g4dn.xlarge"}, cache={"throughputMibps": 1000}
    )
    assert "583 MiB/s ($23.32/month per cache volume) is paid for and unused" in warning
    assert "remove it (the default follows each instance)" in warning


def test_pcie_warning_fires_only_when_one_gpu_holds_the_model() -> None:
    warnings = _warnings(
        {"id": "Qwen/Qwen2.5-7B-Instruct", "instanceType": "g6.12xlarge", "tensorParallelSize": 2, "maxModelLen": 8192}
    )
    # Two of the four GPUs also sit idle (one replica at TP 2): a warning of its own.
    (warning,) = [w for w in warnings if "PCIe" in w]
    assert "runs over PCIe" in warning and "Fix: tensorParallelSize: 1 and replicasPerHost: 4" in warning
    # 70B in AWQ is ~37 GiB: no single 24 GiB L4 holds it, so TP is the only way and there is nothing to warn.
    assert (
        _warnings(
            {
                "id": "hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4",
                "instanceType": "g6.12xlarge",
                "tensorParallelSize": 4,
                "maxModelLen": 8192,
            },
            hfToken="hf_x",
        )
        == ()
    )


def test_concurrency_warning_fires_only_for_a_context_length_the_user_set() -> None:
    model = {"id": "meta-llama/Llama-3.1-8B-Instruct", "instanceType": "g6e.xlarge"}
    assert _warnings(model, hfToken="hf_x") == ()  # the model's own 131,072 by default: the plan shows the KV room
    (warning,) = _warnings({**model, "maxModelLen": 131072}, hfToken="hf_x")
    assert warning.startswith("m: only 1.") and "131,072 tokens set in maxModelLen" in warning


def test_a_single_gpu_server_needs_two_cores_and_more_servers_need_more() -> None:
    spec = bundled_spec("Qwen/Qwen2.5-1.5B-Instruct")
    assert spec is not None
    parsed = parse_stack_config(
        {
            "models": [{"name": "m", "id": spec.id, "instanceType": "g6.12xlarge"}],
            "loadBalancer": {"allowPlainHttp": True},
        }
    )
    model, cache = parsed.models[0], parsed.cache
    g6_xlarge = catalog.instance_types()["g6.xlarge"]
    # TP 1: the GPU worker runs inside the engine core (vLLM's "uni" executor): 2 processes on 2 cores is enough.
    memory = fit_memory(spec, g6_xlarge.gpu, resolve_settings(model, spec, g6_xlarge))
    assert not [w for w in model_warnings(model, spec, g6_xlarge, memory, cache) if "physical cores" in w]
    # A host with fewer cores than its servers' processes: 4 servers x 2 processes on 6 cores.
    cramped = catalog.instance_types()["g6.12xlarge"].model_copy(update={"vcpu": 12})
    four = model.model_copy(update={"replicas_per_host": 4})
    (warning,) = [w for w in model_warnings(four, spec, cramped, memory, cache) if "physical cores" in w]
    assert "run 8 busy processes" in warning and "6 physical cores" in warning
    assert "Fix: use g6.12xlarge (24 cores, $4.60/h)" in warning


def test_spot_warning_names_the_outage_of_a_single_replica_and_the_fix() -> None:
    (warning,) = _warnings({"id": "Qwen/Qwen2.5-1.5B-Instruct", "instanceType": "g6.xlarge", "spot": True})
    assert "with 1 replica the model is down until then" in warning and "or replicas: 2 or more." in warning


def test_fp8_kv_cache_on_a_gpu_without_fp8_states_the_tokens_it_buys() -> None:
    (warning,) = _warnings(
        {"id": "Qwen/Qwen2.5-7B-Instruct", "instanceType": "g5.xlarge", "kvCacheDtype": "fp8", "maxModelLen": 8192}
    )
    tokens = [int(word.replace(",", "")) for word in warning.split() if word.replace(",", "").isdigit()]
    assert "holds" in warning and "set kvCacheDtype: auto" in warning
    assert len(tokens) >= 2 and tokens[0] > tokens[1]  # fp8 holds more tokens than auto would


def test_the_kms_key_warning_states_the_host_replacements_and_what_moving_a_cache_costs() -> None:
    raw, _ = raw_from_stack_file(PROJECT_DIR / "Pulumi.prod.yaml")
    assert not [w for w in _plan(raw).warnings if w.startswith("kmsKey")]
    plan = _plan({**raw, "kmsKey": {"enabled": True}})
    (warning,) = [w for w in plan.warnings if w.startswith("kmsKey.enabled")]
    # prod: qwen-8b on 2 hosts, qwen-72b on 1, and the dedicated monitoring host.
    assert "replaces all 4 hosts" in warning
    for model in plan.models:
        back = f"{model.config.name} ~{model.cold_start.host_replacement_seconds / 60:.0f} min"
        download = f"~{model.cold_start.container_first_start_seconds / 60:.0f} min"
        assert back in warning and download in warning
    assert "Existing cache volumes keep their weights and the AWS managed key" in warning
    assert "qwen-72b 135 GiB" in warning


def test_a_stale_price_is_a_fact_in_the_reason_not_a_warning() -> None:
    raw = {
        "aws:region": "eu-west-1",
        "models": [{"name": "m", "id": "Qwen/Qwen2.5-7B-Instruct", "instanceType": "p4d.24xlarge"}],
    }
    model = _plan(raw).models[0]
    assert not [w for w in model.warnings if "June 2025" in w]
    assert "its price in eu-west-1 predates AWS's June 2025" in model.instance_reason
    assert model.instance_reason.endswith("so its cost may be above today's")


@pytest.mark.parametrize(
    ("extra", "fix"),
    [
        (["--kv-cache-memory-bytes", "8000000000"], "Fix: set gpuMemoryUtilization instead, which the plan sizes"),
        (["--num_gpu_blocks_override=100"], "Fix: remove it, and size the KV cache with gpuMemoryUtilization"),
        (["--hf-overrides.max_position_embeddings", "65536"], "Fix: describe the changed shape in an `architecture:`"),
    ],
)
def test_extra_args_that_change_gpu_memory_the_plan_does_not_model_warn(extra: list[str], fix: str) -> None:
    model = {"id": "Qwen/Qwen2.5-7B-Instruct-AWQ", "instanceType": "g6.xlarge", "maxModelLen": 8192}
    assert _warnings(model) == ()
    (warning,) = _warnings({**model, "extraArgs": extra})
    assert warning.startswith(f"m: extraArgs {extra[0]}") and "changes what vLLM allocates on the GPU" in warning
    assert "x 8,192-token sequences) and its fit check assume it away" in warning and fix in warning


def test_the_planners_own_pick_of_a_gpu_without_fp8_is_a_fact_in_the_reason_not_a_warning() -> None:
    # Defaults never warn: in eu-west-1 the cheapest type that fits this FP8 checkpoint has no FP8 compute (T4 or
    # A10G); that is the planner's choice, stated in the instance reason with how to get native FP8.
    plan = _plan({"aws:region": "eu-west-1", "models": [{"name": "m", "id": "Qwen/Qwen3-30B-A3B-FP8"}]})
    (model,) = plan.models
    assert model.instance.gpu.compute_capability < 8.9
    assert not [w for w in model.warnings if "FP8" in w]
    assert "has no FP8 compute, so vLLM runs the FP8 weights weight-only" in model.instance_reason
    # The same type set by the user: a warning, whose fix (another instanceType) is the user's to take.
    chosen = {
        "name": "m",
        "id": "Qwen/Qwen3-30B-A3B-FP8",
        "instanceType": model.instance.name,
        "tensorParallelSize": model.config.tensor_parallel_size,
        "replicasPerHost": model.config.replicas_per_host,
    }
    (user_set,) = _plan({"aws:region": "eu-west-1", "models": [chosen]}).models
    assert [w for w in user_set.warnings if "has no FP8 compute" in w]
