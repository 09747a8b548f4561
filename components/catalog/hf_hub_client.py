"""``HubClient`` on huggingface_hub: ``HfApi.model_info`` and ``hf_hub_download``, errors translated.

Signatures read from huggingface_hub 1.0.0 and 2.4.0 (hf_api.py ``HfApi.model_info(repo_id, *, revision, timeout,
securityStatus, files_metadata, expand, token)``; file_download.py ``hf_hub_download(repo_id, filename, *,
revision, cache_dir, token, ...)``; errors.py ``RepositoryNotFoundError`` > ``GatedRepoError``,
``RevisionNotFoundError``, ``HfHubHTTPError``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError, RevisionNotFoundError

from .hub_client import (
    HubGatedError,
    HubModelInfo,
    HubNotFoundError,
    HubRevisionNotFoundError,
    HubUnreachableError,
)
from .model_shape import SafetensorsCounts

# GatedRepoError subclasses RepositoryNotFoundError, so it is matched first. Transport errors have no
# huggingface_hub class: they are its HTTP library's (requests in 0.x, httpx in 1.x, httpx2 in 2.x), whose base
# HfHubHTTPError extends first; OSError covers OfflineModeIsEnabled (HF_HUB_OFFLINE=1) and disk errors.
_ERRORS: tuple[tuple[type[BaseException], type[Exception]], ...] = (
    (GatedRepoError, HubGatedError),
    (RepositoryNotFoundError, HubNotFoundError),
    (RevisionNotFoundError, HubRevisionNotFoundError),
    (HfHubHTTPError.__mro__[1], HubUnreachableError),
    (OSError, HubUnreachableError),
)


def _translated(error: BaseException) -> Exception | None:
    for library_error, ours in _ERRORS:
        if isinstance(error, library_error):
            return ours(str(error).splitlines()[0] if str(error) else type(error).__name__)
    return None


class HfHubClient:
    """The real Hub."""

    def __init__(self, download_dir: Path, timeout_seconds: float = 10.0) -> None:
        self._api = HfApi()
        self._download_dir = download_dir
        self._timeout = timeout_seconds

    def model_info(self, repo_id: str, revision: str | None, token: str | None) -> HubModelInfo:
        try:
            info = self._api.model_info(
                repo_id,
                revision=revision,
                timeout=self._timeout,
                expand=["sha", "gated", "safetensors", "siblings"],
                # The caller's token only: False stops huggingface_hub from using a token saved on this machine.
                token=token or False,
            )
        except Exception as error:
            translated = _translated(error)
            if translated is None:
                raise
            raise translated from error
        if info.sha is None:
            raise HubUnreachableError(f"the Hub returned no commit sha for {repo_id}")
        counts = None
        if info.safetensors is not None:
            counts = SafetensorsCounts(parameters=dict(info.safetensors.parameters), total=info.safetensors.total)
        return HubModelInfo(
            sha=info.sha,
            gated=bool(info.gated),
            files=frozenset(sibling.rfilename for sibling in info.siblings or ()),
            safetensors=counts,
        )

    def download_json(self, repo_id: str, filename: str, revision: str | None, token: str | None) -> dict[str, Any]:
        try:
            path = hf_hub_download(
                repo_id, filename, revision=revision, cache_dir=self._download_dir, token=token or False
            )
        except Exception as error:
            translated = _translated(error)
            if translated is None:
                raise
            raise translated from error
        data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
        return data
