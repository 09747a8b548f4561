"""What planning one model reads besides the model itself: the stack-level inputs, and where they are configured."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..config.schema import DEFAULT_IMAGE, StackConfig
from ..config.sections import CacheConfig
from ..errors import NAMESPACE, KeyPrefix


@dataclass(frozen=True)
class PlanContext:
    """The image, the cache and the Hugging Face token a model is planned with, and their keys.

    The defaults are a vllm-aws stack's: key paths in the ``vllm-aws`` namespace, the cache at ``cache`` and the
    token at ``hfToken``. ``namespace=None`` writes key paths as a component's own inputs (``model.dtype``).
    """

    image: str = DEFAULT_IMAGE
    cache: CacheConfig = field(default_factory=CacheConfig)
    hf_token: bool = False
    """Whether the hosts get a Hugging Face token (a gated model needs one); its value is never needed."""
    namespace: str | None = NAMESPACE
    cache_key: KeyPrefix = ("cache",)
    hf_token_key: KeyPrefix = ("hfToken",)
    hf_token_fix: str = (
        "accept the licence on huggingface.co, then `pulumi config set --secret vllm-aws:hfToken hf_...`"
    )

    @classmethod
    def of_stack(cls, config: StackConfig) -> PlanContext:
        """The context of a model of a vllm-aws stack config."""
        return cls(image=config.image, cache=config.cache, hf_token=config.hf_token is not None)
