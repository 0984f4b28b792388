"""GitHub's rules for which workflows an event starts, written down once for the rehearsal.

act runs the workflow it is told to run. GitHub decides from the event. The rehearsal
(tests/rehearsal/world.py) asks
`workflows_for` which workflows GitHub would start, and runs
exactly those, with the event payload and `GITHUB_*` variables the runner would set. Each rule
cites GitHub's documentation:

1. **Triggers and filters.** A workflow runs for an event only if its `on:` names the event and
   the event passes that trigger's filters. For `push`, `branches` and `tags` filter the ref:
   when only `branches` is given, a tag push starts nothing, and when only `tags` is given, a
   branch push starts nothing. `paths` filters the changed files, and path filters are not
   evaluated for pushes of tags.
   https://docs.github.com/actions/writing-workflows/workflow-syntax-for-github-actions#onpushpull_requestpull_request_targetpathspaths-ignore
   https://docs.github.com/actions/writing-workflows/workflow-syntax-for-github-actions#onpushbranchestagsbranches-ignoretags-ignore
2. **A push or pull request made with `GITHUB_TOKEN` starts no workflow** (only
   `workflow_dispatch` and `repository_dispatch` are exempt). A GitHub App's installation
   token or a personal token does start them.
   https://docs.github.com/actions/security-for-github-actions/security-guides/automatic-token-authentication#using-the-github_token-in-a-workflow
3. **`[skip ci]`** (or `[ci skip]`, `[no ci]`, `[skip actions]`, `[actions skip]`) in the head
   commit's message skips the `push` and `pull_request` workflows for that commit.
   https://docs.github.com/actions/managing-workflow-runs-and-deployments/managing-workflow-runs/skipping-workflow-runs
4. **A `schedule` run has no inputs.** `inputs` is only filled for `workflow_dispatch` and
   `workflow_call`, so `inputs.x` is empty in a scheduled run, whatever the defaults say.
   https://docs.github.com/actions/writing-workflows/choosing-what-your-workflow-does/accessing-contextual-information-about-workflow-runs#inputs-context
5. **A pull request runs on its merge ref.** For `pull_request`, `GITHUB_REF` is
   `refs/pull/N/merge` and `GITHUB_SHA` is the last merge commit of the head into the base's
   tip, not the head commit. A pull request whose head does not merge cleanly has no merge
   commit, and its `pull_request` workflows do not run until the conflict is resolved.
   https://docs.github.com/actions/writing-workflows/choosing-when-your-workflow-runs/events-that-trigger-workflows#pull_request
6. **A `schedule` event starts the workflows whose cron fired.** Each cron of a workflow's
   `on.schedule` fires on its own (in the default branch's workflow files), and
   `github.event.schedule` is the cron that fired; a workflow scheduled at other times does
   not start.
   https://docs.github.com/actions/writing-workflows/choosing-when-your-workflow-runs/events-that-trigger-workflows#schedule
7. **A job with `needs:` runs after the jobs it needs, and only if they succeeded.** When a
   needed job fails or is skipped, the job is skipped too, unless its `if:` uses a status
   function (`always()`, `failure()`, `cancelled()`; `success()` is what an `if:` without one
   implies). act does this itself (it logs `Skipping job '<name>' due to 'success()'` with
   `-v`); `skipped_after_failure` says which jobs the rehearsal must then see skipped.
   https://docs.github.com/actions/writing-workflows/workflow-syntax-for-github-actions#jobsjob_idneeds
8. **The runner's environment.** Every step sees `CI=true`, `GITHUB_ACTIONS=true`,
   `GITHUB_EVENT_NAME`, `GITHUB_REF`, `GITHUB_SHA`, `GITHUB_REPOSITORY` and the rest.
   https://docs.github.com/actions/writing-workflows/choosing-what-your-workflow-does/store-information-in-variables#default-environment-variables

What act does not tell the rehearsal is which token pushed a commit. The only workflow step
that pushes a branch itself is pipeline.yml's commit-back, and the bot-token action lets it
run only with a GitHub App token; it commits as `driftline-pipeline[bot]`. So a new commit by
that author counts as pushed with an App token. The stand-in for create-pull-request records
the token it was given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from driftline.core.config import parse_yaml

SKIP_MARKERS = ("[skip ci]", "[ci skip]", "[no ci]", "[skip actions]", "[actions skip]")
APP, GITHUB_TOKEN, USER = "app", "github-token", "user"
PIPELINE_BOT = "driftline-pipeline[bot]"


@dataclass(frozen=True)
class Event:
    """One event on the repository, as GitHub sees it."""

    name: str  # push, pull_request, schedule, workflow_dispatch
    ref: str = ""  # refs/heads/x or refs/tags/x (push); the base branch (pull_request)
    actor: str = USER  # USER, APP or GITHUB_TOKEN: what made the push or the pull request
    message: str = ""  # the head commit's message (push, pull_request)
    changed: tuple[str, ...] = ()  # files the push or the pull request changes
    cron: str = ""  # schedule only: the cron that fired, e.g. "17 6 * * 1"
    inputs: dict = field(default_factory=dict, hash=False)  # workflow_dispatch only


def _glob(pattern: str, value: str) -> bool:
    """GitHub's filter globs: `*` stays within a path segment, `**` crosses them."""
    regex = re.escape(pattern).replace(r"\*\*", "\0").replace(r"\*", "[^/]*").replace("\0", ".*")
    return re.fullmatch(regex, value) is not None


