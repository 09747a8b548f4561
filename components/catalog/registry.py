"""Resolve an image tag to its registry digest: the OCI distribution API, a disk cache, an offline fallback.

``DigestResolver.resolve(reference)``:
1. Online, ``HEAD /v2/<repository>/manifests/<tag>`` on the image's registry (Docker Hub, quay.io, nvcr.io, ...),
   answering a ``401`` Bearer challenge with an anonymous token from the realm it names (the token dance of the
   distribution spec, distribution/distribution docs/content/spec/auth/token.md). The digest is the response's
   ``Docker-Content-Digest`` header; a registry that leaves it out is asked again with ``GET`` and the digest is
   the sha256 of the manifest's bytes (what terraform-provider-docker's ``docker_registry_image`` does,
   kreuzwerker/terraform-provider-docker internal/provider/data_source_docker_registry_image.go @037e6ac).
   The Accept header lists the index types first, so a multi-arch tag answers with its **index** digest: the
   host's daemon then picks its own platform's manifest (a platform manifest's digest would pin one arch).
   HEAD is not a pull: "Version checks do not count towards usage pricing" (docker/docs
   content/manuals/docker-hub/usage/pulls.md).
2. When the registry cannot be reached (or ``offline``), the tag's last resolution from the disk cache answers,
   marked with the day it was read.
3. Else the digest is unknown: the caller pulls by tag and says so.

Cache: ``$VLLM_AWS_CACHE_DIR/registry`` if set, else ``$XDG_CACHE_HOME/vllm-aws/registry``, else
``~/.cache/vllm-aws/registry``; one JSON file per reference. Pure: the standard library only, no Pulumi.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import date
from email.message import Message
from pathlib import Path
from typing import Literal, Protocol

# Index (multi-arch) types first: a registry answers with the first type it has for the tag.
MANIFEST_ACCEPT = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
    )
)
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
# distribution/reference normalize.go: Docker Hub is "docker.io", served at registry-1.docker.io; a first path
# component is a registry only when it has a dot or a port, or is "localhost"; one-part names are "library/".
DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
TIMEOUT_SECONDS = 10.0
OFFLINE_ENV = "VLLM_AWS_REGISTRY_OFFLINE"

Source = Literal["registry", "cache", "unresolved"]


class RegistryError(Exception):
    """The registry answered, but not with a digest (no such tag, refused, a malformed answer)."""


@dataclass(frozen=True)
class ImageName:
    """An image reference split the way a registry is addressed."""

    registry: str
    repository: str
    tag: str

    @classmethod
    def parse(cls, reference: str) -> ImageName:
        name, _, tag = reference.partition("@")[0].rpartition(":")
        if not name or "/" in tag:  # no tag: "host:5000/repo" has a port, not a tag
            raise ValueError(f"{reference!r} has no tag to resolve")
        first, slash, rest = name.partition("/")
        if slash and ("." in first or ":" in first or first == "localhost"):
            return cls(registry=first, repository=rest, tag=tag)
        return cls(registry=DOCKER_HUB, repository=name if slash else f"library/{name}", tag=tag)

    @property
    def api_host(self) -> str:
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry


@dataclass(frozen=True)
class Resolution:
    """A tag's digest and where it came from; ``digest`` is None when nothing could tell it."""

    reference: str
    digest: str | None
    source: Source
    resolved_on: str | None = None
    reason: str | None = None
    """Why the registry was not asked or did not answer (offline, a network error, a refusal)."""


class Transport(Protocol):
    """One HTTP exchange: (status, headers, body). Tests give a local server's URL base instead of https://."""

    def __call__(self, method: str, url: str, headers: dict[str, str]) -> tuple[int, Message, bytes]: ...


def urllib_transport(method: str, url: str, headers: dict[str, str]) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def default_cache_dir() -> Path:
    if explicit := os.environ.get("VLLM_AWS_CACHE_DIR"):
        return Path(explicit) / "registry"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vllm-aws" / "registry"


def _challenge(header: str | None) -> dict[str, str]:
    """The parameters of a ``Bearer realm="...",service="...",scope="..."`` challenge (RFC 6750 section 3)."""
    if not header or not header.lower().startswith("bearer "):
        return {}
    return {key.lower(): value for key, value in re.findall(r'(\w+)="([^"]*)"', header[len("bearer ") :])}


