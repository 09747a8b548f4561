"""What planning one model reads besides the model itself: the stack-level inputs, and where they are configured."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..catalog.hub import ModelReader, default_cache_dir
from ..catalog.hub_client import HubClient
from ..config.schema import DEFAULT_IMAGE, SECRET_PLACEHOLDER, StackConfig
from ..config.sections import CacheConfig
from ..errors import NAMESPACE, KeyPrefix
from .root_disk import DEFAULT_ROOT_VOLUME_GIB, root_volume_size


def hub_token(config: StackConfig) -> str | None:
    """The stack's ``hfToken`` when its value is readable here (not a Pulumi output, not offline's placeholder),
    else ``HF_TOKEN`` from the environment."""
    secret = config.hf_token
    value = secret.get_secret_value() if secret is not None and hasattr(secret, "get_secret_value") else None
    if value and value != SECRET_PLACEHOLDER:
        return str(value)
    return os.environ.get("HF_TOKEN") or None


def default_reader() -> ModelReader:
    """Online unless ``HF_HUB_OFFLINE`` is set (huggingface_hub's own switch); huggingface_hub is imported only
    online (about half a second)."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        return ModelReader(offline=True)
    from ..catalog.hf_hub_client import HfHubClient  # noqa: PLC0415 - online only

    client: HubClient = HfHubClient(default_cache_dir() / "downloads")
    return ModelReader(client)


@dataclass(frozen=True)
class PlanContext:
    """The image, the cache and the Hugging Face token a model is planned with, and their keys.

    The defaults are a vllm-aws stack's: key paths in the ``vllm-aws`` namespace, the cache at ``cache`` and the
    token at ``hfToken``. ``namespace=None`` writes key paths as a component's own inputs (``model.dtype``).
    """

    image: str = DEFAULT_IMAGE
    region: str = "us-east-1"
    """Where the hosts run: prices are this region's."""
    reader: ModelReader = field(default_factory=default_reader)
    """Reads models' shapes (Hub, disk cache, bundled snapshot); one per plan, so each repo is read once."""
    hub_token: str | None = None
    """The token the reader sends to the Hub: the stack's ``hfToken``, else ``HF_TOKEN``."""
    config_dir: Path | None = None
    """Where the config file is: ``architecture.configJson`` paths are relative to it (None: the current directory,
    which is the Pulumi project's, beside ``Pulumi.<stack>.yaml``)."""
    cache: CacheConfig = field(default_factory=CacheConfig)
    root_volume_gib: int = DEFAULT_ROOT_VOLUME_GIB
    """Each host's root volume, resolved (``auto`` is a size here): it is billed with the host."""
    hf_token: bool = False
    """Whether the hosts get a Hugging Face token (a gated model needs one); its value is never needed."""
    namespace: str | None = NAMESPACE
    cache_key: KeyPrefix = ("cache",)
    hf_token_key: KeyPrefix = ("hfToken",)
    hf_token_fix: str = (
        "accept the licence on huggingface.co, then `pulumi config set --secret vllm-aws:hfToken hf_...`"
    )

    @classmethod
    def of_stack(cls, config: StackConfig, config_dir: Path | None = None) -> PlanContext:
        """The context of a model of a vllm-aws stack config."""
        return cls(
            image=config.image,
            region=config.region,
            cache=config.cache,
            root_volume_gib=root_volume_size(config.root_volume_gib),
            hf_token=config.hf_token is not None,
            hub_token=hub_token(config),
            config_dir=config_dir,
        )

    @classmethod
    def of_component(
        cls, *, image: str, region: str, cache: CacheConfig, root_volume_gib: int, hf_token: bool
    ) -> PlanContext:
        """The context of a ``VllmDeployment``'s model: key paths name the component's inputs (``model.dtype``),
        and the token is an SSM parameter the component maps (its value stays in SSM)."""
        return cls(
            image=image,
            region=region,
            cache=cache,
            root_volume_gib=root_volume_gib,
            hf_token=hf_token,
            namespace=None,
            cache_key=("cache",),
            hf_token_key=("secrets", "parameters", "HF_TOKEN"),
            hf_token_fix="accept the licence on huggingface.co, store the token as an SSM SecureString and map "
            "HF_TOKEN to its name in secrets.parameters",
        )
