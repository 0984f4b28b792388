"""Champion against challenger through real DVC, as a reviewer meets it: `driftline retrain`
keeps the model it replaces as the champion, `dvc repro` compares the two on the same rows,
`driftline report` opens with the result and `driftline gate` fails a bad challenger. Then
the champion from a fresh clone, and the model's versions as git tags. On the session's
weather project (tests/weather.py): small, and no demo test, so it runs in every fork."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from driftline.core.config import parse_yaml
from helpers import copy_of, run
from weather import MIN_ROWS


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def moved(weather_project, tmp_path_factory) -> Path:
    """The weather project (promote.min_rows set for its size: tests/weather.py) after
    `driftline retrain`: window 2024-03..2024-04, the old model kept as the champion, nothing
    reproduced yet."""
    repo = copy_of(weather_project, tmp_path_factory.mktemp("moved") / "repo")
    assert json.loads((repo / "metrics/challenger.json").read_text())["promote"] is True
    done = run(repo, "driftline", "retrain")
    assert "train.window: 2024-01..2024-02 -> 2024-03..2024-04 (sliding)" in done.stdout
    assert "champion: the model of 2024-01..2024-02 is kept in models/champion/" in done.stdout
    return repo


@pytest.fixture(scope="module")
def sound(moved, tmp_path_factory) -> Path:
    repo = copy_of(moved, tmp_path_factory.mktemp("sound") / "repo")
    run(repo, "dvc", "repro")
    return repo


# A crippled challenger: boosting left to overfit (full steps, no regularisation, leaves of
# two rows), so that its probabilities are confidently wrong. (The demo's sabotage, one
# boosting iteration, gives probabilities near the base rate: on 145 rows its log loss is
# worse by 0.07, an interval that only just clears zero.)
OVERFIT = {
    "learning_rate": ("0.1", "1.0"),
    "max_iter": ("100", "300"),
    "min_samples_leaf": ("40", "2"),
    "l2_regularization": ("1.0", "0.0"),
}


@pytest.fixture(scope="module")
def sabotaged(moved, tmp_path_factory) -> Path:
    """The same retrain, the challenger crippled: boosting that overfits."""
    repo = copy_of(moved, tmp_path_factory.mktemp("sabotaged") / "repo")
    params = repo / "params.yaml"
    text = params.read_text()
    for key, (old, new) in OVERFIT.items():
        line = f"    {key}: {old}\n"
        assert text.count(line) == 1, line  # train.hgb's
        text = text.replace(line, f"    {key}: {new}\n")
    params.write_text(text)
    run(repo, "dvc", "repro")
    return repo


def test_retrain_keeps_the_serving_model_as_a_dvc_tracked_champion(weather_project, moved):
    for name in ("model.pkl", "meta.json"):
        champion = moved / "models/champion" / name
        assert md5(champion) == md5(weather_project / "models" / name)
        record = parse_yaml((moved / f"models/champion/{name}.dvc").read_text())
        assert record["outs"][0]["md5"] == md5(champion)
    ignored = (moved / "models/champion/.gitignore").read_text().split()
    assert {"/model.pkl", "/meta.json"} <= set(ignored)


def test_a_sound_retrain_passes_the_gate(sound):
    promotion = json.loads((sound / "reports/promotion.json").read_text())
    assert promotion["champion"]["last"] == "2024-02"
    assert promotion["challenger"]["first"] == "2024-03"
    assert promotion["rows"]["seen"] == 0 and promotion["rows"]["compared"] >= MIN_ROWS
    for metric in ("roc_auc", "pr_auc", "log_loss", "brier"):
        result = promotion["metrics"][metric]
        assert result["low"] <= result["difference"] <= result["high"], metric
    assert promotion["promote"] is True, promotion["reasons"]
    gate = run(sound, "driftline", "gate")
    assert gate.stdout.startswith("promote: true")
    assert "challenger 2024-03..2024-04 against champion 2024-01..2024-02" in gate.stdout
    report = run(sound, "driftline", "report", "--base", "HEAD").stdout
    first = report.split("\n### ")[1]
    assert first.startswith("Champion vs challenger")
    assert "**Promotion gate: ✅ passed.**" in first and "[!CAUTION]" not in report
    assert "| log_loss (lower is better) |" in first


def test_a_sabotaged_retrain_fails_the_gate_with_its_reasons(sabotaged):
    promotion = json.loads((sabotaged / "reports/promotion.json").read_text())
    assert promotion["promote"] is False
    failed = [r for r in promotion["reasons"] if r.startswith("FAIL:")]
    assert any("log_loss" in r and "worse beyond the interval" in r for r in failed), failed
    gate = run(sabotaged, "driftline", "gate", check=False)
    assert gate.returncode == 1
    assert "promote: false: the challenger fails the promotion gate; do not merge" in gate.stdout
    for reason in failed:
        assert reason in gate.stdout
    report = run(sabotaged, "driftline", "report", "--base", "HEAD").stdout
    first = report.split("\n### ")[1]
    assert first.startswith("Champion vs challenger")
    assert "> [!CAUTION]\n> **Promotion gate: ❌ FAILED. Do not merge:**" in first
    assert "🔴 worse" in first


def test_dvc_metrics_diff_shows_the_promotion(sabotaged):
    diff = json.loads(run(sabotaged, "dvc", "metrics", "diff", "HEAD", "--json").stdout)
    assert diff["metrics/challenger.json"]["promote"]["new"] is False
    # The champion appears beside the challenger, under the same names.
    champion = diff["metrics/champion.json"]
    assert {"roc_auc", "pr_auc", "log_loss", "brier", "rows"} <= set(champion)
    assert champion["log_loss"]["old"] is None and champion["log_loss"]["new"] > 0


def test_the_champion_comes_back_in_a_fresh_clone(sound):
    run(sound, "git", "add", "-A")
    run(sound, "git", "commit", "-qm", "retrain")
    run(sound, "dvc", "push")
    fresh = sound.parent / "fresh"
    run(sound.parent, "git", "clone", "-q", str(sound), str(fresh))
    assert not (fresh / "models/champion/model.pkl").exists()
    assert (fresh / "models/champion/README.md").is_file()
    run(fresh, "dvc", "pull")
    assert md5(fresh / "models/champion/model.pkl") == md5(sound / "models/champion/model.pkl")
    # The fresh clone holds what the comparison was made from: nothing to rerun.
    assert json.loads(run(fresh, "dvc", "status", "--json").stdout) == {}
    assert run(fresh, "driftline", "gate").stdout.startswith("promote: true")


def test_a_tampered_champion_is_refused_unloaded(sound, tmp_path):
    repo = copy_of(sound, tmp_path / "repo")
    champion = repo / "models/champion/model.pkl"
    champion.write_bytes(champion.read_bytes() + b"\0")
    lock = (repo / "dvc.lock").read_bytes()
    before = (repo / "reports/promotion.json").read_bytes()
    done = run(repo, "dvc", "repro", "--single-item", "promote", check=False)
    assert done.returncode != 0
    assert "models/champion/model.pkl does not match models/champion/model.pkl.dvc" in (
        done.stdout + done.stderr
    )
    # Nothing is recorded from it. (DVC removes a stage's outputs before running it, as for
    # every stage; git restores the committed report.)
    assert (repo / "dvc.lock").read_bytes() == lock
    promotion = repo / "reports/promotion.json"
    assert not promotion.exists() or promotion.read_bytes() == before


def test_versions_are_annotated_tags_listed_from_git(moved, sound, tmp_path):
    repo = copy_of(sound, tmp_path / "repo")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "retrain", "--allow-empty")
    # The weather project as committed before the retrain (its earlier commits are the demo
    # it was made from, and `driftline init`).
    base = run(moved, "git", "rev-parse", "HEAD").stdout.strip()
    assert "No model versions yet" in run(repo, "driftline", "models", "list").stdout
    first = run(repo, "driftline", "models", "tag", "--rev", base).stdout
    assert first.startswith("tagged model@v1.0.0 (the first version)")
    assert run(repo, "git", "cat-file", "-t", "model@v1.0.0").stdout.strip() == "tag"
    assert "no new version" in run(repo, "driftline", "models", "next", "--rev", base).stdout
    after = run(repo, "driftline", "models", "next").stdout
    assert after.startswith("next model@v1.1.0 (minor after model@v1.0.0")
    assert "retrained on a new window" in after
    run(repo, "driftline", "models", "tag")
    listed = run(repo, "driftline", "models", "list").stdout.splitlines()
    assert listed[0].split() == [
        "tag",
        "date",
        "commit",
        "window",
        "gate",
        "roc_auc",
        "pr_auc",
        "log_loss",
    ]
    newest, oldest = listed[1].split(), listed[2].split()
    assert newest[0] == "model@v1.1.0" and newest[3] == "2024-03..2024-04"
    assert newest[4] == "passed"
    assert oldest[0] == "model@v1.0.0" and oldest[3] == "2024-01..2024-02"
    train = json.loads((repo / "metrics/train.json").read_text())
    assert newest[5] == f"{train['roc_auc']:.4f}"
