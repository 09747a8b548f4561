"""Entry point of ``python -m components``."""

from components.cli import main

raise SystemExit(main())
