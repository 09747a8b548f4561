"""Generate components/catalog/model_snapshot.json, the model shapes the planner falls back to offline.

    python scripts/gen_model_snapshot.py           # rewrite model_snapshot.json
    python scripts/gen_model_snapshot.py --check   # exit 1 if it differs from what the recordings give

The entries go through the product's own reader (components/catalog/hub.py ModelReader.record), fed by a client
that answers from recorded Hub responses instead of huggingface.co: tests/data/hf/<org>__<name>/ (config.json,
and where recorded safetensors.json and hf_quant_config.json), listed with their sources in
tests/data/hf/SOURCES.yaml. Synthetic fixtures (no citable copy) are left out; reconstructed ones (no citable copy,
but an id the retired hand-kept catalog served) are kept and say so. Each entry says where it came from
(``recordedFrom``); an entry read from the Hub would carry its commit sha and date instead.
"""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from components.catalog.hub import ModelReader  # noqa: E402 - after the repository root is importable
from components.catalog.hub_client import HubModelInfo, HubNotFoundError  # noqa: E402
from components.catalog.model_shape import RECONSTRUCTED, CannotSize, SafetensorsCounts  # noqa: E402

RECORDINGS = ROOT / "tests" / "data" / "hf"
OUTPUT = ROOT / "components" / "catalog" / "model_snapshot.json"


def recorded_dir(repo_id: str) -> Path:
    return RECORDINGS / repo_id.replace("/", "__")


class RecordedHubClient:
    """Answers the reader's two Hub calls from tests/data/hf (the commit is unknown: sha None)."""

    def __init__(self, sources: dict[str, dict[str, Any]]) -> None:
        self._sources = sources

    def model_info(self, repo_id: str, revision: str | None, token: str | None) -> HubModelInfo:
        source = self._sources.get(repo_id)
        if source is None:
            raise HubNotFoundError(f"no recording of {repo_id}")
        folder = recorded_dir(repo_id)
        counts = folder / "safetensors.json"
        return HubModelInfo(
            sha=None,
            gated=bool(source.get("gated")),
            files=frozenset(path.name for path in folder.iterdir()),
            safetensors=SafetensorsCounts.model_validate_json(counts.read_text()) if counts.is_file() else None,
            recorded_from=str(source["config"]) if "config" in source else RECONSTRUCTED,
        )

    def download_json(self, repo_id: str, filename: str, revision: str | None, token: str | None) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((recorded_dir(repo_id) / filename).read_text(encoding="utf-8"))
        return data


def recordings() -> tuple[str, dict[str, dict[str, Any]]]:
    """The collection date and the recorded and reconstructed (not synthetic) models by repo id."""
    sources = yaml.safe_load((RECORDINGS / "SOURCES.yaml").read_text(encoding="utf-8"))
    models = {entry["repo"]: entry for entry in sources["models"] if not entry.get("synthetic")}
    return str(sources["collected"]), models


def render() -> str:
    collected, models = recordings()
    with tempfile.TemporaryDirectory() as cache:
        reader = ModelReader(
            RecordedHubClient(models), cache_dir=Path(cache), snapshot={}, today=lambda: date.fromisoformat(collected)
        )
        entries: dict[str, Any] = {}
        for repo_id in sorted(models, key=str.lower):
            record = reader.record(repo_id)
            shape = record.shape("bundled snapshot")
            if isinstance(shape, CannotSize):
                raise SystemExit(f"{repo_id}: {shape.reason}")
            entries[repo_id] = record.model_dump(mode="json", by_alias=True, exclude_none=True)
    snapshot = {"generatedBy": "scripts/gen_model_snapshot.py from tests/data/hf (SOURCES.yaml)", "models": entries}
    return json.dumps(snapshot, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{OUTPUT.relative_to(ROOT)} is stale: run python scripts/gen_model_snapshot.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
