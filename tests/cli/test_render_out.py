"""`render --out` owns its directory: it replaces what it wrote last time and never touches anyone else's files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest
from stack_runs import PROJECT_DIR
from tools import shellcheck

from components.cli.out_dir import MANIFEST, OutDirError, replace_contents


def render(stack: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "components", "render", "--stack", stack, "--out", str(out)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_DIR)},
    )


def files_under(out: Path) -> set[str]:
    return {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}


def test_a_second_render_replaces_the_first_and_keeps_foreign_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert render("prod", out).returncode == 0
    (out / "NOTES.md").write_text("mine\n")
    (out / "vllm" / "keep.txt").write_text("mine too\n")
    second = render("dev", out)
    assert second.returncode == 0, second.stderr
    written = {str(Path(line).relative_to(out)) for line in second.stdout.splitlines()}
    manifest = json.loads((out / MANIFEST).read_text())
    assert set(manifest["files"]) == written
    # prod's models and hosts are gone, folders they alone used too; the user's files stay.
    assert files_under(out) == written | {MANIFEST, "NOTES.md", "vllm/keep.txt"}
    assert not (out / "hosts" / "qwen-72b-0").exists()
    assert (out / "vllm" / "qwen-7b.args.sh").is_file() and not (out / "vllm" / "qwen-8b.args.sh").exists()


def test_a_directory_render_did_not_write_is_refused_in_one_line(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.txt").write_text("someone else's\n")
    result = render("dev", out)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: render --out {out}: is not empty and was not written by `render`")
    assert files_under(out) == {"report.txt"}


def test_a_foreign_file_where_an_artifact_goes_is_refused_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    replace_contents(out, {PurePosixPath("a.txt"): "1\n"})
    (out / "b.txt").write_text("the user's\n")
    with pytest.raises(OutDirError, match=r"b\.txt: exists and was not written by `render`"):
        replace_contents(out, {PurePosixPath("b.txt"): "2\n"})
    assert (out / "b.txt").read_text() == "the user's\n" and (out / "a.txt").read_text() == "1\n"


@pytest.mark.parametrize("entry", ["../outside.txt", "/etc/hostname", MANIFEST])
def test_a_manifest_never_deletes_outside_its_files(tmp_path: Path, entry: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "outside.txt").write_text("keep\n")
    (out / MANIFEST).write_text(json.dumps({"files": [entry]}))
    with pytest.raises(OutDirError, match="is not a file inside"):
        replace_contents(out, {PurePosixPath("a.txt"): "1\n"})
    assert (tmp_path / "outside.txt").read_text() == "keep\n"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_rendered_script_has_a_shebang_and_passes_shellcheck_as_written(stack: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert render(stack, out).returncode == 0
    scripts = sorted(p for p in out.rglob("*") if p.is_file() and p.read_bytes().startswith(b"#!"))
    names = {p.name for p in scripts}
    assert {"bootstrap.sh", "mount-cache.sh", "vllm-aws-entrypoint"} <= names
    assert all(p.suffix != ".sh" or p in scripts for p in out.rglob("*.sh")), "a .sh file without a shebang"
    assert any(name.endswith(".args.sh") for name in names)
    for script in scripts:
        assert os.access(script, os.X_OK), script
        lint = subprocess.run([shellcheck(), str(script)], capture_output=True, text=True, check=False)
        assert lint.returncode == 0, f"{script}:\n{lint.stdout}"
