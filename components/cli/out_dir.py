"""The directory ``render --out`` owns: what it wrote last time is replaced, nothing else is ever touched.

A manifest beside the artifacts lists what ``render`` wrote. A later run deletes exactly those files (and the
folders that held only them), so an artifact of a model or host that no longer exists does not linger; a
non-empty directory without a manifest, or a file of someone else's where an artifact goes, is refused.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

MANIFEST = ".vllm-aws-render.json"


class OutDirError(Exception):
    """``render --out`` was given a directory it may not write into (the CLI exits 2 with this message)."""


def _refuse(path: Path, problem: str) -> OutDirError:
    return OutDirError(f"{path}: {problem}. Fix: pass an empty or new directory, or one an earlier `render` wrote")


def _recorded(out: Path) -> list[PurePosixPath]:
    """The files the last ``render`` wrote into ``out``; refuses a directory it does not own."""
    manifest = out / MANIFEST
    if not manifest.is_file():
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise _refuse(out, f"is not empty and was not written by `render` (it has no {MANIFEST})")
        return []
    try:
        listed = json.loads(manifest.read_text(encoding="utf-8"))["files"]
        paths = [PurePosixPath(entry) for entry in listed if isinstance(entry, str)]
    except (OSError, ValueError, KeyError, TypeError):
        raise _refuse(manifest, "is not a manifest `render` wrote") from None
    unsafe = [p for p in paths if p.is_absolute() or ".." in p.parts or p.parts[:1] == (MANIFEST,)]
    if unsafe:
        raise _refuse(manifest, f"lists {unsafe[0]}, which is not a file inside {out}")
    return paths


def replace_contents(out: Path, files: Mapping[PurePosixPath, str]) -> list[Path]:
    """Write ``files`` (relative path -> text) under ``out`` in place of what the last run wrote."""
    previous = _recorded(out)
    ours = set(previous)
    foreign = [p for p in files if p not in ours and os.path.lexists(out / p)]
    if foreign:
        raise _refuse(out / foreign[0], "exists and was not written by `render`")
    for relative in previous:
        path = out / relative
        if path.is_file() or path.is_symlink():
            path.unlink()
        for folder in path.parents:
            if folder == out or not folder.is_dir() or any(folder.iterdir()):
                break
            folder.rmdir()
    out.mkdir(parents=True, exist_ok=True)
    # The manifest first: a run that fails halfway still owns, and next time removes, what it wrote.
    listing = {"writtenBy": "python -m components render", "files": [str(p) for p in files]}
    (out / MANIFEST).write_text(json.dumps(listing, indent=2) + "\n", encoding="utf-8")
    written = []
    for relative, text in files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if text.startswith("#!"):
            os.chmod(path, 0o755)
        written.append(path)
    return written
