"""The digest resolver against a local server speaking the registry protocol: the Bearer token dance, the
manifest HEAD, the GET fallback, the disk cache and the offline fallback.

The server answers with the headers of recorded real responses: the 401 challenge and the token body of the
distribution spec's example (distribution/distribution docs/content/spec/auth/token.md @01b4555, "HTTP/1.1 401
Unauthorized ... Www-Authenticate: Bearer realm=...,service="registry.docker.io",scope=...", and the token
response `{"token": ..., "expires_in": 3600, "issued_at": ...}`), and the ``Docker-Content-Digest`` header a
manifest HEAD returns (opencontainers/distribution-spec spec.md, "Pulling manifests": HEAD gives the digest
without the body).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from components.catalog.registry import MANIFEST_ACCEPT, DigestResolver, ImageName, urllib_transport
from components.serving.images import GRAFANA_IMAGE as GRAFANA
from components.serving.images import ImagePin, pin_images, pull_references, stack_images

INDEX_DIGEST = "sha256:" + "ab" * 32
TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.recorded.token"
MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json"}).encode()


class Registry(BaseHTTPRequestHandler):
    """One registry: /v2/<repo>/manifests/<tag> needs a token from /token; ``digest_header`` may be off."""

    requests: ClassVar[list[tuple[str, str, dict[str, str]]]] = []
    digest_header: ClassVar[bool] = True
    tags: ClassVar[dict[str, str]] = {}

    def log_message(self, *args: object) -> None:
        del args

    def _answer(self, body: bytes) -> None:
        self.requests.append((self.command, self.path, dict(self.headers)))
        if self.path.startswith("/token?"):
            self._send(
                200,
                {"Content-Type": "application/json"},
                json.dumps({"token": TOKEN, "expires_in": 3600, "issued_at": "2009-11-10T23:00:00Z"}).encode(),
            )
            return
        repo, _, tag = self.path.removeprefix("/v2/").partition("/manifests/")
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            host = self.headers["Host"]
            self._send(
                401,
                {
                    "Content-Type": "application/json",
                    "Docker-Distribution-Api-Version": "registry/2.0",
                    "Www-Authenticate": f'Bearer realm="http://{host}/token",service="registry.docker.io",'
                    f'scope="repository:{repo}:pull"',
                },
                b'{"errors":[{"code":"UNAUTHORIZED","message":"access to the requested resource is not authorized"}]}',
            )
            return
        if f"{repo}:{tag}" not in self.tags:
            self._send(404, {"Content-Type": "application/json"}, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
            return
        headers = {"Content-Type": "application/vnd.oci.image.index.v1+json", "Content-Length": str(len(body))}
        if self.digest_header:
            headers["Docker-Content-Digest"] = self.tags[f"{repo}:{tag}"]
        self._send(200, headers, body if self.command == "GET" else b"")

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_HEAD(self) -> None:
        self._answer(MANIFEST)

    def do_GET(self) -> None:
        self._answer(MANIFEST)


@pytest.fixture
def registry() -> Iterator[str]:
    Registry.requests = []
    Registry.digest_header = True
    Registry.tags = {"vllm/vllm-openai:v0.33.0": INDEX_DIGEST}
    server = ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def resolver(host: str, cache: Path, *, offline: bool = False) -> DigestResolver:
    """A resolver whose every registry is the local one (the image names keep their real registries)."""

    def local(method: str, url: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
        path = url.split("://", 1)[1].partition("/")[2]
        return urllib_transport(method, f"http://{host}/{path}", headers)

    return DigestResolver(transport=local, scheme="http", cache_dir=cache, offline=offline, today=date(2026, 12, 2))


def test_the_token_dance_then_a_head_gives_the_index_digest(registry: str, tmp_path: Path) -> None:
    resolution = resolver(registry, tmp_path).resolve("vllm/vllm-openai:v0.33.0")
    assert (resolution.digest, resolution.source) == (INDEX_DIGEST, "registry")
    methods = [(method, path.partition("?")[0]) for method, path, _ in Registry.requests]
    assert methods == [
        ("HEAD", "/v2/vllm/vllm-openai/manifests/v0.33.0"),
        ("GET", "/token"),
        ("HEAD", "/v2/vllm/vllm-openai/manifests/v0.33.0"),
    ]
    token_query = Registry.requests[1][1]
    assert "service=registry.docker.io" in token_query
    assert "scope=repository%3Avllm%2Fvllm-openai%3Apull" in token_query
    # Index types first: a multi-arch tag answers with its index, which every host's daemon resolves to its arch.
    accept = Registry.requests[2][2]["Accept"]
    assert accept == MANIFEST_ACCEPT
    assert accept.startswith("application/vnd.oci.image.index.v1+json")


def test_a_registry_without_the_digest_header_is_read_with_get(registry: str, tmp_path: Path) -> None:
    Registry.digest_header = False
    resolution = resolver(registry, tmp_path).resolve("vllm/vllm-openai:v0.33.0")
    assert resolution.digest == f"sha256:{hashlib.sha256(MANIFEST).hexdigest()}"
    assert Registry.requests[-1][0] == "GET"


def test_the_cache_answers_when_the_registry_is_unreachable(registry: str, tmp_path: Path) -> None:
    resolver(registry, tmp_path).resolve("vllm/vllm-openai:v0.33.0")
    cached = resolver("127.0.0.1:9", tmp_path).resolve("vllm/vllm-openai:v0.33.0")  # port 9: nothing listens
    assert (cached.digest, cached.source, cached.resolved_on) == (INDEX_DIGEST, "cache", "2026-12-02")
    assert "did not answer" in (cached.reason or "")
    offline = resolver(registry, tmp_path, offline=True).resolve("vllm/vllm-openai:v0.33.0")
    assert (offline.digest, offline.source) == (INDEX_DIGEST, "cache")


def test_nothing_cached_and_offline_is_not_resolved(tmp_path: Path) -> None:
    resolution = DigestResolver(cache_dir=tmp_path, offline=True).resolve("grafana/grafana:12.1.1")
    assert (resolution.digest, resolution.source) == (None, "unresolved")
    assert resolution.reason == "offline: VLLM_AWS_REGISTRY_OFFLINE is set"


def test_an_unknown_tag_is_not_resolved(registry: str, tmp_path: Path) -> None:
    resolution = resolver(registry, tmp_path).resolve("vllm/vllm-openai:v9.9.9")
    assert resolution.digest is None
    assert "answered 404" in (resolution.reason or "")


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("vllm/vllm-openai:v0.33.0", ImageName("docker.io", "vllm/vllm-openai", "v0.33.0")),
        ("ubuntu:24.04", ImageName("docker.io", "library/ubuntu", "24.04")),
        ("quay.io/prometheus/prometheus:v3.5.0", ImageName("quay.io", "prometheus/prometheus", "v3.5.0")),
        ("nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3", ImageName("nvcr.io", "nvidia/k8s/dcgm-exporter", "4.2.3")),
        ("localhost:5000/app:v1", ImageName("localhost:5000", "app", "v1")),
    ],
)
def test_references_name_their_registry(reference: str, expected: ImageName) -> None:
    assert ImageName.parse(reference) == expected
    assert expected.api_host == ("registry-1.docker.io" if expected.registry == "docker.io" else expected.registry)


def test_pins_use_a_configured_digest_verbatim_and_pull_by_digest(registry: str, tmp_path: Path) -> None:
    configured = "vllm/vllm-openai:v0.33.0@sha256:" + "cd" * 32
    images = stack_images(configured, monitoring=True, grafana=True)
    assert set(images) == {"vllm", "node-exporter", "dcgm-exporter", "prometheus", "alertmanager", "grafana"}
    pins = {pin.role: pin for pin in pin_images(images, by_digest=True, resolver=resolver(registry, tmp_path))}
    assert pins["vllm"] == ImagePin("vllm", configured, "sha256:" + "cd" * 32, "config")
    assert pins["vllm"].pull == configured
    # The local registry knows no such tag: pulled by tag, and the plan says why.
    assert (pins["grafana"].source, pins["grafana"].digest, pins["grafana"].pull) == ("unresolved", None, GRAFANA)
    assert "answered 404" in (pins["grafana"].note or "")
    resolved = pin_images({"vllm": "vllm/vllm-openai:v0.33.0"}, by_digest=True, resolver=resolver(registry, tmp_path))
    assert pull_references(resolved) == {"vllm/vllm-openai:v0.33.0": f"vllm/vllm-openai@{INDEX_DIGEST}"}
    assert pin_images(images, by_digest=False, resolver=None)[1].source == "tag"
