"""Where things are, for tests in any folder of tests/ (which mirrors components/)."""

from __future__ import annotations

from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent
PROJECT_DIR = TESTS_DIR.parent
DATA_DIR = TESTS_DIR / "data"
SNAPSHOTS_DIR = TESTS_DIR / "snapshots"
