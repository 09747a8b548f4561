"""Every image the stack runs, and how each is pinned: by its release tag, or by digest (``pinImagesByDigest``).

A tag can be pushed again; a digest names one content for ever. Pinned by digest, a host replaced months later
(self-healing, a spot restart, a new AMI) pulls exactly what the plan showed, and a moved tag shows in the next
plan as a new digest (a replacement of the containers) instead of reaching the hosts unseen. Containers then
run ``<repository>@sha256:<digest>``: with a digest, Docker pulls by the digest alone (moby client image_pull.go
getAPITagFromNamedRef), so the tag is kept in the plan only.

Pure: the resolution is :mod:`components.catalog.registry`'s; the components take the pull references as data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..catalog.registry import DigestResolver, Resolution

# Pinned like the vLLM image: a moving tag would change the metrics the alert rules rely on.
NODE_EXPORTER_IMAGE = "quay.io/prometheus/node-exporter:v1.9.1"
DCGM_EXPORTER_IMAGE = "nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04"
PROMETHEUS_IMAGE = "quay.io/prometheus/prometheus:v3.5.0"
GRAFANA_IMAGE = "grafana/grafana:12.1.1"
# v0.34.0 (2026-08-16): the newest release verified to exist (tag v0.34.0 in prometheus/alertmanager, commit
# 085f0ef7eb41da24cab8cd000f1345b6250f2edb; its CHANGELOG.md), and the one whose config code was read for
# observability/alertmanager.py. v0.34.2, pinned in phase A, could not be verified (the newest snapshot of the
# repository, 2026-08-22, ends at v0.34.0). quay.io, like the Prometheus image: a release tag's workflow publishes
# the images to Docker Hub and quay.io (.github/workflows/release.yml at v0.34.0: job publish_release,
# prometheus/promci publish_release with quay_io_login), and tianon/dockerfiles#1365 ("Update
# prometheus/alertmanager to 0.34.0") saw the release out.
ALERTMANAGER_IMAGE = "quay.io/prometheus/alertmanager:v0.34.0"


@dataclass(frozen=True)
class ImagePin:
    """One image as the hosts pull it: ``pull`` is ``<repository>@<digest>`` when the digest is known."""

    role: str
    image: str
    digest: str | None
    source: str
    """``config`` (a digest given in the config, used verbatim), ``registry``, ``cache`` (the registry did not
    answer: the last digest read), ``unresolved`` (pulled by tag; ``note`` says why), or ``tag`` (pinning is
    off)."""
    note: str | None = None

    @property
    def pull(self) -> str:
        if self.digest is None or "@" in self.image:
            return self.image
        return f"{self.image.rpartition(':')[0]}@{self.digest}"


def stack_images(vllm_image: str, *, monitoring: bool, grafana: bool) -> dict[str, str]:
    """The images a stack runs, by role: vLLM and the exporters on every GPU host, the monitoring containers
    when monitoring is on (Alertmanager with it: the stack always delivers its alerts)."""
    images = {"vllm": vllm_image, "node-exporter": NODE_EXPORTER_IMAGE, "dcgm-exporter": DCGM_EXPORTER_IMAGE}
    if monitoring:
        images |= {"prometheus": PROMETHEUS_IMAGE, "alertmanager": ALERTMANAGER_IMAGE}
        if grafana:
            images["grafana"] = GRAFANA_IMAGE
    return images


def pin_images(images: Mapping[str, str], *, by_digest: bool, resolver: DigestResolver | None) -> tuple[ImagePin, ...]:
    """Each image's pin: a digest in the reference is used verbatim; else, with ``by_digest``, the resolver's."""
    pins = []
    for role, image in images.items():
        if "@" in image:
            pins.append(ImagePin(role, image, image.partition("@")[2], "config"))
        elif not by_digest or resolver is None:
            pins.append(ImagePin(role, image, None, "tag"))
        else:
            pins.append(_pin(role, resolver.resolve(image)))
    return tuple(pins)


def _pin(role: str, resolution: Resolution) -> ImagePin:
    note = resolution.reason
    if resolution.source == "cache":
        note = f"resolved {resolution.resolved_on}; {resolution.reason}"
    return ImagePin(role, resolution.reference, resolution.digest, resolution.source, note)


def pull_references(pins: tuple[ImagePin, ...]) -> dict[str, str]:
    """What the components take (``pinned_images``): image as configured -> the reference hosts pull."""
    return {pin.image: pin.pull for pin in pins if pin.pull != pin.image}


def pull_reference(image: str, pinned: Mapping[str, str]) -> str:
    """The reference a host pulls for ``image``: its pin, else the image as given."""
    return pinned.get(image, image)
