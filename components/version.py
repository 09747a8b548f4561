"""The package version (semantic versioning; see CHANGELOG.md)."""

__version__ = "0.1.0"
