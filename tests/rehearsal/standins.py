"""What the rehearsal's stand-ins for the comment and pull-request actions do: the same
steps, on files under $REHEARSAL_DIR instead of GitHub's API.

    python standins.py find-comment | write-comment | create-pull-request

Inputs come as environment variables, as the stand-ins' action.yml files pass them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

STATE = Path(os.environ["REHEARSAL_DIR"])
COMMENTS = STATE / "comments.json"
PULL_REQUESTS = STATE / "pull-requests.json"
BOT = [
    *("-c", "user.name=github-actions[bot]"),
    *("-c", "user.email=41898282+github-actions[bot]@users.noreply.github.com"),
]


def load(path: Path) -> list[dict]:
    return json.loads(path.read_text()) if path.exists() else []


def save(path: Path, records: list[dict]) -> None:
    path.write_text(json.dumps(records, indent=2))


def output(name: str, value: object) -> None:
    with open(os.environ["GITHUB_OUTPUT"], "a") as out:
        out.write(f"{name}={value}\n")


def git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def find_comment() -> None:
    issue, includes = os.environ["ISSUE"], os.environ["INCLUDES"]
    found = [c["id"] for c in load(COMMENTS) if c["issue"] == issue and includes in c["body"]]
    output("comment-id", found[0] if found else "")


def write_comment() -> None:
    comments = load(COMMENTS)
    if os.environ["COMMENT_ID"]:
        if os.environ["EDIT_MODE"] != "replace":
            sys.exit("the stand-in only replaces a comment's body")
        (comment,) = [c for c in comments if str(c["id"]) == os.environ["COMMENT_ID"]]
        comment["body"] = os.environ["BODY"]
        comment["updates"] += 1
    else:
        comment = {
            "id": len(comments) + 1,
            "issue": os.environ["ISSUE"],
            "body": os.environ["BODY"],
            "updates": 0,
        }
        comments.append(comment)
    save(COMMENTS, comments)
    output("comment-id", comment["id"])


def create_pull_request() -> None:
    paths = os.environ["ADD_PATHS"].split()
    if not git("status", "--porcelain", "--", *paths).strip():
        print("create-pull-request stand-in: nothing changed, no pull request")
        output("pull-request-operation", "none")
        return
    base = git("rev-parse", "--abbrev-ref", "HEAD").strip()
    branch = os.environ["BRANCH"]
    git("checkout", "-q", "-B", branch)
    git("add", "--", *paths)
    git(*BOT, "commit", "-q", "-m", os.environ["COMMIT_MESSAGE"])
    git("push", "-q", "--force", "origin", branch)
    records = load(PULL_REQUESTS)
    records.append(
        {
            "branch": branch,
            "base": base,
            "title": os.environ["TITLE"],
            "body": Path(os.environ["BODY_PATH"]).read_text(),
            "files": git("diff", "--name-only", "HEAD~1", "HEAD").split(),
        }
    )
    save(PULL_REQUESTS, records)
    print(f"create-pull-request stand-in: pushed {branch}, pull request into {base} recorded")
    output("pull-request-operation", "created")


if __name__ == "__main__":
    {
        "find-comment": find_comment,
        "write-comment": write_comment,
        "create-pull-request": create_pull_request,
    }[sys.argv[1]]()
