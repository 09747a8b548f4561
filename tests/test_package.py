"""The component package installs with pip and works from the installed copy (catalogs and scripts included).

The slow test builds a fresh virtual environment, ``pip install``s this repository into it without network or
build isolation (dependencies come from the running interpreter's site-packages through a ``.pth`` file), and
imports the public API from a directory outside the repository.
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
from importlib import util
from pathlib import Path

import pytest

import components

PROJECT_DIR = Path(__file__).resolve().parent.parent
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
    "catalog/models.yaml",
    "catalog/vllm_serve_flags.json",
    "catalog/vllm_serve_json_flags.json",
    "catalog/vllm_metric_names.txt",
    "bootstrap/bootstrap.sh",
    "bootstrap/mount-cache.sh",
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
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "components.version.__version__"}
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
    import components
    from components import GpuHost, LoadBalancer, ModelCache, Monitoring, VllmDeployment, VllmServer, __version__
    from components import catalog, observability
    from components.bootstrap import BootstrapSpec, render_user_data
    import yaml

    user_data = render_user_data(
        BootstrapSpec(
            cache_volume_id="vol-0123456789abcdef0",
            ssh_public_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPackagePackagePackagePackagePackagePack vllm-aws",
            region="us-east-1",
            secret_parameters={"VLLM_API_KEY": "/vllm-aws/pkg/api-key"},
        )
    )
    rules = yaml.safe_load(observability.render_alert_rules())
    print(json.dumps({
        "file": components.__file__,
        "version": __version__,
        "components": [c.__name__ for c in (VllmDeployment, GpuHost, ModelCache, VllmServer, Monitoring, LoadBalancer)],
        "instances": len(catalog.instance_types()),
        "gpus": len(catalog.gpus()),
        "models": len(catalog.models()),
        "flags": len(catalog.serve_flags()),
        "metrics": len(observability.metrics.vllm_metric_names()),
        "userData": user_data.startswith("#cloud-config") and "vllm-aws-bootstrap" in user_data,
        "alerts": sum(len(group["rules"]) for group in rules["groups"]),
    }))
    """
)


@pytest.mark.slow
def test_pip_install_into_a_fresh_venv_ships_code_and_data(tmp_path: Path) -> None:
    problem = _setuptools_problem()
    assert problem is None, f"{problem}: pip install -r requirements-dev.txt (it pins setuptools>=70.1)"
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

    installed = {path.name for path in site_packages.iterdir()}
    assert "components" in installed
    assert not {"tests", "examples", "provider", "benchmarks"} & installed
    package = site_packages / "components"
    for data in PACKAGE_DATA:
        assert (package / data).is_file(), f"{data} is not installed: check [tool.setuptools.package-data]"
    # The instance catalog's generator inputs (a 270 KB CSV) stay in the repository.
    assert not (package / "catalog" / "source").exists()

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    check = subprocess.run(
        [str(python), "-I", "-c", CHECK], capture_output=True, text=True, env=env, cwd=outside, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    report = json.loads(check.stdout)
    assert Path(report["file"]).resolve().is_relative_to(venv.resolve()), report["file"]
    assert not Path(report["file"]).resolve().is_relative_to(PROJECT_DIR)
    assert report["version"] == components.__version__
    assert report["components"] == [
        "VllmDeployment", "GpuHost", "ModelCache", "VllmServer", "Monitoring", "LoadBalancer",
    ]  # fmt: skip
    assert report["instances"] > 20 and report["gpus"] > 5 and report["models"] >= 30
    assert report["flags"] > 100 and report["metrics"] > 20
    assert report["userData"] is True
    assert report["alerts"] >= 13


def _clean_env() -> dict[str, str]:
    import os

    drop = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PIP_REQUIRE_VIRTUALENV", "VIRTUAL_ENV"}
    return {key: value for key, value in os.environ.items() if key not in drop}
