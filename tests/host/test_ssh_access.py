"""The stack's SSH key file on the deploying machine: written by every program run that knows the key.

A ``command.local`` ``create`` runs once (pulumi/pulumi-command provider/pkg/provider/local), so the key file
used to exist only on the machine that first created the stack; a fresh CI runner could not reach Docker.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pulumi
import pytest
from stack_runs import of_type, run_stack

from components.cli.program import Recording
from components.host import ssh_access
from components.host.ssh import ssh_options
from components.host.ssh_access import keep_key_file, looks_like_private_key

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----"
KEY_FILE = "~/.ssh/vllm-aws-dev.key"
PROVIDER = "pulumi:providers:docker"


def access_with(private_key: pulumi.Output[str]) -> ssh_access.SshAccess:
    return ssh_access.SshAccess(public_key="ssh-ed25519 AAAA test", private_key=private_key, key_file=KEY_FILE)


def provider_for(ssh: ssh_access.SshAccess) -> Any:
    host = SimpleNamespace(docker_host=pulumi.Output.from_input("ssh://ubuntu@i-0123456789abcdef0"))
    return ssh_access.docker_provider("qwen-7b-0", host, "ssm", "us-east-1", ssh)  # type: ignore[arg-type]


def key_path(home: Path) -> Path:
    return home / ".ssh" / "vllm-aws-dev.key"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_machine_gets_the_key_before_any_docker_provider_dials(
    pulumi_mocks: Recording, deploying_machine_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not (deploying_machine_home / ".ssh").exists()  # a fresh CI runner
    present_at_registration: list[bool] = []
    record = pulumi_mocks.mocks.new_resource

    def new_resource(args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == PROVIDER:
            present_at_registration.append(key_path(deploying_machine_home).exists())
        return record(args)

    monkeypatch.setattr(pulumi_mocks.mocks, "new_resource", new_resource)

    @pulumi.runtime.test  # type: ignore[misc]
    def program() -> pulumi.Output[Any]:
        ssh = access_with(pulumi.Output.secret(KEY))
        providers = [provider_for(ssh), provider_for(ssh)]
        return pulumi.Output.all(*(p.urn for p in providers)).apply(check)

    def check(_urns: list[str]) -> None:
        assert present_at_registration == [True, True]
        path = key_path(deploying_machine_home)
        assert path.read_text() == KEY + "\n"
        assert mode(path) == 0o600 and mode(path.parent) == 0o700
        (provider, _) = [r for r in pulumi_mocks.resources if r.type == PROVIDER]
        options = json.loads(provider.inputs["sshOpts"])  # provider config travels as JSON text
        assert options == ssh_options("ssm", "us-east-1", KEY_FILE)
        assert options[6:10] == ["-i", KEY_FILE, "-o", "IdentitiesOnly=yes"]
        assert KEY not in json.dumps([r.inputs for r in pulumi_mocks.resources], default=str)

    program()


def test_a_stale_or_loose_copy_is_replaced_and_made_private(
    pulumi_mocks: Recording, deploying_machine_home: Path
) -> None:
    path = key_path(deploying_machine_home)
    path.parent.mkdir(mode=0o755)
    path.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nold key\n-----END OPENSSH PRIVATE KEY-----\n")
    path.chmod(0o644)

    @pulumi.runtime.test  # type: ignore[misc]
    def program() -> pulumi.Output[None]:
        return keep_key_file(pulumi.Output.secret(KEY), KEY_FILE).apply(check)

    def check(returned: str) -> None:
        assert returned == KEY_FILE
        assert path.read_text() == KEY + "\n" and mode(path) == 0o600
        assert mode(path.parent) == 0o755  # an existing ~/.ssh is the user's business
        assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left

    program()


def test_an_unchanged_copy_is_not_rewritten(pulumi_mocks: Recording, deploying_machine_home: Path) -> None:
    path = key_path(deploying_machine_home)
    path.parent.mkdir(mode=0o700)
    path.write_text(KEY + "\n")
    path.chmod(0o600)
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))

    @pulumi.runtime.test  # type: ignore[misc]
    def program() -> pulumi.Output[None]:
        return keep_key_file(pulumi.Output.secret(KEY), KEY_FILE).apply(lambda _: check())

    def check() -> None:
        assert path.stat().st_mtime_ns == 1_000_000_000

    program()


def test_an_unknown_key_writes_nothing(pulumi_mocks: Recording, deploying_machine_home: Path) -> None:
    # The first preview: the key does not exist yet, and neither does any host to reach.
    @pulumi.runtime.test  # type: ignore[misc]
    def program() -> pulumi.Output[None]:
        loop = asyncio.get_event_loop()
        value, known = loop.create_future(), loop.create_future()
        value.set_result(None)
        known.set_result(False)
        unknown: pulumi.Output[str] = pulumi.Output(set(), value, known)
        kept = keep_key_file(unknown, KEY_FILE)
        return pulumi.Output.all(kept, unknown).apply(lambda _: check())

    def check() -> None:
        pytest.fail("an output depending on an unknown key must not resolve")

    program()
    assert not (deploying_machine_home / ".ssh").exists()


def test_offline_plans_write_nothing_and_register_no_key_file_command(deploying_machine_home: Path) -> None:
    run = run_stack("dev")
    assert not (deploying_machine_home / ".ssh").exists()  # the offline key is a placeholder
    assert [r.name for r in of_type(run, "command:local:Command") if "key" in r.name] == []
    (provider,) = of_type(run, PROVIDER)
    assert json.loads(provider.inputs["sshOpts"]) == ssh_options("ssm", "us-east-1", KEY_FILE)
    assert "ssh-key" in provider.options["dependsOn"]  # its sshOpts wait for the key (and its file)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (KEY, True),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", True),
        ("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----", True),
        ("[secret]", False),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI test", False),
        ("-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----", False),
    ],
)
def test_only_private_keys_are_written(text: str, expected: bool) -> None:
    assert looks_like_private_key(text) is expected
