"""Entry point of ``python -m vllm_aws`` (``python -m components`` in a checkout)."""

from .cli import main

raise SystemExit(main())
