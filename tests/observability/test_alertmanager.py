"""alertmanager.yml from components/observability/alertmanager.py, checked with the real Alertmanager tools.

``amtool check-config`` loads every rendered variant, ``amtool config routes test`` routes sample alerts, ``amtool
template render`` runs the SNS subject template, and a real Alertmanager on loopback shows the inhibitions at work
and delivers the watchdog to the heartbeat receiver. All from the Debian package ``prometheus-alertmanager``
(amtool and the server); missing, the tests fail and say so.

Debian bookworm ships Alertmanager 0.25.0, older than the pinned image: webhook ``url_file`` arrived in 0.26.0
(prometheus/alertmanager CHANGELOG.md, 0.26.0: "Webhook Integration: Support url_file for loading this secret from
a file. #3223"). For an older checker each ``url_file`` becomes a ``url`` (nothing else changes); the field itself
is checked against the pinned release's source (:data:`PINNED_INTEGRATION_FIELDS`).
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from tools import require_tool

from components.observability.alertmanager import (
    ALERTMANAGER_SECRETS_DIR,
    ALERTS_RECEIVER,
    ALERTS_WEBHOOK_URL_FILE,
    HEARTBEAT_RECEIVER,
    HEARTBEAT_WEBHOOK_URL_FILE,
    SNS_SUBJECT_MAX,
    AlertDestination,
    AlertmanagerSpec,
    render_alertmanager_config,
    sns_subject,
)
from components.serving.images import ALERTMANAGER_IMAGE

URL_FILE_SINCE = (0, 26, 0)
ALERTS_TOPIC = "arn:aws:sns:eu-west-1:123456789012:vllm-aws-prod-alerts"
HEARTBEAT_TOPIC = "arn:aws:sns:eu-west-1:123456789012:vllm-aws-prod-heartbeat"
SPECS = {
    "sns": AlertmanagerSpec(
        stack="prod",
        alerts=AlertDestination(sns_topic_arn=ALERTS_TOPIC),
        heartbeat=AlertDestination(sns_topic_arn=HEARTBEAT_TOPIC),
    ),
    "webhooks": AlertmanagerSpec(
        stack="dev", alerts=AlertDestination(webhook=True), heartbeat=AlertDestination(webhook=True)
    ),
    "both": AlertmanagerSpec(
        stack="prod",
        alerts=AlertDestination(sns_topic_arn=ALERTS_TOPIC, webhook=True),
        heartbeat=AlertDestination(sns_topic_arn=HEARTBEAT_TOPIC, webhook=True),
        repeat_interval_hours=1,
    ),
    "fifo-govcloud": AlertmanagerSpec(
        stack="a" * 60,
        alerts=AlertDestination(sns_topic_arn="arn:aws-us-gov:sns:us-gov-west-1:123456789012:alerts.fifo"),
        heartbeat=AlertDestination(webhook=True),
    ),
}
# yaml keys of the integrations in the pinned release line (v0.34.0): SNSConfig in config/notifiers.go,
# WebhookConfig in notify/webhook/config.go, each with NotifierConfig's send_resolved inlined.
PINNED_INTEGRATION_FIELDS = {
    "sns_configs": {"send_resolved", "http_config", "api_url", "sigv4", "topic_arn", "phone_number", "target_arn",
                    "subject", "message", "attributes", "use_aws_http_client"},
    "webhook_configs": {"send_resolved", "http_config", "url", "url_file", "max_alerts", "timeout", "payload"},
}  # fmt: skip


def amtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    binary = require_tool("amtool", "prometheus-alertmanager")
    return subprocess.run([binary, *map(str, args)], capture_output=True, text=True, check=False)


def amtool_version() -> tuple[int, ...]:
    match = re.search(r"version (\d+)\.(\d+)\.(\d+)", amtool("--version").stdout + amtool("--version").stderr)
    assert match, "amtool --version printed no version"
    return tuple(int(part) for part in match.groups())


def with_urls(text: str, urls: dict[str, str]) -> str:
    """The config with each webhook's ``url_file`` replaced by the URL it would hold."""
    config = yaml.safe_load(text)
    for receiver in config["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            hook["url"] = urls[hook.pop("url_file")]
    return yaml.safe_dump(config, sort_keys=False)


def checkable(text: str) -> str:
    """What the installed amtool can load: the rendered text itself, or with placeholder URLs before 0.26."""
    if amtool_version() >= URL_FILE_SINCE:
        return text
    files = re.findall(r"url_file: (\S+)", text)
    placeholders = {path: f"https://hooks.example.com/{Path(path).name}" for path in files}
    return with_urls(text, placeholders)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_rendered_config_passes_amtool_check_config(tmp_path: Path, name: str) -> None:
    path = tmp_path / "alertmanager.yml"
    path.write_text(checkable(render_alertmanager_config(SPECS[name])))
    result = amtool("check-config", path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout and "2 inhibit rules" in result.stdout and "2 receivers" in result.stdout


def test_amtool_check_config_rejects_a_broken_config(tmp_path: Path) -> None:
    # The check is strict: a receiver the route names but nobody defines fails it.
    path = tmp_path / "alertmanager.yml"
    path.write_text(checkable(render_alertmanager_config(SPECS["sns"])).replace("receiver: heartbeat", "receiver: x"))
    assert amtool("check-config", path).returncode != 0


def test_only_url_file_is_newer_than_the_checker_and_the_pinned_release_knows_every_field() -> None:
    match = re.fullmatch(r"quay\.io/prometheus/alertmanager:v(\d+)\.(\d+)\.(\d+)", ALERTMANAGER_IMAGE)
    assert match, ALERTMANAGER_IMAGE  # pinned to a release tag, like the Prometheus image
    pinned = tuple(int(part) for part in match.groups())
    assert pinned >= URL_FILE_SINCE
    for spec in SPECS.values():
        config = yaml.safe_load(render_alertmanager_config(spec))
        for receiver in config["receivers"]:
            for integration, fields in PINNED_INTEGRATION_FIELDS.items():
                for entry in receiver.get(integration, []):
                    assert set(entry) <= fields, (integration, entry)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_webhook_urls_never_appear_only_their_root_only_files(name: str) -> None:
    text = render_alertmanager_config(SPECS[name])
    config = yaml.safe_load(text)
    hooks = [hook for receiver in config["receivers"] for hook in receiver.get("webhook_configs", [])]
    assert all(set(hook) == {"url_file", "send_resolved"} for hook in hooks), hooks
    assert all(hook["url_file"].startswith(ALERTMANAGER_SECRETS_DIR + "/") for hook in hooks)
    assert "http://" not in text and "https://" not in text and "url:" not in text
    assert not re.search(r"(access|secret)_key", text)  # SNS signs with the instance role, never a key


def test_each_receiver_has_its_own_url_file() -> None:
    config = yaml.safe_load(render_alertmanager_config(SPECS["webhooks"]))
    files = {r["name"]: [h["url_file"] for h in r["webhook_configs"]] for r in config["receivers"]}
    assert files == {ALERTS_RECEIVER: [ALERTS_WEBHOOK_URL_FILE], HEARTBEAT_RECEIVER: [HEARTBEAT_WEBHOOK_URL_FILE]}


def test_sns_signs_in_the_topics_region_and_only_the_heartbeat_skips_resolved() -> None:
    config = yaml.safe_load(render_alertmanager_config(SPECS["both"]))
    receivers = {r["name"]: r for r in config["receivers"]}
    [alerts] = receivers[ALERTS_RECEIVER]["sns_configs"]
    [heartbeat] = receivers[HEARTBEAT_RECEIVER]["sns_configs"]
    assert (alerts["topic_arn"], alerts["sigv4"]) == (ALERTS_TOPIC, {"region": "eu-west-1"})
    assert (heartbeat["topic_arn"], heartbeat["sigv4"]) == (HEARTBEAT_TOPIC, {"region": "eu-west-1"})
    # A resolved watchdog means Prometheus stopped: delivered, it would look like one more heartbeat.
    assert alerts["send_resolved"] is True and heartbeat["send_resolved"] is False
    assert [h["send_resolved"] for h in receivers[HEARTBEAT_RECEIVER]["webhook_configs"]] == [False]
    gov = yaml.safe_load(render_alertmanager_config(SPECS["fifo-govcloud"]))["receivers"][0]["sns_configs"][0]
    assert gov["sigv4"] == {"region": "us-gov-west-1"}


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["alertname=Watchdog", "severity=none"], HEARTBEAT_RECEIVER),
        (["alertname=VllmReplicaMissing", "severity=critical", "model=qwen-8b", "replica=1"], ALERTS_RECEIVER),
        (["alertname=GpuHostMissing", "severity=critical", "model=qwen-8b"], ALERTS_RECEIVER),
        (["alertname=ModelCacheDiskNearlyFull", "severity=warning"], ALERTS_RECEIVER),
        (["alertname=WatchdogLike", "severity=none"], ALERTS_RECEIVER),
    ],
)
def test_amtool_routes_the_watchdog_to_the_heartbeat_and_everything_else_to_alerts(
    tmp_path: Path, labels: list[str], receiver: str
) -> None:
    path = tmp_path / "alertmanager.yml"
    path.write_text(checkable(render_alertmanager_config(SPECS["both"])))
    result = amtool("config", "routes", "test", f"--config.file={path}", f"--verify.receivers={receiver}", *labels)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receiver