def _any(patterns: list[str], value: str) -> bool:
    return any(_glob(p, value) for p in patterns)


def _passes_push_filters(spec: dict, event: Event) -> bool:
    kind, _, name = event.ref.removeprefix("refs/").partition("/")
    branches = spec.get("branches"), spec.get("branches-ignore")
    tags = spec.get("tags"), spec.get("tags-ignore")
    has_branch_filter, has_tag_filter = any(branches), any(tags)
    if kind == "tags":
        if has_branch_filter and not has_tag_filter:
            return False  # rule 1: only branches given, a tag push starts nothing
        if tags[0] is not None and not _any(tags[0], name):
            return False
        # rule 1: path filters are not evaluated for tags
        return tags[1] is None or not _any(tags[1], name)
    if has_tag_filter and not has_branch_filter:
        return False
    if branches[0] is not None and not _any(branches[0], name):
        return False
    if branches[1] is not None and _any(branches[1], name):
        return False
    return _passes_paths(spec, event)


def _passes_paths(spec: dict, event: Event) -> bool:
    if "paths" in spec:
        return any(_any(spec["paths"], path) for path in event.changed)
    if "paths-ignore" in spec:
        return any(not _any(spec["paths-ignore"], path) for path in event.changed)
    return True


def triggers(workflow: dict) -> dict:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    if isinstance(on, str):
        return {on: {}}
    if isinstance(on, list):
        return {name: {} for name in on}
    return {name: spec or {} for name, spec in on.items()}


def starts(workflow: dict, event: Event) -> bool:
    """Whether GitHub starts ``workflow`` for ``event``."""
    on = triggers(workflow)
    if event.name not in on:
        return False
    if event.name in ("push", "pull_request"):
        if event.actor == GITHUB_TOKEN:
            return False  # rule 2
        if any(marker in event.message.lower() for marker in SKIP_MARKERS):
            return False  # rule 3
    spec = on[event.name]
    if event.name == "push":
        return _passes_push_filters(spec, event)
    if event.name == "pull_request":
        base_ok = "branches" not in spec or _any(spec["branches"], event.ref)
        return base_ok and _passes_paths(spec, event)
    if event.name == "schedule":
        return event.cron in crons(workflow)  # rule 6
    return True


def crons(workflow: dict) -> list[str]:
    """The crons of a workflow's `on.schedule` (none when it has no schedule)."""
    schedule = triggers(workflow).get("schedule") or []
    return [entry["cron"] for entry in schedule]


def skipped_after_failure(workflow: dict, failed: str) -> set[str]:
    """The jobs GitHub skips when job ``failed`` fails (rule 7): every job that needs it,
    directly or through another job, and whose `if:` calls no status function."""
    jobs = workflow["jobs"]
    skipped: set[str] = set()
    grew = True
    while grew:
        grew = False
        for name, job in jobs.items():
            needs = job.get("needs") or []
            needs = [needs] if isinstance(needs, str) else needs
            if name in skipped or not ({failed} | skipped) & set(needs):
                continue
            if re.search(r"\b(always|failure|cancelled)\(\)", str(job.get("if", ""))):
                continue
            skipped.add(name)
            grew = True
    return skipped


def workflows_for(root: Path, event: Event) -> list[str]:
    """The names of the workflows under ``root``/.github/workflows that ``event`` starts."""
    found = []
    for path in sorted((root / ".github" / "workflows").glob("*.yml")):
        if starts(parse_yaml(path.read_text()), event):
            found.append(path.name)
    return found


def event_inputs(workflow: dict, event: Event) -> dict:
    """`inputs` as the run sees them: the given values over the defaults for a manual run,
    and nothing at all for a scheduled one (rule 4)."""
    if event.name != "workflow_dispatch":
        return {}
    declared = (triggers(workflow)["workflow_dispatch"].get("inputs")) or {}
    values = {name: spec.get("default") for name, spec in declared.items()}
    return {**values, **event.inputs}


def push_actor(author: str) -> str:
    """Who pushed a commit the rehearsal did not push itself (see the module docstring)."""
    return APP if author == PIPELINE_BOT else GITHUB_TOKEN
