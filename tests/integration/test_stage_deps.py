"""With DVC and fresh Pythons: a stage starts with only the libraries it uses, and editing
the tooling reruns no stage while a plot edit reruns only the stages that draw
(tests/unit/project/test_stage_deps.py derives each stage's code deps from its imports)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from helpers import HEAVY_LIBRARIES, ROOT, copy_of, run, stage_code

SRC = ROOT / "src"
PACKAGE = "driftline"
TOOLING = SRC / PACKAGE / "tooling"
MONITORING = SRC / PACKAGE / "monitoring"


# The heavy libraries each stage loads when it starts: scikit-learn only where a model is fit
# (score loads it later, with the model), matplotlib only where PNGs are drawn, pandera not
# at all (prepare loads it to check a raw file, not to restore a batch it knows).
STARTUP = {
    "window": {"pandas", "pyarrow"},
    "prepare": {"pandas", "pyarrow"},
    "train": {"pandas", "pyarrow", "scipy", "sklearn"},
    "score": {"pandas", "pyarrow", "scipy"},
    "evaluate": {"pandas", "pyarrow", "matplotlib"},
    "drift": {"pandas", "pyarrow", "scipy", "matplotlib"},
    "promote": {"pandas", "pyarrow"},
}


@pytest.mark.parametrize("stage", sorted(STARTUP))
def test_a_stage_starts_with_only_the_libraries_it_uses(stage):
    assert set(STARTUP) == set(stage_code())
    module, _ = stage_code()[stage]
    probe = f"import sys, {module}; print(*(n for n in {HEAVY_LIBRARIES} if n in sys.modules))"
    assert set(run(ROOT, sys.executable, "-c", probe).stdout.split()) == STARTUP[stage]


def changed_stages(repo: Path) -> set[str]:
    return set(json.loads(run(repo, "dvc", "status", "--json").stdout))


def test_editing_the_tooling_reruns_no_stage_and_a_plot_edit_only_those_that_draw(
    weather_project, tmp_path
):
    repo = copy_of(weather_project, tmp_path / "driftline")
    tooling = sorted((repo / TOOLING.relative_to(ROOT)).rglob("*.py"))
    assert {"cli.py", "ingest.py", "pr_comment.py"} <= {path.name for path in tooling}
    for path in tooling:
        path.write_text(path.read_text() + "# an edit to the tooling\n")
    assert changed_stages(repo) == set()
    # A comment in the plotting code: the stages that draw rerun, and nothing upstream.
    plots = repo / MONITORING.relative_to(ROOT) / "plots.py"
    original = plots.read_text()
    plots.write_text(original + "# an edit to the plots\n")
    assert changed_stages(repo) == {"evaluate", "drift"}
    plots.write_text(original)
    # An edit to a drift test: the stages that compute drift, no prepare, window or train.
    drift = repo / MONITORING.relative_to(ROOT) / "drift.py"
    drift.write_text(drift.read_text() + "# an edit to a drift test\n")
    changed = changed_stages(repo)
    assert "drift" in changed and any(name.startswith("score@") for name in changed)
    assert {name.split("@")[0] for name in changed} == {"score", "drift"}
