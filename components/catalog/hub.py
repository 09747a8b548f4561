"""Read any Hugging Face model's shape: from the Hub, else the disk cache, else the bundled snapshot.

``ModelReader.read(repo_id, revision, token)``:
0. A pinned commit sha already in the disk cache is read from it without a Hub call.
1. Online, the Hub resolves the revision (None = the default branch) to its commit sha; the files of that commit
   come from the disk cache when it has them, else from the Hub (``config.json``, ``hf_quant_config.json`` when
   the repo has one, and the safetensors parameter counts per dtype), and are cached.
2. When the Hub cannot be reached (or ``offline``), the revision's last resolution is looked up in the cache, then
   the bundled snapshot (``model_snapshot.json``, written by scripts/gen_model_snapshot.py through this same
   reader) answers for an unpinned revision.
3. A repo that does not exist, a gated repo without access, or a revision the repo lacks is a ``ModelReadError``
   naming the fix; so is an unreachable Hub with nothing cached.
The token is the caller's (the stack's ``hfToken`` or ``HF_TOKEN``): the reader never looks for one itself.

Cache: ``$VLLM_AWS_CACHE_DIR/hf`` if set, else ``$XDG_CACHE_HOME/vllm-aws/hf``, else ``~/.cache/vllm-aws/hf``;
one JSON file per repo and commit (``<org>--<name>/<sha>.json``) plus each revision's last resolution
(``<org>--<name>/refs/<revision>.json``). A commit's files never change, so a cached one is never refetched.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from .hf_config import parse_model
from .hub_client import (
    HubClient,
    HubGatedError,
    HubNotFoundError,
    HubRevisionNotFoundError,
    HubUnreachableError,
)
from .model_shape import CannotSize, ModelShape, Origin, Provenance, SafetensorsCounts

ReadProblem = Literal["not-found", "gated", "revision-not-found", "revision-unreadable", "unreachable"]
COMMIT_SHA = re.compile(r"[0-9a-f]{40}")
DEFAULT_BRANCH = "_default"


class ModelReadError(Exception):
    """The model's shape cannot be read; ``problem`` says why and ``fix`` what to do."""

    def __init__(self, repo_id: str, problem: ReadProblem, message: str, fix: str) -> None:
        super().__init__(f"{repo_id}: {message}; {fix}")
        self.repo_id, self.problem, self.message, self.fix = repo_id, problem, message, fix


class ModelRecord(BaseModel):
    """What the Hub said about one commit of a repo: the cache's and the bundled snapshot's unit."""

    model_config = ConfigDict(alias_generator=to_camel, frozen=True, extra="forbid", populate_by_name=True)

    repo_id: str
    revision: str | None = None
    sha: str | None = None
    gated: bool = False
    fetched_on: str | None = None
    recorded_from: str | None = None
    config: dict[str, Any]
    hf_quant_config: dict[str, Any] | None = None
    safetensors: SafetensorsCounts | None = None

    def shape(self, origin: Origin, note: str | None = None) -> ModelShape | CannotSize:
        provenance = Provenance(
            origin=origin,
            repo_id=self.repo_id,
            revision=self.revision,
            sha=self.sha,
            fetched_on=self.fetched_on,
            recorded_from=self.recorded_from,
            gated=self.gated,
            note=note,
        )
        return parse_model(
            self.config, provenance=provenance, safetensors=self.safetensors, hf_quant_config=self.hf_quant_config
        )


def default_cache_dir() -> Path:
    if explicit := os.environ.get("VLLM_AWS_CACHE_DIR"):
        return Path(explicit) / "hf"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vllm-aws" / "hf"


@cache
def bundled_snapshot() -> dict[str, ModelRecord]:
    """The bundled records by lower-cased repo id (Hub ids are case-insensitive)."""
    text = resources.files(__package__).joinpath("model_snapshot.json").read_text(encoding="utf-8")
    models: dict[str, Any] = json.loads(text)["models"]
    return {repo.lower(): ModelRecord.model_validate(record) for repo, record in models.items()}


