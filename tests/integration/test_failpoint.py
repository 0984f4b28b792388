"""The failpoints the fault tests use: off unless named, a kill is a SIGKILL at that point, a
wait holds until its file appears."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from driftline.core.failpoint import ENV_VAR, failpoint
from driftline.core.io import write_json
from helpers import ENV

WRITE = "from driftline.core.io import write_json; write_json('out.json', {'new': 1})"


def python(cwd, code: str, point: str) -> subprocess.CompletedProcess:
    env = {**ENV, ENV_VAR: point}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def test_unnamed_points_do_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, "write@elsewhere.json")
    write_json(tmp_path / "out.json", {"new": 1})
    failpoint("ingest-moved")
    assert (tmp_path / "out.json").is_file()


def test_an_unknown_action_is_refused(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "ingest-moved:explode")
    with pytest.raises(ValueError, match="unknown action 'explode'"):
        failpoint("ingest-moved")


@pytest.mark.parametrize("action", ["", ":kill", ":killpg"])
def test_a_kill_stops_the_write_before_the_rename(tmp_path, action):
    (tmp_path / "out.json").write_text("old")
    # killpg: a session of its own, or it would take pytest along.
    code = f"import os; os.setsid(); {WRITE}" if action == ":killpg" else WRITE
    done = python(tmp_path, code, f"write@out.json{action}")
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert (tmp_path / "out.json").read_text() == "old"
    assert len(list(tmp_path.glob(".out.json.*.tmp"))) == 1  # complete, never renamed


def test_a_wait_holds_until_its_file_appears(tmp_path):
    go = tmp_path / "go"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITE],
        cwd=tmp_path,
        text=True,
        env={**ENV, ENV_VAR: f"write@out.json:wait={go}"},
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stderr.readline().strip() == f"failpoint write@out.json: waiting for {go}"
        assert proc.poll() is None and not (tmp_path / "out.json").exists()
    finally:
        go.touch()
    assert proc.wait(timeout=60) == 0
    assert (tmp_path / "out.json").read_text() == '{\n  "new": 1\n}\n'
