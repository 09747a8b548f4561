"""The alerts webhook (#14 "a webhook URL held as a secret"): a Pulumi secret, an SSM SecureString, fetched at boot by
the monitoring host alone into a file only Alertmanager's user reads (a service secret, like Grafana's password:
tests/host/test_bootstrap_script.py runs that part of the real bootstrap), bind-mounted read-only and named by
``url_file``; the URL itself appears in no resource input, no user-data, no container argument and no config."""

from __future__ import annotations

import base64
import gzip
import json
import shlex
from pathlib import Path

import pulumi
import pytest
import yaml
from repo import PROJECT_DIR
from stack_runs import PROGRAM, named, of_type, run_stack, stack_raw
from test_alertmanager import amtool, checkable

from components.cli.program import OFFLINE_ACCOUNT_ID, run_program
from components.config import raw_from_stack_file
from components.errors import ConfigError
from components.host.bootstrap import SERVICE_SECRETS_DIR
from components.host.kms_policy import decrypt_secrets_statement
from components.host.secrets import ALERTMANAGER_UID
from components.observability import ALERTS_WEBHOOK_URL_FILE

URL = "https://hooks.example.com/services/T000/B000/xyzzy-webhook-token"
PARAMETER = "/vllm-aws/prod/alerts-webhook-url"
HOST_FILE = f"{SERVICE_SECRETS_DIR}/ALERTS_WEBHOOK_URL"


def user_data_files(user_data: str) -> dict[str, str]:
    files = {}
    for entry in yaml.safe_load(user_data)["write_files"]:
        content = entry["content"]
        if entry.get("encoding") == "gz+b64":
            content = gzip.decompress(base64.b64decode(content)).decode("utf-8")
        files[entry["path"]] = content
    return files


