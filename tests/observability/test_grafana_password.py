"""Grafana's admin password is data on the host, never container configuration: ``docker inspect`` shows the
file's path, not the password.

The host that runs Grafana (the dedicated monitoring host, or with colocated monitoring the first GPU host) reads
the SecureString at boot into a file only Grafana's uid can read, outside the directory the vLLM containers mount
(tests/host/test_bootstrap_script.py runs that part of the real bootstrap); Grafana's image turns
``GF_SECURITY_ADMIN_PASSWORD__FILE`` into the variable inside the container only (grafana/grafana
packaging/docker/run.sh @0775459: `export "$VAR_NAME"="$(cat "${FILE}")"; unset "$VAR_NAME_FILE"`).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from stack_runs import named, of_type, run_stack

from components.host.bootstrap import SERVICE_SECRETS_DIR
from components.observability.monitoring import GRAFANA_PASSWORD_PATH

CONTAINER = "docker:index/container:Container"
PARAMETER = "aws:ssm/parameter:Parameter"
INSTANCE = "aws:ec2/instance:Instance"
PASSWORD_FILE = f"{SERVICE_SECRETS_DIR}/GF_SECURITY_ADMIN_PASSWORD"
# What a container shows in `docker inspect`: its configuration, from these inputs.
INSPECTED = ("envs", "command", "entrypoints", "labels", "hostname", "user", "workingDir")


def inspected(container: Any) -> str:
    return json.dumps({key: container.inputs.get(key) for key in INSPECTED})


@pytest.mark.parametrize(("stack", "grafana_host"), [("prod", "monitoring"), ("dev", "qwen-7b-0")])
def test_the_password_reaches_grafana_as_a_file_fetched_at_boot(stack: str, grafana_host: str) -> None:
    run = run_stack(stack)
    grafana = named(run, "monitoring-grafana")
    envs = grafana.inputs["envs"]
    assert f"GF_SECURITY_ADMIN_PASSWORD__FILE={GRAFANA_PASSWORD_PATH}" in envs
    assert not any(env.startswith("GF_SECURITY_ADMIN_PASSWORD=") for env in envs)
    mount = next(m for m in grafana.inputs["mounts"] if m["target"] == GRAFANA_PASSWORD_PATH)
    assert (mount["source"], mount["type"], mount["readOnly"]) == (PASSWORD_FILE, "bind", True)
    # No container's inspectable configuration holds a secret (the recorder shows any secret as [secret]).
    for container in of_type(run, CONTAINER):
        assert "[secret]" not in inspected(container), container.name
    # The value lives in a SecureString; user-data names it, only on the host that runs Grafana.
    parameter = next(p for p in of_type(run, PARAMETER) if p.name == "grafana-admin-password-parameter")
    assert (parameter.inputs["type"], parameter.inputs["value"]) == ("SecureString", "[secret]")
    name = f"/vllm-aws/{stack}/grafana-admin-password"
    fetching = {
        i.parent for i in of_type(run, INSTANCE) if f"GF_SECURITY_ADMIN_PASSWORD=472:{name}" in i.inputs["userData"]
    }
    assert fetching == {grafana_host}


def test_without_grafana_there_is_no_password_parameter() -> None:
    run = run_stack("prod", monitoring={"placement": "dedicated", "grafana": False})
    assert "grafana-admin-password-parameter" not in {p.name for p in of_type(run, PARAMETER)}
    assert not any("GF_SECURITY_ADMIN_PASSWORD" in i.inputs["userData"] for i in of_type(run, INSTANCE))
