"""The two Hub calls the model reader makes, behind a small interface: hf_hub_client.HfHubClient makes them on
huggingface_hub; the snapshot generator and tests answer them from recorded files. Importing this module does not
import huggingface_hub (about half a second), so an offline plan never pays for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from .model_shape import SafetensorsCounts


class HubNotFoundError(Exception):
    """No such repo (or a private one the token cannot read)."""


class HubGatedError(Exception):
    """A gated repo the token has no access to (or no token)."""


class HubRevisionNotFoundError(Exception):
    """The repo has no such branch, tag or commit."""


class HubUnreachableError(Exception):
    """No answer from the Hub (network, timeout, server error, offline mode)."""


@dataclass(frozen=True)
class HubModelInfo:
    sha: str | None
    """The commit the revision resolves to; None only for a recorded copy whose commit is unknown."""
    gated: bool
    files: frozenset[str]
    safetensors: SafetensorsCounts | None
    recorded_from: str | None = field(default=None)
    """Set by a recorded client: the URL its answers were copied from."""


class HubClient(Protocol):
    def model_info(self, repo_id: str, revision: str | None, token: str | None) -> HubModelInfo: ...

    def download_json(self, repo_id: str, filename: str, revision: str | None, token: str | None) -> dict[str, Any]: ...
