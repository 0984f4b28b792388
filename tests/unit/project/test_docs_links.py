"""Every relative link, image and repository path in README.md and docs/*.md exists.

What is checked, outside fenced code blocks (those hold commands and sample output):

- Markdown links and images, ``[text](target)`` and ``![alt](target)``, relative to the page:
  the file or folder must exist, and a ``#anchor`` must match a heading of the page it points
  to (GitHub's heading slugs). Links with a scheme (``https:``, ``mailto:``) are not checked.
- Inline code that names a repository path: a span without spaces that starts with a
  top-level entry of the repository and holds a ``/`` (``metrics/train.json``,
  ``src/driftline/``), or that ends in a known file extension (``dvc.lock``, ``tests.yml``).
  A path must exist; a ``*`` or ``<placeholder>`` in it must match at least one file; a bare
  file name must exist somewhere in the repository. A ``::test_name`` suffix is ignored.

Only files git knows count (tracked, or new and not ignored), so a file that ``make repro``
wrote into this checkout cannot make a reference pass here and then fail on a fresh clone.
Paths that exist only at run time are listed in GENERATED, each with what writes it.

Fast: no DVC, no network; it reads the pages and asks git for its file list.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[3]
PAGES = sorted(["README.md", *(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))])

# Paths the pages name that are written at run time, never committed: pattern -> what writes it.
GENERATED = {
    "data/raw/*/*.csv": "raw batches: `driftline demo materialize` or `ingest` (DVC-tracked)",
    "data/raw/*": "a group's raw folder: `driftline demo materialize` or `ingest` (DVC-tracked)",
    "data/raw/2013-07.dvc": "the README's example ingest of July",
    "data/incoming/*": "`driftline demo next`: the demo's landing folder (git-ignored)",
    "data/prepared/*": "DVC outputs of prepare@<group>: a folder per group",
    "data/prepared/*/*": "DVC outputs of prepare@<group>",
    "data/profiles/*": "DVC outputs of prepare@<group>: a folder per group",
    "data/profiles/*/*": "DVC outputs of prepare@<group>",
    "data/scores/*": "DVC outputs of score@<group>: a folder per group",
    "data/scores/*/*": "DVC outputs of score@<group>",
    "metrics/batches/*": "DVC outputs of score@<group> (cached, so its run-cache entry is saved)",
    "metrics/batches/*/*": "DVC outputs of score@<group>",
    "data/window/*": "DVC outputs of window",
    "models/*": "DVC outputs of train",
    "dvc_plots/*": "`dvc plots show`",
    "bench/results/*": "the benchmarks (git-ignored)",
    ".dvc/tmp/*": "DVC's and driftline ingest's local state",
    ".dvc/cache": "DVC's local cache",
    ".dvc/config.local": "`dvc remote add --local`: a clone's own remote settings",
}

KNOWN_EXTENSIONS = (
    ".py",
    ".md",
    ".yaml",
    ".yml",
    ".json",
    ".csv",
    ".png",
    ".lock",
    ".toml",
    ".txt",
    ".dvc",
    ".parquet",
    ".html",
    ".pkl",
    ".sh",
    ".cfg",
)
FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
PATH_CHARS = re.compile(r"^[\w.\-/*<>@]+$")


def repository_files() -> set[str]:
    """The files git knows: tracked, or new and not ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {name for name in listed.split("\0") if name}


FILES = repository_files()
FOLDERS = {str(parent) for name in FILES for parent in PurePosixPath(name).parents} - {"."}
NAMES = {PurePosixPath(p).name for p in FILES | FOLDERS}
TOP_LEVEL = {p.split("/")[0] for p in FILES} | {p.split("/")[0] for p in GENERATED}


def prose_lines(text: str):
    """(line number, line) for every line outside fenced code blocks."""
    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield number, line


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(text: str) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in prose_lines(text):
        match = HEADING.match(line)
        if match:
            base = slug(match.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def exists(path: str) -> bool:
    path = path.rstrip("/")
    if "*" in path:
        return any(fnmatch.fnmatchcase(p, path) for p in FILES | FOLDERS)
    return path in FILES or path in FOLDERS


def generated(path: str) -> bool:
    """A path written at run time, or the folder such paths go to."""
    path = path.rstrip("/")
    return any(
        fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path + "/x", pattern)
        for pattern in GENERATED
    )