class DigestResolver:
    """Resolves tags to digests; one per plan (it memoizes what it resolved)."""

    def __init__(
        self,
        *,
        transport: Transport = urllib_transport,
        scheme: str = "https",
        cache_dir: Path | None = None,
        offline: bool = False,
        today: date | None = None,
    ) -> None:
        self._transport, self._scheme = transport, scheme
        self._cache_dir = cache_dir if cache_dir is not None else default_cache_dir()
        self._offline = offline
        self._today = (today or date.today()).isoformat()
        self._seen: dict[str, Resolution] = {}

    def resolve(self, reference: str) -> Resolution:
        if reference not in self._seen:
            self._seen[reference] = self._resolve(reference)
        return self._seen[reference]

    def _resolve(self, reference: str) -> Resolution:
        image = ImageName.parse(reference)
        if self._offline:
            reason = f"offline: {OFFLINE_ENV} is set"
        else:
            try:
                digest = self._ask_registry(image)
            except (OSError, RegistryError) as error:  # URLError, timeouts and refused connections are OSErrors
                reason = f"{image.api_host} did not answer: {error}"
            else:
                self._write_cache(reference, digest)
                return Resolution(reference, digest, "registry", self._today)
        cached = self._read_cache(reference)
        if cached is not None:
            return Resolution(reference, cached[0], "cache", cached[1], reason)
        return Resolution(reference, None, "unresolved", None, reason)

    def _ask_registry(self, image: ImageName) -> str:
        url = f"{self._scheme}://{image.api_host}/v2/{image.repository}/manifests/{image.tag}"
        headers = {"Accept": MANIFEST_ACCEPT}
        status, answer, body = self._transport("HEAD", url, headers)
        if status == 401:
            headers["Authorization"] = f"Bearer {self._token(image, answer.get('WWW-Authenticate'))}"
            status, answer, body = self._transport("HEAD", url, headers)
        if status != 200:
            raise RegistryError(f"HEAD {url} answered {status}")
        digest = answer.get("Docker-Content-Digest")
        if digest is None:
            status, answer, body = self._transport("GET", url, headers)
            if status != 200:
                raise RegistryError(f"GET {url} answered {status}")
            digest = f"sha256:{hashlib.sha256(body).hexdigest()}"
        if not DIGEST.fullmatch(digest):
            raise RegistryError(f"{url} gave {digest!r}, not a sha256 digest")
        return digest

    def _token(self, image: ImageName, header: str | None) -> str:
        challenge = _challenge(header)
        if "realm" not in challenge:
            raise RegistryError(f"{image.api_host} asks for credentials without a Bearer realm ({header!r})")
        query = {"scope": challenge.get("scope") or f"repository:{image.repository}:pull"}
        if "service" in challenge:
            query["service"] = challenge["service"]
        status, _, body = self._transport("GET", f"{challenge['realm']}?{urllib.parse.urlencode(query)}", {})
        if status != 200:
            raise RegistryError(f"the token endpoint {challenge['realm']} answered {status}")
        # "At least one of these fields must be specified" (token.md, Token Response Fields).
        answer = json.loads(body)
        token = answer.get("token") or answer.get("access_token")
        if not isinstance(token, str):
            raise RegistryError(f"the token endpoint {challenge['realm']} gave no token")
        return token

    def _cache_file(self, reference: str) -> Path:
        return self._cache_dir / (re.sub(r"[^A-Za-z0-9._-]", "_", reference) + ".json")

    def _read_cache(self, reference: str) -> tuple[str, str] | None:
        try:
            record = json.loads(self._cache_file(reference).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        digest, resolved_on = record.get("digest"), record.get("resolvedOn")
        if record.get("reference") != reference or not isinstance(digest, str) or not DIGEST.fullmatch(digest):
            return None
        return digest, str(resolved_on)

    def _write_cache(self, reference: str, digest: str) -> None:
        path = self._cache_file(reference)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written aside then renamed: a plan running beside another never reads half a file.
            with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8") as handle:
                json.dump({"reference": reference, "digest": digest, "resolvedOn": self._today}, handle)
            Path(handle.name).replace(path)
        except OSError:
            pass  # a read-only home only costs the offline fallback


def default_resolver() -> DigestResolver:
    """Online unless ``VLLM_AWS_REGISTRY_OFFLINE`` is set."""
    return DigestResolver(offline=os.environ.get(OFFLINE_ENV, "").lower() in ("1", "true", "yes", "on"))
