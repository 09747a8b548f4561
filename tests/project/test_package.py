"""The component package installs with pip, as ``vllm_aws``, and works from the installed copy (catalogs and
scripts included), CLI included.

The slow tests build a fresh virtual environment, ``pip install`` this repository into it without network or
build isolation (dependencies come from the running interpreter's site-packages through a ``.pth`` file), and
import the public API and run ``python -m vllm_aws`` from a directory outside the repository.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
from dataclasses import dataclass
from importlib import util
from pathlib import Path

import pytest
from repo import PROJECT_DIR

import components

# Setuptools builds wheels on its own (without the `wheel` package) from this version on.
MIN_SETUPTOOLS = (70, 1)
# Never copied into the build tree: caches, virtual environments, earlier build output.
BUILD_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", ".mypy_cache", ".ruff_cache",
    ".pytest_cache", ".hypothesis", "node_modules", "out", "bin",
)  # fmt: skip

PACKAGE_DATA = (
    "catalog/gpus.yaml",
    "catalog/instances.json",
    "catalog/model_snapshot.json",
    "catalog/vllm_serve_flags.json",
    "catalog/vllm_serve_json_flags.json",
    "catalog/vllm_metric_names.txt",
    "host/bootstrap/bootstrap.sh",
    "serving/watchdog/vllm-watchdog.sh",
    "host/bootstrap/mount-cache.sh",
    "py.typed",
)


def _requirements() -> list[str]:
    lines = (PROJECT_DIR / "requirements.txt").read_text().splitlines()
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


def _pyproject() -> dict:
    return tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())


def test_package_dependencies_are_requirements_txt() -> None:
    """requirements.txt is what `pip install -r` and the docs use; the package must declare the same ranges."""
    assert _pyproject()["project"]["dependencies"] == _requirements(), (
        "pyproject.toml [project].dependencies differs from requirements.txt: copy the ranges over"
    )


def test_version_is_read_from_components_version() -> None:
    project = _pyproject()
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "vllm_aws.version.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", components.__version__)
    changelog = (PROJECT_DIR / "CHANGELOG.md").read_text()
    assert f"## [{components.__version__}]" in changelog, "CHANGELOG.md has no section for the package version"


def _setuptools_problem() -> str | None:
    if util.find_spec("setuptools") is None:
        return "setuptools is not installed"
    import setuptools

    version = tuple(int(part) for part in re.findall(r"\d+", setuptools.__version__)[:2])
    if version < MIN_SETUPTOOLS:
        return f"setuptools {setuptools.__version__} is older than {'.'.join(map(str, MIN_SETUPTOOLS))}"
    return None


# Run by the fresh environment's python from outside the repository.
CHECK = textwrap.dedent(
    """
    import json
    import vllm_aws
    from vllm_aws import GpuHost, LoadBalancer, ModelCache, Monitoring, VllmDeployment, VllmServer, __version__
    from vllm_aws import catalog, observability
    from vllm_aws.catalog.hub import bundled_snapshot
    from vllm_aws.cli import run_offline
    from vllm_aws.host.bootstrap import BootstrapSpec, render_user_data
    import yaml

    user_data = render_user_data(
        BootstrapSpec(
            cache_volume_id="vol-0123456789abcdef0",
            ssh_public_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPackagePackagePackagePackagePackagePack vllm-aws",
            region="us-east-1",
            secret_parameters={"VLLM_API_KEY": "/vllm-aws/pkg/api-key"},
        )
    )
    inventory = observability.StackAlertsSpec(
        models=(observability.ExpectedModel(name="m", replicas=1, weight_bytes=1),), image_pull_bytes=1
    )
    rules = yaml.safe_load(observability.render_alert_rules(inventory))
    print(json.dumps({
        "file": vllm_aws.__file__,
        "runOffline": run_offline.__module__,
        "version": __version__,
        "components": [c.__name__ for c in (VllmDeployment, GpuHost, ModelCache, VllmServer, Monitoring, LoadBalancer)],
        "instances": len(catalog.instance_types()),
        "gpus": len(catalog.gpus()),
        "models": len(bundled_snapshot()),
        "flags": len(catalog.serve_flags()),
        "metrics": len(observability.metrics.vllm_metric_names()),
        "userData": user_data.startswith("#cloud-config") and "vllm-aws-bootstrap" in user_data,
        "alerts": sum(len(group["rules"]) for group in rules["groups"]),
    }))
    """
)


@dataclass(frozen=True)
class Installed:
    python: Path
    site_packages: Path
    venv: Path
    outside: Path
    """An empty directory outside the repository."""
    env: dict[str, str]

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.python), "-I", *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=cwd or self.outside,
            check=False,
        )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    problem = _setuptools_problem()
    assert problem is None, f"{problem}: pip install -r requirements-dev.txt (it pins setuptools>=70.1)"
    tmp_path = tmp_path_factory.mktemp("package")
    # A copy of the working tree: the in-tree setuptools build writes build/ and *.egg-info, and a stale build/
    # directory could leak deleted modules into the wheel.
    source = tmp_path / "src"
    shutil.copytree(PROJECT_DIR, source, ignore=BUILD_IGNORE, symlinks=True)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site_packages = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    # The running interpreter's packages (CI: the system site; development: the project's .venv) are reused, so
    # nothing is downloaded. pip itself comes from there too.
    reused = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site_packages / "_vllm_aws_test_reuse.pth").write_text("".join(f"{path}\n" for path in reused))

    env = {key: value for key, value in _clean_env().items()}
    install = subprocess.run(
        [
            str(python), "-m", "pip", "install", "--no-build-isolation", "--no-index", "--disable-pip-version-check",
            "--no-input", str(source),
        ],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    return Installed(python=python, site_packages=site_packages, venv=venv, outside=outside, env=env)


@pytest.mark.slow
def test_pip_install_into_a_fresh_venv_ships_code_and_data(installed: Installed) -> None:
    names = {path.name for path in installed.site_packages.iterdir()}
    assert "vllm_aws" in names
    # The import name never collides with a user's own `components` package.
    assert not {"components", "tests", "examples", "provider", "benchmarks"} & names
    package = installed.site_packages / "vllm_aws"
    for data in PACKAGE_DATA:
        assert (package / data).is_file(), f"{data} is not installed: check [tool.setuptools.package-data]"
    # The instance catalog's generator inputs (a 270 KB CSV) stay in the repository.
    assert not (package / "catalog" / "source").exists()

    check = installed.run("-c", CHECK)
    assert check.returncode == 0, check.stdout + check.stderr
    report = json.loads(check.stdout)
    assert Path(report["file"]).resolve().is_relative_to(installed.venv.resolve()), report["file"]
    assert not Path(report["file"]).resolve().is_relative_to(PROJECT_DIR)
    assert report["version"] == components.__version__
    assert report["runOffline"] == "vllm_aws.cli.program"
    assert report["components"] == [
        "VllmDeployment", "GpuHost", "ModelCache", "VllmServer", "Monitoring", "LoadBalancer",
    ]  # fmt: skip
    assert report["instances"] > 20 and report["gpus"] > 5 and report["models"] >= 30
    assert report["flags"] > 100 and report["metrics"] > 20
    assert report["userData"] is True
    assert report["alerts"] >= 13


def _normalized(plan_json: str) -> str:
    return json.dumps(json.loads(plan_json), sort_keys=True)


@pytest.mark.slow
def test_the_installed_cli_plans_a_project_outside_a_checkout(installed: Installed) -> None:
    """``python -m vllm_aws plan --config FILE --project-dir DIR`` from anywhere: the plan the checkout makes."""
    config = PROJECT_DIR / "Pulumi.dev.yaml"
    plan = installed.run("-m", "vllm_aws", "plan", "--config", str(config), "--project-dir", str(PROJECT_DIR),
                         "--format", "json")  # fmt: skip
    assert plan.returncode == 0, plan.stderr
    here = subprocess.run(
        [sys.executable, "-m", "components", "plan", "--config", str(config), "--format", "json"],
        capture_output=True, text=True, cwd=PROJECT_DIR, check=True,
    )  # fmt: skip
    assert _normalized(plan.stdout) == _normalized(here.stdout)


@pytest.mark.slow
def test_without_a_program_the_installed_cli_says_what_it_needs(installed: Installed) -> None:
    plan = installed.run("-m", "vllm_aws", "plan", "--config", str(PROJECT_DIR / "Pulumi.dev.yaml"))
    assert plan.returncode == 2
    assert plan.stdout == ""
    assert plan.stderr.count("\n") == 1 and "Traceback" not in plan.stderr, plan.stderr
    assert plan.stderr.startswith(f"error: no Pulumi program at {installed.outside / '__main__.py'}")
    assert "--project-dir DIR" in plan.stderr
    usage = installed.run("-m", "vllm_aws", "plan", "--format", "yaml")
    assert usage.returncode == 2 and usage.stderr.startswith("usage: python -m vllm_aws plan"), usage.stderr


def test_every_package_directory_is_installed() -> None:
    """pyproject.toml lists the packages by hand (the import name differs from the directory): none is missed."""
    setuptools = _pyproject()["tool"]["setuptools"]
    assert setuptools["package-dir"] == {"vllm_aws": "components"}
    directories = sorted(
        ".".join(("vllm_aws", *init.parent.relative_to(PROJECT_DIR / "components").parts))
        for init in (PROJECT_DIR / "components").rglob("__init__.py")
    )
    assert sorted(setuptools["packages"]) == directories


def _clean_env() -> dict[str, str]:
    import os

    drop = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PIP_REQUIRE_VIRTUALENV", "VIRTUAL_ENV"}
    return {key: value for key, value in os.environ.items() if key not in drop}


def _readme_python_blocks() -> list[str]:
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    start = readme.index("\n## Use it from your stack\n")
    section = readme[start : readme.index("\n## ", start + 1)]
    return re.findall(r"^```python\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)


@pytest.mark.slow
def test_the_readmes_stack_runs_offline_with_the_installed_package(installed: Installed, tmp_path: Path) -> None:
    """The README's "Use it from your stack" program, run offline by its `run_offline` snippet, both as shown."""
    from components.network import routing

    program, run_offline = _readme_python_blocks()
    stack = tmp_path / "my-stack"
    stack.mkdir()
    (stack / "__main__.py").write_text(program, encoding="utf-8")
    (stack / "Pulumi.yaml").write_text("name: my-stack\nruntime: python\n", encoding="utf-8")
    (stack / "Pulumi.mine.yaml").write_text("config:\n  aws:region: us-east-1\n", encoding="utf-8")
    inspect = textwrap.dedent(
        """
        import json
        rules = [r for r in run.resources if r.type == "aws:lb/listenerRule:ListenerRule"]
        (rule,) = [r for r in rules if not r.name.endswith("-loading-rule")]
        print(json.dumps({"priority": rule.inputs["priority"], "listener": rule.inputs["listenerArn"]}))
        """
    )
    result = installed.run("-c", run_offline + inspect, cwd=stack)
    assert result.returncode == 0, result.stdout + result.stderr
    *printed, checks = result.stdout.splitlines()
    assert "vllm-aws:index:GpuHost qwen-7b-0" in printed
    assert "vllm-aws:index:VllmDeployment qwen-7b" in printed
    # Another stack's listener: the priority comes from the range its own models never use.
    assert json.loads(checks)["priority"] == routing.derived_priority("qwen-7b", attached=True)
    assert json.loads(checks)["listener"].startswith("arn:aws:elasticloadbalancing:")
