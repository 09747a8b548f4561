"""Entry point of ``python -m components``."""

from .cli import main

raise SystemExit(main())
