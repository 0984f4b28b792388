"""Edits to ``params.yaml`` as text, so that every comment and the layout stay as they are.
The caller parses the result back and checks it before it replaces the file."""

from __future__ import annotations

import re

from driftline.core.errors import DriftlineError


def set_window(text: str, start: str, end: str) -> str:
    """``params.yaml`` text with ``train.window.start`` and ``end`` replaced, comments and
    layout kept. The caller re-reads the result to check it."""
    lines = text.splitlines(keepends=True)
    section = block(lines, 0, len(lines), "train")
    window = block(lines, section[0] + 1, section[1], "window")
    found = set()
    for i in range(window[0] + 1, window[1]):
        match = re.match(r"^(\s+)(start|end)(\s*:\s*)([^#\n]*?)(\s*(#.*)?\n?)$", lines[i])
        if match:
            key = match.group(2)
            value = start if key == "start" else end
            lines[i] = f'{match.group(1)}{key}{match.group(3)}"{value}"{match.group(5)}'
            found.add(key)
    if found != {"start", "end"}:
        raise DriftlineError("params.yaml: train.window needs 'start:' and 'end:' lines")
    return "".join(lines)


def block(lines: list[str], begin: int, stop: int, key: str) -> tuple[int, int]:
    """The line span [header, end) of the mapping ``key:`` between ``begin`` and ``stop``."""
    for i in range(begin, stop):
        match = re.match(rf"^(\s*){key}\s*:\s*(#.*)?$", lines[i])
        if match:
            indent = len(match.group(1))
            end = i + 1
            while end < stop and (
                not lines[end].strip()
                or lines[end].lstrip().startswith("#")
                or len(lines[end]) - len(lines[end].lstrip()) > indent
            ):
                end += 1
            return i, end
    raise DriftlineError(f"params.yaml: no '{key}:' block found to edit")


def replace_block(text: str, key: str, new: str | None) -> str:
    """``text`` with the top-level block ``key:`` (its header, body and the comments inside)
    replaced by ``new`` (whole lines, or None to remove it)."""
    lines = text.splitlines(keepends=True)
    start, end = block(lines, 0, len(lines), key)
    while end > start + 1 and lines[end - 1].lstrip().startswith("#"):
        end -= 1  # comments just before the next block belong to it
    return "".join(lines[:start] + ([new] if new else []) + lines[end:])
