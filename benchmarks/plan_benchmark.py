"""How long `python -m components plan` takes, and how much memory, as a user runs it.

Each run is a fresh subprocess (`python -m components plan ... --format json > file`), so interpreter start-up,
imports and the mock run of the real `__main__.py` all count. Wall time is the median of --runs runs after
--warmup unmeasured ones (byte-code caches); memory is the child's peak resident set (ru_maxrss of its rusage,
read with os.wait4 so each stack gets its own figure rather than the maximum over all children so far).

Stacks: the shipped dev and prod, and a generated large one (8 catalog models x 4 replicas on g6e hosts, written
to a temporary Pulumi.large.yaml and planned with --config).

    .venv/bin/python benchmarks/plan_benchmark.py [--runs 5] [--json] [--check]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
LARGE_TARGET_SECONDS = 5.0

# 8 distinct models, every one read through the model reader (#12: Hub, disk cache, bundled snapshot; here the
# bundled snapshot, offline, which is the path a warm cache takes without a Hub call), sized per architecture
# (dense, MoE, MXFP4 + sliding window, hybrid Gemma 3): small ones on one L40S, large ones tensor-parallel on four.
LARGE_MODELS: list[dict[str, object]] = [
    {"name": "qwen25-7b", "id": "Qwen/Qwen2.5-7B-Instruct", "instanceType": "g6e.xlarge", "maxModelLen": 16384},
    {"name": "qwen3-8b", "id": "Qwen/Qwen3-8B", "instanceType": "g6e.xlarge", "maxModelLen": 16384},
    {
        "name": "llama31-8b",
        "id": "meta-llama/Llama-3.1-8B-Instruct",
        "instanceType": "g6e.xlarge",
        "maxModelLen": 16384,
    },
    {"name": "gpt-oss-20b", "id": "openai/gpt-oss-20b", "instanceType": "g6e.xlarge", "maxModelLen": 16384},
    {"name": "phi-4", "id": "microsoft/phi-4", "instanceType": "g6e.xlarge", "maxModelLen": 16384},
    {"name": "qwen3-32b", "id": "Qwen/Qwen3-32B", "instanceType": "g6e.12xlarge", "tensorParallelSize": 4},
    {"name": "qwen3-30b-a3b", "id": "Qwen/Qwen3-30B-A3B", "instanceType": "g6e.12xlarge", "tensorParallelSize": 4},
    {"name": "gemma3-27b", "id": "google/gemma-3-27b-it", "instanceType": "g6e.12xlarge", "tensorParallelSize": 4},
]
LARGE_REPLICAS = 4


def large_stack_config() -> dict[str, object]:
    models = [{**model, "replicas": LARGE_REPLICAS} for model in LARGE_MODELS]
    for model in models:
        model.setdefault("maxModelLen", 32768)
    return {
        "config": {
            "aws:region": "us-east-1",
            "vllm-aws:image": "vllm/vllm-openai:v0.33.0",
            "vllm-aws:models": models,
            "vllm-aws:monitoring": {"placement": "dedicated"},
            # HTTPS as the shipped prod serves it: the certificate, its validation records and the aliases are
            # part of what a real large stack plans.
            "vllm-aws:loadBalancer": {"domain": "llm.example.com", "hostedZoneId": "ZREPLACEWITHYOURZONEID"},
            # Two of the models are gated: the token is what the hosts would need (never sent offline).
            "vllm-aws:hfToken": "hf_benchmark",
        }
    }


@dataclass
class Result:
    stack: str
    models: int
    hosts: int
    resources: int
    runs: int
    median_s: float
    min_s: float
    max_s: float
    peak_rss_mib: float


def run_once(args: list[str], out: Path) -> tuple[float, int]:
    """One plan in a fresh interpreter: (wall seconds, peak RSS in KiB)."""
    with out.open("wb") as stdout, tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "components", "plan", *args, "--format", "json"],
            cwd=PROJECT_DIR,
            # No Hub calls: the models come from the bundled snapshot through the reader.
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
            stdout=stdout,
            stderr=stderr,
        )
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            stderr.seek(0)
            raise SystemExit(f"plan {' '.join(args)} exited {process.returncode}:\n{stderr.read().decode()}")
    return elapsed, usage.ru_maxrss  # KiB on Linux


def measure(stack: str, args: list[str], runs: int, warmup: int, workdir: Path) -> Result:
    out = workdir / f"{stack}.json"
    for _ in range(warmup):
        run_once(args, out)
    times, peaks = [], []
    for _ in range(runs):
        elapsed, peak = run_once(args, out)
        times.append(elapsed)
        peaks.append(peak)
    document = json.loads(out.read_text())
    return Result(
        stack=stack,
        models=len(document["models"]),
        hosts=sum(model["hosts"] for model in document["models"]),
        resources=len(document["resources"]),
        runs=runs,
        median_s=round(statistics.median(times), 3),
        min_s=round(min(times), 3),
        max_s=round(max(times), 3),
        peak_rss_mib=round(max(peaks) / 1024, 1),
    )


def table(results: list[Result]) -> str:
    header = ["stack", "models", "hosts", "resources", "runs", "median s", "min s", "max s", "peak RSS MiB"]
    rows = [
        [r.stack, r.models, r.hosts, r.resources, r.runs]
        + [f"{value:.2f}" for value in (r.median_s, r.min_s, r.max_s)]
        + [f"{r.peak_rss_mib:.0f}"]
        for r in results
    ]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = [" | ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    rule = "-+-".join("-" * width for width in widths)
    return "\n".join([" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)), rule, *lines])


def planner_seconds() -> tuple[float, float]:
    """The planner alone on the large stack, in this process: the first ``plan_stack`` (the reader parses each
    model's record once) and the fastest of three more (a new reader each time; the records are memoized)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    sys.path.insert(0, str(PROJECT_DIR))
    from components.config import parse_stack_config  # noqa: PLC0415 - after the project is importable
    from components.planner.plan import plan_stack  # noqa: PLC0415

    config = large_stack_config()["config"]
    assert isinstance(config, dict)
    stack = parse_stack_config({key.removeprefix("vllm-aws:"): value for key, value in config.items()})
    times = []
    for _ in range(4):
        start = time.perf_counter()
        plan_stack(stack)
        times.append(time.perf_counter() - start)
    return times[0], min(times[1:])


def cpu_reference_ms() -> float:
    """One core's pure-Python speed, so runs on two machines can be compared: the best of five timings of
    ``sum(range(10**6))``. The plan is CPU-bound (the mock run is single-threaded Python): its time follows this."""
    return min(timeit.repeat("sum(range(10**6))", number=10, repeat=5)) / 10 * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="measured runs per stack (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured runs first (default 1)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--check", action="store_true", help=f"exit 1 if the large stack takes ≥ {LARGE_TARGET_SECONDS} s"
    )
    parser.add_argument("--stacks", default="dev,prod,large", help="comma-separated subset of dev,prod,large")
    args = parser.parse_args(argv)

    results = []
    with tempfile.TemporaryDirectory(prefix="plan-benchmark-") as tmp:
        workdir = Path(tmp)
        large = workdir / "Pulumi.large.yaml"
        large.write_text(yaml.safe_dump(large_stack_config(), sort_keys=False))
        stacks = {"dev": ["--stack", "dev"], "prod": ["--stack", "prod"], "large": ["--config", str(large)]}
        for name in args.stacks.split(","):
            results.append(measure(name, stacks[name], args.runs, args.warmup, workdir))

    machine = {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": sys.platform,
        "cpu_reference_ms": cpu_reference_ms(),
    }
    if args.json:
        print(json.dumps({"machine": machine, "results": [asdict(r) for r in results]}, indent=2))
    else:
        print(table(results))
        print(f"\n{machine['cpus']} CPUs, Python {machine['python']}; target: large < {LARGE_TARGET_SECONDS:.0f} s")
        print(f"CPU reference: sum(range(10**6)) in {machine['cpu_reference_ms']:.1f} ms (compares machines)")
        first, next_ = planner_seconds()
        print(f"planner alone (plan_stack of large, in-process): first {first:.3f} s, then {next_:.3f} s")
    slow = [r for r in results if r.stack == "large" and r.median_s >= LARGE_TARGET_SECONDS]
    return 1 if args.check and slow else 0


if __name__ == "__main__":
    raise SystemExit(main())