def settings(user_data: str) -> dict[str, str]:
    lines = user_data_files(user_data)["/etc/vllm-aws/bootstrap.env"].splitlines()
    return dict(shlex.split(line)[0].split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_webhook_url_reaches_alertmanager_as_a_root_fetched_file_and_nowhere_else(tmp_path: Path) -> None:
    run = run_stack("prod", alertsWebhookUrl=URL)
    # Nowhere in any recorded input, options included (the parameter's value is a secret: "[secret]").
    assert "xyzzy" not in json.dumps([(r.inputs, str(r.options)) for r in run.resources])
    parameter = named(run, "alerts-webhook-url-parameter").inputs
    assert (parameter["name"], parameter["type"], parameter["value"]) == (PARAMETER, "SecureString", "[secret]")

    # The monitoring host alone reads it, as a service secret (its parameter's name, not value, in user-data),
    # owned by nobody: Grafana's password beside it, never among the vLLM secrets.
    monitoring = settings(named(run, "monitoring-instance").inputs["userData"])
    assert (
        f"ALERTS_WEBHOOK_URL={ALERTMANAGER_UID}:{PARAMETER}" in monitoring["VLLM_AWS_SERVICE_SECRET_PARAMETERS"].split()
    )
    assert PARAMETER not in monitoring["VLLM_AWS_SECRET_PARAMETERS"]
    arn = f"arn:aws:ssm:us-east-1:{OFFLINE_ACCOUNT_ID}:parameter{PARAMETER}"
    (allow,) = json.loads(named(run, "monitoring-read-secrets").inputs["policy"])["Statement"]
    assert arn in allow["Resource"]
    for instance in of_type(run, "aws:ec2/instance:Instance"):
        if instance.name != "monitoring-instance":
            assert PARAMETER not in json.dumps(user_data_files(instance.inputs["userData"])), instance.name

    alertmanager = named(run, "monitoring-alertmanager")
    assert alertmanager.inputs["mounts"] == [
        {"type": "bind", "source": HOST_FILE, "target": ALERTS_WEBHOOK_URL_FILE, "readOnly": True}
    ]
    assert not any("webhook" in arg for arg in alertmanager.inputs["command"])
    assert "envs" not in alertmanager.inputs
    # The container binds the file the host fetched for this version, so it waits for the fetch.
    refresh = named(run, "monitoring-secrets-refresh")
    assert refresh.name in alertmanager.options["dependsOn"]
    assert "systemctl restart vllm-aws-bootstrap.service" in refresh.inputs["create"]
    (label,) = alertmanager.inputs["labels"]
    assert label["label"] == "vllm-aws.webhook-version"

    (upload,) = alertmanager.inputs["uploads"]
    config = yaml.safe_load(upload["content"])
    alerts = next(r for r in config["receivers"] if r["name"] == "alerts")
    assert alerts["webhook_configs"] == [{"url_file": ALERTS_WEBHOOK_URL_FILE, "send_resolved": True}]
    assert "sns_configs" in alerts  # the topic (and its emails) keeps getting every alert
    heartbeat = next(r for r in config["receivers"] if r["name"] == "heartbeat")
    assert "webhook_configs" not in heartbeat  # the webhook is not pinged every 2 minutes
    path = tmp_path / "alertmanager.yml"
    path.write_text(checkable(upload["content"]))
    result = amtool("check-config", path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_without_the_key_nothing_of_the_webhook_exists() -> None:
    run = run_stack("prod")
    assert not [r for r in run.resources if r.name in {"alerts-webhook-url-parameter", "monitoring-secrets-refresh"}]
    assert "mounts" not in named(run, "monitoring-alertmanager").inputs
    alerts = next(
        r
        for r in yaml.safe_load(named(run, "monitoring-alertmanager").inputs["uploads"][0]["content"])["receivers"]
        if r["name"] == "alerts"
    )
    assert "webhook_configs" not in alerts


def test_a_plain_text_url_is_refused_under_pulumi_up_with_the_fix() -> None:
    raw, secret_keys = stack_raw("prod")
    raw["alertsWebhookUrl"] = URL
    with pytest.raises(pulumi.RunError) as caught:  # the program stops before registering anything
        run_program(PROGRAM, raw, secret_keys, "prod")  # not listed as secret: `pulumi config set` without --secret
    message = str(caught.value)
    assert "vllm-aws:alertsWebhookUrl" in message and "plain text" in message
    assert "pulumi config set --secret vllm-aws:alertsWebhookUrl" in message
    assert "xyzzy" not in message


def test_a_plain_text_url_in_a_stack_file_is_refused_offline_too(tmp_path: Path) -> None:
    stack_file = tmp_path / "Pulumi.prod.yaml"
    document = yaml.safe_load((PROJECT_DIR / "Pulumi.prod.yaml").read_text())
    document["config"]["vllm-aws:alertsWebhookUrl"] = URL
    stack_file.write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError) as caught:
        raw_from_stack_file(stack_file)
    assert "pulumi config set --secret vllm-aws:alertsWebhookUrl" in str(caught.value)
    assert "xyzzy" not in str(caught.value)
    # Encrypted, it is a secret the offline plan cannot read, and accepts.
    # A passphrase ciphertext's shape (tests/config/test_config.py), keyed by the file's encryptionsalt.
    document["encryptionsalt"] = "v1:AAECAwQFBgc=:v1:AAECAwQFBgcICQoL:KCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/"
    document["config"]["vllm-aws:alertsWebhookUrl"] = {"secure": "v1:AAECAwQFBgcICQoL:KCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/"}
    stack_file.write_text(yaml.safe_dump(document))
    raw, secret_keys = raw_from_stack_file(stack_file)
    assert raw["alertsWebhookUrl"] == "[secret]" and "alertsWebhookUrl" in secret_keys


def test_with_the_stack_key_the_url_is_under_it_and_the_monitoring_host_decrypts_it_through_ssm() -> None:
    run = run_stack("prod", alertsWebhookUrl=URL, kmsKey={"enabled": True})
    key_arn = named(run, "alerts-webhook-url-parameter").inputs["keyId"]
    assert key_arn == named(run, "grafana-admin-password-parameter").inputs["keyId"]
    assert key_arn.startswith("arn:aws:kms:")
    statements = json.loads(named(run, "monitoring-read-secrets").inputs["policy"])["Statement"]
    assert decrypt_secrets_statement(key_arn, "us-east-1") in statements
