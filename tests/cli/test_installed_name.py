"""share_installed_name: `import vllm_aws` from a checkout gives the checkout's own modules, imported on demand."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]

# A fresh interpreter: this test process may already hold either name.
PROBE = textwrap.dedent(
    """
    import importlib.resources, sys
    from components.cli.installed_name import share_installed_name
    share_installed_name()
    share_installed_name()  # idempotent: one finder
    import components, components.catalog
    import vllm_aws, vllm_aws.catalog
    from vllm_aws import ConfigError, VllmDeployment
    from vllm_aws.cli import run_offline
    assert vllm_aws is components and vllm_aws.catalog is components.catalog
    assert VllmDeployment is components.VllmDeployment and ConfigError is components.ConfigError
    # Each module keeps its own spec: package data and relative imports go on working under both names.
    assert components.catalog.__spec__.name == "components.catalog"
    assert importlib.resources.files("vllm_aws.catalog").joinpath("gpus.yaml").read_text()
    assert importlib.resources.files("components.catalog").joinpath("gpus.yaml").read_text()
    # Nothing is imported ahead of use (the Hub client pulls in an HTTP stack a plan from the cache never needs).
    assert "components.catalog.hf_hub_client" not in sys.modules
    import vllm_aws.catalog.hf_hub_client
    assert sys.modules["vllm_aws.catalog.hf_hub_client"] is sys.modules["components.catalog.hf_hub_client"]
    print(sum(type(f).__name__ == "_InstalledNameAlias" for f in sys.meta_path))
    """
)


def test_vllm_aws_names_the_checkout_modules_lazily() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=PROJECT_DIR, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"