def render_subject(template: str) -> str:
    result = amtool("template", "render", "--template.glob=/dev/null", f"--template.text={template}")
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.removesuffix("\n")


def test_sns_subject_renders_ascii_and_under_100_characters_whatever_the_labels() -> None:
    template = sns_subject("prod")
    # amtool's sample data has no alertname or model: the subject still renders, without trailing blanks.
    assert render_subject(template) == "prod: [ALERTSTATUS:2]"
    # The same template with 200-character label values is cut to fit.
    long_labels = template.replace(".GroupLabels.alertname", '(printf "%0200d" 7)').replace(
        ".GroupLabels.model", '(printf "%0200d" 8)'
    )
    subject = render_subject(long_labels)
    assert len(subject) == SNS_SUBJECT_MAX and subject.isascii()
    assert len(render_subject(sns_subject("a" * 200).replace(".GroupLabels.alertname", '(printf "%0200d" 7)'))) == 99


@pytest.mark.parametrize(
    "change",
    [
        {"alerts": {}},
        {"heartbeat": {"webhook": False}},
        {"alerts": {"sns_topic_arn": "arn:aws:sqs:eu-west-1:123456789012:alerts"}},
        {"alerts": {"sns_topic_arn": "arn:aws:sns:eu-west-1:1234:alerts"}},
        {"stack": "prod stack"},
        {"repeat_interval_hours": 0},
    ],
    ids=["no-destination", "heartbeat-nowhere", "sqs-arn", "short-account", "bad-stack", "no-repeat"],
)
def test_alertmanager_spec_rejects_bad_values(change: dict[str, Any]) -> None:
    base = {"stack": "prod", "alerts": {"webhook": True}, "heartbeat": {"sns_topic_arn": HEARTBEAT_TOPIC}}
    with pytest.raises(ValidationError):
        AlertmanagerSpec.model_validate(base | change)


