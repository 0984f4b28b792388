"""A project from before 2026-12: its batch list is ``batches`` in params.yaml, and its raw
batches are ``data/raw/<batch>.csv`` with a ``.csv.dvc`` each, which its stage files depend
on. ``dvc repro`` refuses it naming the fix, and ``driftline pipeline sync`` moves it: the list
to ``pipeline/batches.yaml`` (params.yaml otherwise as it was), the raw batches to
``data/raw/<group>/<batch>.csv`` + ``data/raw/<group>.dvc``, keeping every byte and each
batch's meta, after which the pipeline is up to date as committed: nothing reruns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from helpers import REGISTRY, copy_of, registered, run

pytestmark = pytest.mark.integration

FEBRUARY_META = {"period": "2013-02", "rows": 28834, "source": "feb.csv"}


def files(repo: Path) -> dict[str, bytes]:
    """What params.yaml, data/raw and pipeline/ hold, by path (the raw folders' .gitignore
    too)."""
    found = [repo / "params.yaml", *(repo / "data/raw").rglob("*"), *(repo / "pipeline").rglob("*")]
    return {str(p.relative_to(repo)): p.read_bytes() for p in sorted(found) if p.is_file()}


def old_layout(reproduced: Path, target: Path, list_in_params: bool = True) -> Path:
    """The reproduced demo project as the layout before 2026-12 had it: the raw batches
    tracked one file each and (``list_in_params``) the batch list in params.yaml."""
    repo = copy_of(reproduced, target)
    if list_in_params:
        names = registered(repo)
        (repo / REGISTRY).unlink()
        header, rest = (repo / "params.yaml").read_text().split("\n\n", 1)
        old = "# Registered raw batches, oldest first.\nbatches:\n"
        old += "".join(f'  - "{name}"\n' for name in names)
        (repo / "params.yaml").write_text(f"{header}\n\n{old}\n{rest}")
    raw = repo / "data/raw"
    groups = sorted(p.stem for p in raw.glob("*.dvc"))
    run(repo, "dvc", "remove", *(f"data/raw/{g}.dvc" for g in groups))
    for group in groups:
        (raw / group / f"{group}.csv").rename(raw / f"{group}.csv")
        (raw / group).rmdir()
    run(repo, "dvc", "add", *(f"data/raw/{g}.csv" for g in groups))
    record = yaml.safe_load((raw / "2013-02.csv.dvc").read_text())
    record["meta"] = FEBRUARY_META
    (raw / "2013-02.csv.dvc").write_text(yaml.safe_dump(record, sort_keys=False))
    for stage_file in repo.glob("pipeline/*/dvc.yaml"):
        text = re.sub(r"data/raw/[^/\s]+/([^/\s]+\.csv)", r"data/raw/\1", stage_file.read_text())
        stage_file.write_text(text)
    return repo


def test_an_old_layout_is_refused_naming_the_command_that_moves_it(reproduced, tmp_path):
    repo = old_layout(reproduced, tmp_path / "repo")
    done = run(repo, "dvc", "repro", "pipeline/2013-02/dvc.yaml:prepare@2013-02", check=False)
    assert done.returncode != 0
    out = done.stdout + done.stderr
    assert "params.yaml: the batch list 'batches' now lives in pipeline/batches.yaml" in out, out
    assert "run 'driftline pipeline sync' to move it" in out
    # Only the raw batches in the old layout (the list moved by hand): prepare@ says so.
    repo = old_layout(reproduced, tmp_path / "raw-only", list_in_params=False)
    done = run(repo, "dvc", "repro", "pipeline/2013-02/dvc.yaml:prepare@2013-02", check=False)
    assert done.returncode != 0
    out = done.stdout + done.stderr
    assert "data/raw/2013-02.csv is tracked on its own" in out, out
    assert "run 'driftline pipeline sync' to move them" in out


def test_pipeline_sync_moves_the_raw_batches_into_group_folders_and_nothing_reruns(
    reproduced, repo_root, tmp_path
):
    repo = old_layout(reproduced, tmp_path / "repo")
    raw = {p.name: p.read_bytes() for p in (repo / "data/raw").glob("*.csv")}
    # A batch missing from the workspace (a clone that has not pulled): refused, unchanged.
    (repo / "data/raw/2013-04.csv").unlink()
    before = files(repo)
    done = run(repo, "driftline", "pipeline", "sync", check=False)
    assert done.returncode != 0
    assert "data/raw/2013-04.csv is not in the workspace: run 'dvc pull' first" in done.stderr
    assert "nothing was changed" in done.stderr
    assert files(repo) == before
    run(repo, "dvc", "checkout", "data/raw/2013-04.csv.dvc")

    done = run(repo, "driftline", "pipeline", "sync")
    assert (
        "moved the batch list (6 batches) from params.yaml to pipeline/batches.yaml" in done.stdout
    )
    assert "moved 6 raw batches into one tracked folder per group" in done.stdout
    # The list apart, and params.yaml as committed: every other line and comment kept.
    for name in ("params.yaml", REGISTRY):
        assert (repo / name).read_bytes() == (repo_root / name).read_bytes(), name
    assert not list((repo / "data/raw").glob("*.csv*"))
    for name, data in raw.items():  # every byte kept
        assert (repo / "data/raw" / name.removesuffix(".csv") / name).read_bytes() == data
    # The committed layout exactly, with February's meta carried over under its name.
    for group in (p.stem for p in (repo_root / "data/raw").glob("*.dvc")):
        record = yaml.safe_load((repo / f"data/raw/{group}.dvc").read_text())
        meta = record.pop("meta", None)
        assert record == yaml.safe_load((repo_root / f"data/raw/{group}.dvc").read_text())
        assert meta == ({"batches": {"2013-02": FEBRUARY_META}} if group == "2013-02" else None)
    gitignore = (repo / "data/raw/.gitignore").read_text()
    assert gitignore == (repo_root / "data/raw/.gitignore").read_text()
    for stage_file in (repo_root / "pipeline").glob("*/dvc.yaml"):
        assert (repo / stage_file.relative_to(repo_root)).read_bytes() == stage_file.read_bytes()
    # The locks were made on this layout with these bytes: nothing to reproduce.
    assert "Data and pipelines are up to date" in run(repo, "dvc", "status").stdout
    # A second sync finds nothing to move.
    again = run(repo, "driftline", "pipeline", "sync")
    assert "moved" not in again.stdout
    assert (repo / "params.yaml").read_bytes() == (repo_root / "params.yaml").read_bytes()
