"""Requirement floors admit no release without an API the code calls, and the Pulumi CLI floor is stated everywhere.

tests/data/api_floors.json comes from scripts/audit_api_floors.py, which probed every release of each Pulumi
package, from the floors before #10 to the installed one, for each API, keyword and behaviour the code relies on.
A floor below an API's first release (e.g. `pulumi-aws>=7.0.0` and listener-rule `transforms`, #10 item 13) or an
API the audit has not seen fails here.
"""

from __future__ import annotations

import importlib
import json
import re
import sys

import pytest
import yaml
from packaging.requirements import InvalidRequirement, Requirement
from repo import PROJECT_DIR

sys.path.insert(0, str(PROJECT_DIR / "scripts"))
audit = importlib.import_module("audit_api_floors")

AUDIT = json.loads(audit.FLOORS_FILE.read_text(encoding="utf-8"))["packages"]
USAGE = audit.api_usage()
RERUN = "run `python scripts/audit_api_floors.py` (needs PyPI) and commit tests/data/api_floors.json"

# The audit's findings that set a floor, each with its independent source.
SOURCED_FIRST_RELEASES = {
    ("pulumi-aws", "pulumi_aws.lb.ListenerRule(transforms=)"): (
        "7.11.0",
        "upstream: hashicorp/terraform-provider-aws 6.19.0 added aws_lb_listener_rule `transform` (#44702)",
    ),
    ("pulumi", "pulumi.ResourceOptions(replacement_trigger=)"): (
        "3.214.0",
        "pulumi/pulumi CHANGELOG 3.214.0: [sdk/python] Add support for `replacement_trigger` (#20940)",
    ),
    ("pulumi", "pulumi.run()"): (
        "3.254.0",
        "pulumi/pulumi CHANGELOG 3.254.0: [sdk/python] Add `pulumi.run` for natively awaited entrypoints (#23945)",
    ),
    ("pulumi", "[behaviour] infers the component provider's schema (provider/generate_schema.py)"): (
        "3.237.0",
        "pulumi/pulumi CHANGELOG 3.237.0: [sdk/python] Support `NotRequired` ... in TypedDicts for component "
        "resource arg types (#22858); provider/vllm_aws_provider.py uses NotRequired",
    ),
    ("pulumi-tls", "pulumi_tls.PrivateKey()"): (
        "5.0.1",
        "pulumi-tls 5.0.0's pulumi_tls/_utilities.py imports pkg_resources: absent from Python 3.12+ venvs and from "
        "setuptools 81 on",
    ),
    ("pulumi", "pulumi.provider.experimental.component_provider_host(version=)"): (
        "3.211.0",
        "pulumi/pulumi CHANGELOG 3.211.0: [sdk/python] Allow setting version for python component providers",
    ),
}

# Minimum CLI (engine) per resource option, from pulumi/pulumi CHANGELOG.md (version headings, PR numbers).
# Python SDKs send replacement_trigger without asking the engine (sdk/python/lib/pulumi/runtime/resource.py), so
# an older engine silently ignores it: the readiness gate would not re-run on a new host.
ENGINE_FLOORS = {
    "parent": ("3.0.0", "in every 3.x engine"),
    "depends_on": ("3.0.0", "in every 3.x engine"),
    "provider": ("3.0.0", "in every 3.x engine"),
    "protect": ("3.0.0", "0.9.8"),
    "aliases": ("3.0.0", "0.17.26"),
    "ignore_changes": ("3.0.0", "0.17.8; property paths 0.17.27"),
    "delete_before_replace": ("3.0.0", "1.0.0-beta.3: an explicit value overrides the provider"),
    "replace_on_changes": ("3.19.0", "3.6.1 (#7226); respected for every provider from 3.19.0 (#8488)"),
    "retain_on_delete": ("3.25.0", "3.25.0 (#8746)"),
    "deleted_with": ("3.46.1", "3.46.1: [pkg] Add `DeletedWith` as a resource option"),
    "hide_diffs": ("3.200.0", "3.200.0: HideDiffs (Go/Node.js); Python SDK 3.202.0"),
    "replace_with": ("3.207.0", "3.207.0 (#20693)"),
    "replacement_trigger": ("3.208.0", "3.208.0: [engine] Add a `replacement_trigger` resource option (#20936)"),
}
MIN_CLI = max((version for version, _ in ENGINE_FLOORS.values()), key=audit.version_key)


def _floors(requirements: str) -> dict[str, str]:
    """Distribution -> the lowest release the file (and the files it builds on) admits."""
    floors: dict[str, str] = {}
    for name in (requirements, *audit.INCLUDES.get(requirements, ())):
        for line in (PROJECT_DIR / name).read_text(encoding="utf-8").splitlines():
            try:
                requirement = Requirement(line.split("#", 1)[0].strip())
            except InvalidRequirement:
                continue  # -r / -e lines, blanks
            lower = [s.version for s in requirement.specifier if s.operator == ">="]
            if requirement.name in AUDIT and lower:
                current = floors.get(requirement.name, lower[0])
                floors[requirement.name] = max(current, lower[0], key=audit.version_key)
    return floors