def shape_from_config_file(path: Path, repo_id: str) -> ModelShape | CannotSize:
    """The shape a local ``config.json`` describes (the stack's ``configJson``), without safetensors counts."""
    config = json.loads(path.read_text(encoding="utf-8"))
    record = ModelRecord(repo_id=repo_id, config=config)
    return record.shape("configJson file", note=f"read from {path}")


class ModelReader:
    """Reads model shapes; one per plan (it memoizes what it read)."""

    def __init__(
        self,
        client: HubClient | None = None,
        *,
        cache_dir: Path | None = None,
        offline: bool = False,
        snapshot: Mapping[str, ModelRecord] | None = None,
        today: Callable[[], date] = date.today,
    ) -> None:
        self._client = client
        self._cache_dir = cache_dir or default_cache_dir()
        self._offline = offline or client is None
        self._snapshot = bundled_snapshot() if snapshot is None else snapshot
        self._today = today
        self._read: dict[tuple[str, str | None], ModelShape | CannotSize] = {}

    def read(self, repo_id: str, revision: str | None = None, token: str | None = None) -> ModelShape | CannotSize:
        key = (repo_id.lower(), revision)
        if key not in self._read:
            self._read[key] = self._read_uncached(repo_id, revision, token)
        return self._read[key]

    def record(self, repo_id: str, revision: str | None = None, token: str | None = None) -> ModelRecord:
        """What the Hub says about the revision now (cached by commit): the snapshot generator's entry point."""
        return self._fetch(repo_id, revision, token)[0]

    def _fetch(self, repo_id: str, revision: str | None, token: str | None) -> tuple[ModelRecord, bool]:
        """The revision's record and whether it came from the cache (the Hub resolves the revision either way)."""
        if self._client is None:
            raise HubUnreachableError("no Hub client")
        info = self._client.model_info(repo_id, revision, token)
        cached = self._load(repo_id, info.sha) if info.sha else None
        if cached is not None and info.sha:
            self._store_ref(repo_id, revision, info.sha)
            return cached.model_copy(update={"revision": revision}), True
        at = info.sha or revision
        config = self._client.download_json(repo_id, "config.json", at, token)
        quant = None
        if "hf_quant_config.json" in info.files and "quantization_config" not in config:
            quant = self._client.download_json(repo_id, "hf_quant_config.json", at, token)
        record = ModelRecord(
            repo_id=repo_id,
            revision=revision,
            sha=info.sha,
            gated=info.gated,
            fetched_on=self._today().isoformat(),
            recorded_from=info.recorded_from,
            config=config,
            hf_quant_config=quant,
            safetensors=info.safetensors,
        )
        if info.sha:
            self._store(record)
            self._store_ref(repo_id, revision, info.sha)
        return record, False

    def _read_uncached(self, repo_id: str, revision: str | None, token: str | None) -> ModelShape | CannotSize:
        pinned = self._load(repo_id, revision) if revision and COMMIT_SHA.fullmatch(revision) else None
        if pinned is not None:
            # A commit's files never change: a cached pinned commit needs no Hub call.
            return pinned.model_copy(update={"revision": revision}).shape("cache", note="pinned commit, cached")
        if not self._offline:
            try:
                record, from_cache = self._fetch(repo_id, revision, token)
                origin: Origin = "cache" if from_cache else "hub"
                resolved = f"{revision or 'the default branch'} resolved to {record.sha} on the Hub"
                return record.shape(origin, note=resolved)
            except HubNotFoundError as error:
                raise ModelReadError(
                    repo_id,
                    "not-found",
                    f"not found on the Hugging Face Hub ({error})",
                    "check the id's spelling, or for a private repo set hfToken (or HF_TOKEN) to a token that can "
                    "read it",
                ) from error
            except HubGatedError as error:
                fix = f"accept its licence at https://huggingface.co/{repo_id}, then " + (
                    "use a token of the account that accepted it"
                    if token
                    else "set hfToken (or HF_TOKEN) to a token of that account"
                )
                raise ModelReadError(repo_id, "gated", "is a gated repository", fix) from error
            except HubRevisionNotFoundError as error:
                raise ModelReadError(
                    repo_id,
                    "revision-not-found",
                    f"has no revision {revision!r}",
                    "use a branch, tag or commit sha of the repo, or remove revision to use the default branch",
                ) from error
            except HubUnreachableError as error:
                return self._offline_shape(repo_id, revision, f"the Hub was unreachable ({error})")
        return self._offline_shape(repo_id, revision, "offline")

    def _offline_shape(self, repo_id: str, revision: str | None, why: str) -> ModelShape | CannotSize:
        sha = self._cached_sha(repo_id, revision)
        cached = self._load(repo_id, sha) if sha else None
        if cached is not None:
            record = cached.model_copy(update={"revision": revision})
            return record.shape("cache", note=f"{why}: the cached files of {sha}")
        bundled = self._snapshot.get(repo_id.lower())
        if bundled is not None and revision in (None, bundled.sha, bundled.revision):
            return bundled.shape("bundled snapshot", note=why)
        if bundled is not None:
            # The repo is known, the revision is not: it is the revision that cannot be read here.
            raise ModelReadError(
                repo_id,
                "revision-unreadable",
                f"cannot be read: {why}; the bundled snapshot has {repo_id} only at "
                f"{bundled.revision or 'its default branch'}{f' ({bundled.sha})' if bundled.sha else ''}, and the "
                f"cache ({self._cache_dir}) has no copy of this revision",
                "plan once with access to huggingface.co (it reads that revision into the cache), or remove "
                "revision to plan the snapshot's",
            )
        raise ModelReadError(
            repo_id,
            "unreachable",
            f"cannot be read: {why}, and neither the cache ({self._cache_dir}) nor the bundled snapshot has "
            f"{'it' if revision is None else f'revision {revision}'}",
            "plan once with access to huggingface.co (it fills the cache), or describe the model with an "
            "architecture block",
        )

    def _repo_dir(self, repo_id: str) -> Path:
        return self._cache_dir / repo_id.lower().replace("/", "--")

    def _cached_sha(self, repo_id: str, revision: str | None) -> str | None:
        """The commit the revision last resolved to (a cached pinned commit never gets here)."""
        ref = self._repo_dir(repo_id) / "refs" / f"{_ref_name(revision)}.json"
        if not ref.is_file():
            return None
        sha: str = json.loads(ref.read_text(encoding="utf-8"))["sha"]
        return sha

    def _load(self, repo_id: str, sha: str) -> ModelRecord | None:
        path = self._repo_dir(repo_id) / f"{sha}.json"
        if not path.is_file():
            return None
        return ModelRecord.model_validate_json(path.read_text(encoding="utf-8"))

    def _store(self, record: ModelRecord) -> None:
        assert record.sha is not None
        _write_atomic(self._repo_dir(record.repo_id) / f"{record.sha}.json", record.model_dump_json(by_alias=True))

    def _store_ref(self, repo_id: str, revision: str | None, sha: str) -> None:
        ref = {"revision": revision, "sha": sha, "resolvedOn": self._today().isoformat()}
        _write_atomic(self._repo_dir(repo_id) / "refs" / f"{_ref_name(revision)}.json", json.dumps(ref))


def _ref_name(revision: str | None) -> str:
    # A branch like "refs/pr/1" or "release/v2" becomes one file name.
    return DEFAULT_BRANCH if revision is None else revision.replace("/", "%2F")


def _write_atomic(path: Path, text: str) -> None:
    """Write then rename, so a concurrent plan never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp") as file:
        file.write(text)
    Path(file.name).replace(path)
