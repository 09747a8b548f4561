"""vllm_aws.cli.run_offline: any Pulumi program, offline under the plan's mocks, with a stack file's config."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pulumi
import pytest
from stack_runs import PROJECT_DIR, of_type, run_stack

from components.cli import run_offline
from components.cli.program import resolved
from components.config import SECRET_PLACEHOLDER
from components.errors import ConfigError

EXAMPLE_DIR = PROJECT_DIR / "examples" / "extra-model"
# A passphrase-encrypted value's shape (v1:<12-byte nonce>:<ciphertext>, keyed by encryptionsalt), as test_config.
SALT = "v1:AAECAwQFBgc=:v1:AAECAwQFBgcICQoL:KCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/"
SECURE = "v1:AAECAwQFBgcICQoL:KCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/"


def test_this_repositorys_stack_runs_as_the_plan_runs_it() -> None:
    run = run_offline(PROJECT_DIR / "__main__.py", PROJECT_DIR / "Pulumi.prod.yaml")
    planned = run_stack("prod")
    assert sorted(r.urn for r in run.resources) == sorted(r.urn for r in planned.resources)
    assert sorted(json.dumps([r.inputs, r.options], sort_keys=True, default=str) for r in run.resources) == sorted(
        json.dumps([r.inputs, r.options], sort_keys=True, default=str) for r in planned.resources
    )
    # Project and stack come from Pulumi.yaml and the file's name, as `pulumi preview` would take them.
    assert all("::vllm-aws::" in r.urn and r.urn.startswith("urn:pulumi:prod::") for r in run.resources)
    assert run.outputs["modelNames"] == ["qwen-72b", "qwen-8b"]


def test_the_extra_model_example_runs_from_its_directory(tmp_path: Path) -> None:
    reference = "acme/vllm-aws/prod"
    main = run_stack("prod")
    outputs = {
        key: json.loads(json.dumps(resolved(main.outputs[key])))
        for key in ("loadBalancer", "network", "secretParameters", "modelNames")
    }
    stack_file = tmp_path / "Pulumi.extra.yaml"
    stack_file.write_text(
        textwrap.dedent(
            f"""\
            encryptionsalt: {SALT}
            config:
              aws:region: us-east-1
              vllm-aws-extra-model:stackReference: {reference}
              vllm-aws-extra-model:model:
                name: qwen-7b
                id: Qwen/Qwen2.5-7B-Instruct-AWQ
                instanceType: g6.xlarge
                replicas: 2
              vllm-aws-extra-model:tags:
                secure: {SECURE}
            """
        )
    )
    # The example imports the installed package (`from vllm_aws import ...`): it runs from this checkout too.
    with pytest.raises(pulumi.RunError, match="tags"):
        run_offline(EXAMPLE_DIR, stack_file, stack_outputs={reference: outputs})
    stack_file.write_text(stack_file.read_text().replace("tags:\n    secure:", "image:\n    secure:"))
    with pytest.raises(pulumi.RunError, match=rf"vllm-aws-extra-model:image: .*got '\{SECRET_PLACEHOLDER}'"):
        run_offline(EXAMPLE_DIR, stack_file, stack_outputs={reference: outputs})
    stack_file.write_text("\n".join(stack_file.read_text().splitlines()[:-2]) + "\n")
    run = run_offline(EXAMPLE_DIR, stack_file, stack_outputs={reference: outputs})
    assert sorted(h.name for h in of_type(run, "vllm-aws:index:GpuHost")) == ["qwen-7b-0", "qwen-7b-1"]
    assert all(r.urn.startswith("urn:pulumi:extra::vllm-aws-extra-model::") for r in run.resources)
    assert run.outputs["instanceType"] == "g6.xlarge"


def test_a_program_imports_its_own_modules(tmp_path: Path) -> None:
    # As the Pulumi CLI runs it: the project directory is importable, and only while it runs.
    (tmp_path / "Pulumi.yaml").write_text("name: mine\nruntime: python\n")
    (tmp_path / "naming.py").write_text("TOPIC = 'alerts'\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi\nimport pulumi_aws as aws\nfrom naming import TOPIC\n\naws.sns.Topic(TOPIC)\n"
    )
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text("config:\n  aws:region: eu-west-1\n  mine:plain: 1\n")
    run = run_offline(tmp_path, stack_file)
    (topic,) = run.resources
    assert (topic.name, topic.urn) == ("alerts", "urn:pulumi:dev::mine::aws:sns/topic:Topic::alerts")


def test_a_stack_file_the_cli_would_refuse_is_bad_input(tmp_path: Path) -> None:
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text("config:\n  region: us-east-1\n")
    with pytest.raises(ConfigError):
        run_offline(PROJECT_DIR, stack_file)