def test_every_api_the_code_relies_on_was_audited() -> None:
    unaudited = sorted(
        f"{use.distribution}: {use.key}"
        for uses in USAGE.values()
        for use in uses
        if use.key not in AUDIT.get(use.distribution, {}).get("firstRelease", {})
    )
    assert unaudited == [], f"not audited: {unaudited}; {RERUN}"


def _violations(requirements: str, floors: dict[str, str]) -> list[str]:
    problems = []
    for use in sorted(USAGE[requirements], key=lambda u: u.key):
        floor = floors.get(use.distribution)
        first = AUDIT[use.distribution]["firstRelease"][use.key]
        scanned_from = AUDIT[use.distribution]["scanned"][0]
        if floor is None:
            problems.append(f"{requirements} does not bound {use.distribution} from below")
        elif audit.version_key(floor) < audit.version_key(first):
            problems.append(f"{use.distribution}>={floor} admits releases without {use.key} (first in {first})")
        elif audit.version_key(floor) < audit.version_key(scanned_from):
            problems.append(f"releases of {use.distribution} below {scanned_from} were not audited; {RERUN}")
    return problems


@pytest.mark.parametrize("requirements", sorted(audit.SOURCES))
def test_floors_admit_no_release_without_an_api_the_code_calls(requirements: str) -> None:
    assert _violations(requirements, _floors(requirements)) == []


def test_the_floors_before_10_admitted_releases_without_apis_the_code_calls() -> None:
    """#10 item 13: `pulumi-aws>=7.0.0` admitted 7.0.0-7.10.0, which lack listener-rule `transforms`."""
    problems = _violations("requirements.txt", dict(audit.SCAN_FROM))  # the floors before #10
    for expected in (
        "pulumi-aws>=7.0.0 admits releases without pulumi_aws.lb.ListenerRule(transforms=) (first in 7.11.0)",
        "pulumi>=3.200.0 admits releases without pulumi.ResourceOptions(replacement_trigger=) (first in 3.214.0)",
        "pulumi-tls>=5.0.0 admits releases without pulumi_tls.PrivateKey() (first in 5.0.1)",
    ):
        assert expected in problems


@pytest.mark.parametrize(
    ("key", "expected"), SOURCED_FIRST_RELEASES.items(), ids=[api for _, api in SOURCED_FIRST_RELEASES]
)
def test_the_audit_agrees_with_the_changelogs(key: tuple[str, str], expected: tuple[str, str]) -> None:
    distribution, api = key
    assert AUDIT[distribution]["firstRelease"][api] == expected[0], expected[1]


def test_every_resource_option_the_code_sets_has_a_known_minimum_cli() -> None:
    options = {
        use.keyword
        for uses in USAGE.values()
        for use in uses
        if use.name == "pulumi.ResourceOptions" and use.keyword is not None
    }
    assert options - set(ENGINE_FLOORS) == set(), "add the option's first CLI version (pulumi CHANGELOG.md)"
    assert "replacement_trigger" in options  # what sets the minimum today


@pytest.mark.parametrize(
    "manifest",
    ["Pulumi.yaml", "examples/extra-model/Pulumi.yaml", "examples/yaml/Pulumi.yaml", "provider/PulumiPlugin.yaml"],
)
def test_every_project_requires_the_minimum_cli(manifest: str) -> None:
    """`requiredPulumiVersion` (project.go; checked by `pulumi up/preview` from CLI 3.219.0, plugins from 3.221.0)."""
    document = yaml.safe_load((PROJECT_DIR / manifest).read_text(encoding="utf-8"))
    assert document["requiredPulumiVersion"] == f">={MIN_CLI}"


def test_the_operations_doc_states_the_minimum_cli_and_pulumi_aws() -> None:
    operations = (PROJECT_DIR / "docs" / "operations.md").read_text(encoding="utf-8")
    deploy = operations[operations.index("## Deploy") : operations.index("**Networking.**")]
    assert f"**{MIN_CLI} or newer**" in deploy
    assert f"**pulumi-aws {_floors('requirements.txt')['pulumi-aws']}**" in deploy
    assert f"pulumi SDK {_floors('requirements.txt')['pulumi']}" in deploy
    for readme_path in ("provider/README.md", "examples/extra-model/README.md"):
        assert re.search(
            rf"Pulumi CLI (must be )?{re.escape(MIN_CLI)} or newer", (PROJECT_DIR / readme_path).read_text()
        )
