"""Nothing that looks like a credential is in the repository's files."""

import re
import subprocess

import pytest

# Each pattern is built from pieces so that this file does not match itself.
PATTERNS = {
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(
        r"aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+]{40}\b", re.IGNORECASE
    ),
    "private key": re.compile("-----BEGIN [A-Z ]*" + "PRIVATE KEY-----"),
    "GitHub token": re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "URL with a password": re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:[^/\s@'\"]{6,}@"),
}


def findings(text: str) -> list[str]:
    return [name for name, pattern in PATTERNS.items() if pattern.search(text)]


@pytest.mark.parametrize(
    ("sample", "kind"),
    [
        ("key = " + "AKIA" + "ABCDEFGHIJKLMNOP", "AWS access key id"),
        ("aws_secret_access_key=" + "a1B2" * 10, "AWS secret access key"),
        ("-----BEGIN RSA " + "PRIVATE KEY-----", "private key"),
        ("token: " + "ghp_" + "x" * 36, "GitHub token"),
        ("https://user:" + "hunter22" + "@example.com/repo", "URL with a password"),
    ],
)
def test_the_scanner_finds_planted_credentials(sample, kind):
    assert findings(sample) == [kind]


def test_dummy_test_credentials_are_not_flagged():
    assert findings('{"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}') == []


def test_no_tracked_file_holds_a_credential(repo_root):
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    flagged = []
    for name in filter(None, listed.split("\0")):
        path = repo_root / name
        if not path.is_file() or path.stat().st_size > 5_000_000:
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        flagged += [f"{name}: {kind}" for kind in findings(text)]
    assert flagged == []