# --- a real Alertmanager on loopback ---------------------------------------------------------------------


class _Hooks(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, Any]]]

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append((self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def hooks() -> Iterator[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    received: list[tuple[str, dict[str, Any]]] = []
    handler = type("Hooks", (_Hooks,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    thread.join()


def _api(base: str, path: str, body: object | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        text = response.read()
    return json.loads(text) if text else None


def _wait(check: Any, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    return check()


def test_a_real_alertmanager_inhibits_a_missing_hosts_alerts_and_sends_the_watchdog_to_the_heartbeat(
    tmp_path: Path, hooks: tuple[str, list[tuple[str, dict[str, Any]]]]
) -> None:
    hook_url, received = hooks
    urls = {ALERTS_WEBHOOK_URL_FILE: f"{hook_url}/alerts", HEARTBEAT_WEBHOOK_URL_FILE: f"{hook_url}/heartbeat"}
    config = tmp_path / "alertmanager.yml"
    config.write_text(with_urls(render_alertmanager_config(SPECS["webhooks"]), urls))
    port = _free_port()
    binary = require_tool("prometheus-alertmanager", "prometheus-alertmanager")
    command = [binary, f"--config.file={config}", f"--storage.path={tmp_path / 'data'}",
               f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}/api/v2"
    try:

        def ready() -> bool:
            try:
                return _api(base, "/status") is not None
            except OSError:
                return False

        assert _wait(ready, 20), "Alertmanager did not start"
        stack = {"stack": "dev"}
        alerts = [
            {"alertname": "Watchdog", "severity": "none"},
            {"alertname": "GpuHostMissing", "severity": "critical", "model": "qwen-8b", "replica": "1"},
            {"alertname": "VllmReplicaMissing", "severity": "critical", "model": "qwen-8b", "replica": "1",
             "port": "8000"},
            {"alertname": "VllmReplicaMissing", "severity": "critical", "model": "qwen-8b", "replica": "0",
             "port": "8000"},
            {"alertname": "VllmNoReplicaDiscovered", "severity": "critical", "job": "vllm"},
        ]  # fmt: skip
        _api(base, "/alerts", [{"labels": stack | labels} for labels in alerts])

        def states() -> dict[tuple[str, str], list[str]]:
            found = _api(base, "/alerts")
            return {
                (a["labels"]["alertname"], a["labels"].get("replica", "")): a["status"]["inhibitedBy"] for a in found
            }

        current = _wait(lambda: len(states()) == len(alerts) and states(), 10)
        inhibited = {key for key, by in current.items() if by}
        assert inhibited == {("VllmReplicaMissing", "1"), ("VllmNoReplicaDiscovered", "")}, current
        # group_wait 0s: the heartbeat goes out at once, with the watchdog alone.
        heartbeat = _wait(lambda: [body for path, body in received if path == "/heartbeat"], 10)
        assert heartbeat, received
        assert heartbeat[0]["receiver"] == HEARTBEAT_RECEIVER
        assert [a["labels"]["alertname"] for a in heartbeat[0]["alerts"]] == ["Watchdog"]
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=10)
    assert "Notify for alerts failed" not in errors, errors