def path_in_code(span: str) -> str | None:
    """The repository path a code span names, or None if it names none."""
    span = span.strip().split("::")[0]
    if "://" in span or not PATH_CHARS.match(span) or span.startswith(("/", "-", "~", "..")):
        return None
    span = re.sub(r"<[^<>]*>", "*", span)
    bare = span.rstrip("/")
    if "/" in span and span.split("/")[0] in TOP_LEVEL:
        return span
    if "/" not in bare and bare.lower().endswith(KNOWN_EXTENSIONS):
        return span
    return None


def check_page(page: str, text: str, read=lambda p: (ROOT / p).read_text()) -> list[str]:
    """Every broken link, anchor and path reference of one page, as readable lines."""
    problems = []
    here = PurePosixPath(page).parent
    own_anchors = anchors(text)
    for number, line in prose_lines(text):
        spans = [m.group(2) for m in CODE_SPAN.finditer(line)]
        prose = CODE_SPAN.sub("", line)
        targets = [m.group(1) for m in LINK.finditer(prose)]
        targets += [m.group(1) for m in REFERENCE_LINK.finditer(prose)]
        for target in targets:
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
                continue  # https:, mailto: and the like
            file_part, _, anchor = target.partition("#")
            if file_part:
                resolved = _normalize(str(here / file_part))
                if resolved is None or not exists(resolved):
                    problems.append(f"{page}:{number}: link {target!r}: no such file")
                    continue
                if anchor and resolved.endswith(".md") and anchor not in anchors(read(resolved)):
                    problems.append(f"{page}:{number}: link {target!r}: no heading #{anchor}")
            elif anchor and anchor not in own_anchors:
                problems.append(f"{page}:{number}: link {target!r}: no heading #{anchor}")
        for span in spans:
            path = path_in_code(span)
            if path is None or generated(path):
                continue
            bare = path.rstrip("/")
            found = exists(path) if "/" in bare else (bare in NAMES or exists(bare))
            if not found:
                problems.append(f"{page}:{number}: `{span}`: no such path in the repository")
    return problems


def _normalize(path: str) -> str | None:
    """Resolve '..' and '.' in a repository-relative path; None if it leaves the repository."""
    parts: list[str] = []
    for part in PurePosixPath(path).parts:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def test_the_pages_are_there():
    assert "README.md" in PAGES and len(PAGES) > 1, PAGES
    assert all(page in FILES for page in PAGES), "add new pages to git: " + ", ".join(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_every_link_and_path_exists(page):
    problems = check_page(page, (ROOT / page).read_text())
    assert not problems, "\n" + "\n".join(problems)


def test_the_check_finds_what_is_broken():
    page = "\n".join(
        [
            "# A page",
            "[fine](docs/monitoring.md#the-retrain-verdict) [fine](#a-page) `metrics/train.json`",
            "[gone](docs/nothing.md) [no heading](#nowhere) [bad anchor](docs/ci.md#nowhere)",
            "![gone](plots/nothing.png) `src/driftline/nothing.py` `nothing.yaml`",
            "`data/raw/<batch>.csv` `dvc_plots/index.html` `origin/<base>` https://example.com",
            "```bash",
            "cat docs/nothing-in-a-code-block.md   # [gone](nothing.md)",
            "```",
        ]
    )
    problems = check_page("README.md", page)
    assert [p.split(": ", 1)[1] for p in problems] == [
        "link 'docs/nothing.md': no such file",
        "link '#nowhere': no heading #nowhere",
        "link 'docs/ci.md#nowhere': no heading #nowhere",
        "link 'plots/nothing.png': no such file",
        "`src/driftline/nothing.py`: no such path in the repository",
        "`nothing.yaml`: no such path in the repository",
    ]
