"""The Hugging Face reader on a fake HfApi (no network): huggingface_hub's real client code path and error
classes, with HfApi.model_info and hf_hub_download answered from tests/data/hf."""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from huggingface_hub import errors
from huggingface_hub.hf_api import ModelInfo
from repo import DATA_DIR, PROJECT_DIR

from components.catalog import hf_hub_client, hub
from components.catalog.hf_hub_client import HfHubClient
from components.catalog.hub import ModelReader, ModelReadError, bundled_snapshot, shape_from_config_file
from components.catalog.model_shape import CannotSize, ModelShape

HF = DATA_DIR / "hf"
SHA = "a09a35458c702b33eeacc393d103063234e8bc28"
OTHER_SHA = "b" * 40
TODAY = date(2026, 12, 2)


def _http_error(cls: type[errors.HfHubHTTPError], status: int, message: str) -> errors.HfHubHTTPError:
    # The HTTP library is huggingface_hub's own (httpx2 in 2.x, httpx in 1.x): take it from its Response class.
    http = importlib.import_module(errors.Response.__module__.split(".")[0])
    request = http.Request("GET", "https://huggingface.co/api/models/x")
    return cls(message, response=errors.Response(status, request=request))


class FakeHub:
    """Plays HfApi.model_info and hf_hub_download for the repos of tests/data/hf, and records every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None, object]] = []
        self.shas: dict[tuple[str, str | None], str] = {}
        self.gated: set[str] = set()
        self.down = False

    def model_info(
        self, repo_id: str, *, revision: str | None, timeout: float, expand: list[str], token: object
    ) -> ModelInfo:
        self.calls.append(("model_info", repo_id, revision, token))
        if self.down:
            raise errors.HfHubHTTPError.__mro__[1]("[Errno 111] Connection refused")
        folder = HF / repo_id.replace("/", "__")
        if not folder.is_dir():
            raise _http_error(errors.RepositoryNotFoundError, 404, f"Repository Not Found for url: {repo_id}")
        if revision not in (None, "main", SHA, OTHER_SHA):
            raise _http_error(errors.RevisionNotFoundError, 404, f"Revision Not Found: {revision}")
        counts = folder / "safetensors.json"
        return ModelInfo(
            id=repo_id,
            sha=self.shas.get((repo_id, revision), SHA if revision in (None, "main") else revision),
            gated="manual" if repo_id in self.gated else False,
            safetensors=json.loads(counts.read_text()) if counts.is_file() else None,
            siblings=[{"rfilename": path.name} for path in folder.iterdir()],
        )

    def download(self, repo_id: str, filename: str, *, revision: str, cache_dir: Path, token: object) -> str:
        self.calls.append(("download", f"{repo_id}/{filename}", revision, token))
        if self.down:
            raise errors.HfHubHTTPError.__mro__[1]("[Errno 111] Connection refused")
        if repo_id in self.gated and not token:
            raise _http_error(errors.GatedRepoError, 401, f"Cannot access gated repo for url {repo_id}")
        return str(HF / repo_id.replace("/", "__") / filename)

    def downloads(self) -> list[str]:
        return [name for kind, name, _rev, _token in self.calls if kind == "download"]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    fake = FakeHub()
    monkeypatch.setattr(hf_hub_client, "HfApi", lambda: fake)
    monkeypatch.setattr(hf_hub_client, "hf_hub_download", fake.download)
    yield fake


def reader(tmp_path: Path, *, offline: bool = False) -> ModelReader:
    return ModelReader(
        HfHubClient(tmp_path / "downloads"), cache_dir=tmp_path / "cache", offline=offline, today=lambda: TODAY
    )


def shape(result: ModelShape | CannotSize) -> ModelShape:
    assert isinstance(result, ModelShape), result
    return result


def test_reads_config_and_safetensors_and_resolves_the_revision_to_its_commit(fake: FakeHub, tmp_path: Path) -> None:
    s = shape(reader(tmp_path).read("Qwen/Qwen2.5-7B-Instruct", "main"))
    assert (s.provenance.origin, s.provenance.revision, s.provenance.sha, s.provenance.fetched_on) == (
        "hub",
        "main",
        SHA,
        "2026-12-02",
    )
    assert s.safetensors is not None and s.safetensors.total == 7_615_616_512
    assert fake.downloads() == ["Qwen/Qwen2.5-7B-Instruct/config.json"]
    # The files are read at the resolved commit, never at the moving branch.
    assert [rev for kind, _name, rev, _token in fake.calls if kind == "download"] == [SHA]
    assert s.provenance.summary == f"hub: Qwen/Qwen2.5-7B-Instruct at {SHA[:12]} (read 2026-12-02)"


def test_uses_only_the_callers_token(fake: FakeHub, tmp_path: Path) -> None:
    reader(tmp_path).read("Qwen/Qwen3-8B", token="hf_caller")
    reader(tmp_path / "other").read("microsoft/phi-4")
    tokens = {name: token for _kind, name, _rev, token in fake.calls}
    assert tokens["Qwen/Qwen3-8B"] == tokens["Qwen/Qwen3-8B/config.json"] == "hf_caller"
    # No token: False, so huggingface_hub does not fall back to a token saved on the machine.
    assert tokens["microsoft/phi-4"] is False


def test_a_commit_is_downloaded_once_then_read_from_the_disk_cache(fake: FakeHub, tmp_path: Path) -> None:
    first = shape(reader(tmp_path).read("Qwen/Qwen3-8B"))
    second = shape(reader(tmp_path).read("Qwen/Qwen3-8B"))  # a new reader: a new plan
    assert (first.provenance.origin, second.provenance.origin) == ("hub", "cache")
    assert fake.downloads() == ["Qwen/Qwen3-8B/config.json"]
    assert second.model_dump(exclude={"provenance"}) == first.model_dump(exclude={"provenance"})
    # Upstream moved: the new commit is a cache miss.
    fake.shas[("Qwen/Qwen3-8B", None)] = OTHER_SHA
    moved = shape(reader(tmp_path).read("Qwen/Qwen3-8B"))
    assert (moved.provenance.origin, moved.provenance.sha) == ("hub", OTHER_SHA)
    assert len(fake.downloads()) == 2


def test_the_same_reader_asks_the_hub_once_per_model(fake: FakeHub, tmp_path: Path) -> None:
    one = reader(tmp_path)
    for _ in range(32):
        one.read("Qwen/Qwen3-8B")
    assert len(fake.calls) == 2


def test_modelopt_quant_config_is_fetched_when_config_json_lacks_one(fake: FakeHub, tmp_path: Path) -> None:
    s = shape(reader(tmp_path).read("nvidia/Llama-3.1-70B-Instruct-FP8"))
    assert s.quantization is not None and s.quantization.config_file == "hf_quant_config.json"
    assert fake.downloads()[-1] == "nvidia/Llama-3.1-70B-Instruct-FP8/hf_quant_config.json"


def test_unreachable_hub_falls_back_to_the_cached_resolution(fake: FakeHub, tmp_path: Path) -> None:
    reader(tmp_path).read("Qwen/Qwen3-8B", "main")
    fake.down = True
    s = shape(reader(tmp_path).read("Qwen/Qwen3-8B", "main"))
    assert (s.provenance.origin, s.provenance.sha, s.provenance.revision) == ("cache", SHA, "main")
    assert s.provenance.note is not None and "unreachable" in s.provenance.note
    pinned = shape(reader(tmp_path).read("Qwen/Qwen3-8B", SHA))  # a pinned commit needs no resolution
    assert pinned.provenance.sha == SHA


def test_a_cached_pinned_commit_is_read_without_asking_the_hub(fake: FakeHub, tmp_path: Path) -> None:
    reader(tmp_path).read("Qwen/Qwen3-8B", SHA)
    calls = len(fake.calls)
    s = shape(reader(tmp_path).read("Qwen/Qwen3-8B", SHA))
    assert (s.provenance.origin, s.provenance.sha, len(fake.calls)) == ("cache", SHA, calls)


def test_unreachable_hub_and_empty_cache_fall_back_to_the_bundled_snapshot(fake: FakeHub, tmp_path: Path) -> None:
    fake.down = True
    s = shape(reader(tmp_path).read("qwen/QWEN3-8B"))  # Hub ids are case-insensitive
    assert s.provenance.origin == "bundled snapshot"
    assert s.provenance.recorded_from is not None and "aiconfigurator" in s.provenance.recorded_from
    assert s.provenance.summary.startswith("bundled snapshot: recorded copy of Qwen/Qwen3-8B from https://")


def test_offline_reads_never_call_the_hub(fake: FakeHub, tmp_path: Path) -> None:
    s = shape(reader(tmp_path, offline=True).read("openai/gpt-oss-20b"))
    assert s.provenance.origin == "bundled snapshot" and fake.calls == []
    assert (
        shape(ModelReader(None, cache_dir=tmp_path).read("openai/gpt-oss-20b")).provenance.origin == "bundled snapshot"
    )


def test_a_pinned_revision_is_never_answered_by_another_commit(fake: FakeHub, tmp_path: Path) -> None:
    fake.down = True
    with pytest.raises(ModelReadError) as caught:
        reader(tmp_path).read("Qwen/Qwen3-8B", OTHER_SHA)
    # The repo is in the snapshot at another commit: it is the revision that cannot be read (#15: the problem is
    # reported on `revision`, with the fix of dropping it).
    assert caught.value.problem == "revision-unreadable"
    assert "the bundled snapshot has Qwen/Qwen3-8B only at" in caught.value.message
    assert "has no copy of this revision" in caught.value.message
    assert caught.value.fix.endswith("or remove revision to plan the snapshot's")


def test_unreachable_and_unknown_everywhere_is_an_error(fake: FakeHub, tmp_path: Path) -> None:
    fake.down = True
    with pytest.raises(ModelReadError, match="neither the cache") as caught:
        reader(tmp_path).read("acme/private-model")
    assert caught.value.problem == "unreachable"


def test_gated_repo_without_a_token_says_to_accept_the_licence_and_set_hf_token(fake: FakeHub, tmp_path: Path) -> None:
    fake.gated.add("meta-llama/Llama-3.1-8B-Instruct")
    with pytest.raises(ModelReadError) as caught:
        reader(tmp_path).read("meta-llama/Llama-3.1-8B-Instruct")
    assert caught.value.problem == "gated"
    assert caught.value.fix.startswith("accept its licence at https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct")
    assert "hfToken (or HF_TOKEN)" in caught.value.fix
    s = shape(reader(tmp_path).read("meta-llama/Llama-3.1-8B-Instruct", token="hf_accepted"))
    assert s.provenance.origin == "hub"


def test_unknown_repo_and_unknown_revision(fake: FakeHub, tmp_path: Path) -> None:
    with pytest.raises(ModelReadError) as missing:
        reader(tmp_path).read("acme/no-such-model")
    assert missing.value.problem == "not-found" and "private repo" in missing.value.fix
    with pytest.raises(ModelReadError) as revision:
        reader(tmp_path).read("Qwen/Qwen3-8B", "v9")
    assert revision.value.problem == "revision-not-found" and "'v9'" in revision.value.message


def test_an_architecture_the_planner_cannot_size_is_a_result_not_an_error(
    fake: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "hf" / "acme__mamba"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"architectures": ["MambaForCausalLM"], "model_type": "mamba"}))
    monkeypatch.setattr(sys.modules[__name__], "HF", tmp_path / "hf")
    result = reader(tmp_path).read("acme/mamba")
    assert isinstance(result, CannotSize) and "mamba" in result.reason
    assert result.provenance is not None and result.provenance.sha == SHA


def test_a_local_config_json_says_it_came_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text((HF / "microsoft__phi-4" / "config.json").read_text())
    s = shape(shape_from_config_file(path, "acme/phi"))
    assert (s.provenance.origin, s.provenance.repo_id, s.family) == ("configJson file", "acme/phi", "phi3")


def test_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VLLM_AWS_CACHE_DIR", str(tmp_path / "explicit"))
    assert hub.default_cache_dir() == tmp_path / "explicit" / "hf"
    monkeypatch.delenv("VLLM_AWS_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hub.default_cache_dir() == tmp_path / "xdg" / "vllm-aws" / "hf"


# --- the bundled snapshot -----------------------------------------------------------------------------------


def _snapshot_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_model_snapshot", PROJECT_DIR / "scripts" / "gen_model_snapshot.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_model_snapshot", module)
    spec.loader.exec_module(module)
    return module


def test_bundled_snapshot_is_what_the_reader_makes_of_the_recordings() -> None:
    committed = (PROJECT_DIR / "components" / "catalog" / "model_snapshot.json").read_text(encoding="utf-8")
    assert _snapshot_generator().render() == committed, "run python scripts/gen_model_snapshot.py"


def test_bundled_snapshot_holds_every_recorded_model_and_no_synthetic_one() -> None:
    _collected, recorded = _snapshot_generator().recordings()
    sources: list[dict[str, Any]] = __import__("yaml").safe_load((HF / "SOURCES.yaml").read_text())["models"]
    synthetic = {entry["repo"].lower() for entry in sources if entry.get("synthetic")}
    assert set(bundled_snapshot()) == {repo.lower() for repo in recorded}
    assert not synthetic & set(bundled_snapshot())
    for record in bundled_snapshot().values():
        assert record.recorded_from is not None and record.sha is None
        assert isinstance(record.shape("bundled snapshot"), ModelShape)


def test_a_reconstructed_entry_never_passes_for_a_copy_of_the_hubs_file() -> None:
    sources: list[dict[str, Any]] = __import__("yaml").safe_load((HF / "SOURCES.yaml").read_text())["models"]
    reconstructed = {entry["repo"].lower() for entry in sources if entry.get("reconstructed")}
    assert reconstructed and all("config" not in e and e.get("how") for e in sources if e.get("reconstructed"))
    for key in reconstructed:
        shape = bundled_snapshot()[key].shape("bundled snapshot")
        assert isinstance(shape, ModelShape)
        assert "a reconstruction, not a copy of the Hub's file" in shape.provenance.summary


def test_every_id_the_retired_hand_kept_catalog_served_is_in_the_bundled_snapshot() -> None:
    # catalog/models.yaml (removed 2026-12-02) served these ids offline; the snapshot now does, from config.json.
    lines = (DATA_DIR / "retired_catalog_ids.txt").read_text(encoding="utf-8").splitlines()
    retired = [line for line in lines if not line.startswith("#")]
    assert len(retired) == 30 and {repo.lower() for repo in retired} <= set(bundled_snapshot())
