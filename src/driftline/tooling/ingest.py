"""``driftline ingest``: add new batches safely.

Every file is checked against the data contract in one streamed pass, which also writes its
canonical CSV to a temp file beside its destination and hashes it. Only when every file is
accepted does anything change: the files are renamed into their group's folder,
``data/raw/<group>/`` (a month, or a quarter of days), the folders tracked with one
``dvc add``, the batches registered in ``data/batches.yaml`` (a new group with them, so
``dvc.yaml`` runs its stages). If any of that fails, it is undone. A lock file
keeps two ingests from interleaving, and a journal written before the first change lets the
next ingest undo one that was killed half-way (SIGKILL, power loss), so a batch is always
either wholly added or not at all.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from driftline.core import paths
from driftline.core.batches import group_of, grouped
from driftline.core.config import (
    REGISTRY_FILE,
    check_against_contract,
    load_contract,
    load_params,
)
from driftline.core.errors import DriftlineError
from driftline.core.failpoint import failpoint
from driftline.core.io import write_bytes, write_text
from driftline.core.log import get_logger
from driftline.data.contract import (
    BatchSummary,
    arrival_contract,
    scan_batch,
    with_target_classes,
)
from driftline.data.raw_files import dvc_file, unregistered
from driftline.tooling.registry import (
    Batch,
    add_meta,
    check_name,
    dvc_add,
    register,
    registered,
)

SUFFIXES = (".csv", ".parquet")
# Inside the repository (so renames into data/raw are atomic) but ignored by git.
STAGING = Path(".dvc/tmp/driftline-ingest")
LOCK_FILE = Path(".dvc/tmp/driftline-ingest.lock")
JOURNAL = Path(".dvc/tmp/driftline-ingest.journal")
LOCK_TIMEOUT_S = 120.0


@dataclass
class Candidate:
    """A checked incoming file, its canonical CSV in a temp file, not yet in the repo."""

    source: str
    staged: Path
    md5: str
    summary: BatchSummary
    name: str = ""
    pending: bool = False  # arrived without its labels


@dataclass
class Report:
    taken: list[Candidate] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (source, why)


def ingest(
    sources: list[Path], name: str | None = None, dry_run: bool = False, skip_known: bool = False
) -> Report:
    """Check ``sources`` and, unless ``dry_run``, add them as batches in time order.

    Parameters
    ----------
    sources : list of Path
        Local CSV or parquet files.
    name : str, optional
        The batch name for a single source; by default the period of its rows.
    dry_run : bool
        Check and report only; change nothing.
    skip_known : bool
        Skip files whose content is already a batch (for landing folders) instead of
        refusing them.

    Raises
    ------
    DriftlineError
        If any source breaks the contract, collides with or overlaps a registered batch,
        or arrives out of time order. Then nothing is changed.
    """
    if name is not None and len(sources) != 1:
        raise DriftlineError("--name applies to a single file")
    logger = get_logger()
    started = time.perf_counter()
    with exclusive(), tempfile.TemporaryDirectory(prefix="batch-", dir=staging()) as tmp:
        recover(Path(tmp))
        params = load_params(check_window=False)
        contract = load_contract()
        check_against_contract(params, contract)
        contract = with_target_classes(contract, params["target"])
        report = Report()
        existing = registered(params)
        problems = []
        for index, source in enumerate(sources):
            try:
                candidate = stage_arrival(source, contract, params, Path(tmp) / f"{index}.csv")
            except DriftlineError as exc:
                problems.append(str(exc))
                continue
            candidate.name = check_name(name or candidate.summary.period or "")
            known = next((b for b in existing if b.md5 == candidate.md5), None)
            twin = next((c for c in report.taken if c.md5 == candidate.md5), None)
            why = (
                f"already ingested as {known.name}"
                if known
                else f"same content as {twin.source}"
                if twin
                else None
            )
            if why is not None and skip_known:
                report.skipped.append((str(source), why))
                continue
            if why is not None:
                problems.append(f"{source}: {why}")
                continue
            report.taken.append(candidate)
        report.taken.sort(key=lambda c: (c.summary.period or "", c.name))
        problems += _conflicts(report.taken, existing)
        problems += _stray_files(report.taken, [b.name for b in existing])
        if problems:
            raise DriftlineError("nothing was ingested:\n" + "\n".join(problems))
        for candidate in report.taken:
            unseen = sum(candidate.summary.unseen.values())
            logger.info(
                "%s -> %s: %d rows, period %s%s%s%s",
                candidate.source,
                candidate.name,
                candidate.summary.rows,
                candidate.summary.period,
                f", {unseen} rows with unseen categories" if unseen else "",
                f", dropped columns {candidate.summary.dropped_columns}"
                if candidate.summary.dropped_columns
                else "",
                ", pending labels (driftline ingest --labels FILE attaches them)"
                if candidate.pending
                else "",
            )
        if report.taken and not dry_run:
            _commit(report.taken)
    logger.info(
        "%s %d batch(es), skipped %d, in %.1f s",
        "would ingest" if dry_run else "ingested",
        len(report.taken),
        len(report.skipped),
        time.perf_counter() - started,
    )
    return report


def ingest_from(location: str, dry_run: bool = False) -> Report:
    """Ingest, in time order, every CSV or parquet file at a landing location (a folder or
    any fsspec URL such as ``s3://bucket/incoming/``) whose content is not a batch yet."""
    from fsspec.core import url_to_fs
    from fsspec.implementations.local import LocalFileSystem

    try:
        fs, root = url_to_fs(location)
        listed = sorted(p for p in fs.find(root) if p.endswith(SUFFIXES))
    except Exception as exc:  # fsspec backends raise their own types
        raise DriftlineError(f"{location}: cannot list the landing location: {exc}") from exc
    get_logger().info("%s: %d candidate file(s)", location, len(listed))
    if isinstance(fs, LocalFileSystem):
        return ingest([Path(p) for p in listed], dry_run=dry_run, skip_known=True)
    with tempfile.TemporaryDirectory(prefix="landing-", dir=staging()) as tmp:
        local = []
        for index, remote in enumerate(listed):
            target = Path(tmp) / f"{index}-{Path(remote).name}"
            try:
                fs.get_file(remote, str(target))
            except Exception as exc:  # fsspec backends raise their own types
                raise DriftlineError(
                    f"{remote}: download failed, nothing was ingested: {exc}"
                ) from exc
            local.append(target)
        report = ingest(local, dry_run=dry_run, skip_known=True)
    return report


def next_steps(report: Report) -> str:
    if not report.taken:
        return "Nothing new to ingest."
    names = [c.name for c in report.taken]
    pending = [c.name for c in report.taken if c.pending]
    return "\n".join(
        [
            f"Ingested {', '.join(names)}. Next:",
            *(
                [
                    f"  ({', '.join(pending)} pending labels: scored, checked for drift and its "
                    "quality estimated; driftline ingest --labels FILE attaches them later)"
                ]
                if pending
                else []
            ),
            "  dvc repro                 # prepares and scores only the new batch(es)",
            # data: the new .dvc files and DVC's .gitignore entries (the data is ignored).
            "  git add data dvc.lock metrics plots reports",
            f"  git commit -m 'Batch {', '.join(names)}'",
            "  dvc push                  # send the data to the DVC remote",
        ]
    )


def staging() -> Path:
    STAGING.mkdir(parents=True, exist_ok=True)
    paths.RAW.mkdir(parents=True, exist_ok=True)
    return STAGING


class _HashingWriter:
    """A binary sink that hashes what it writes."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.digest = hashlib.md5()

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        self.handle.write(data)


def stage_file(source: Path, contract: dict[str, Any], staged: Path) -> Candidate:
    """Check one file in one streamed pass, writing its canonical CSV and hashing it."""
    with staged.open("wb") as handle:
        sink = _HashingWriter(handle)
        summary = scan_batch(source, contract, sink=sink)
    return Candidate(str(source), staged, sink.digest.hexdigest(), summary)


def stage_arrival(
    source: Path, contract: dict[str, Any], params: dict[str, Any], staged: Path
) -> Candidate:
    """:func:`stage_file` for a new batch, labelled or pending (without the target's column,
    where the contract allows it: then every key must name one row, for the labels)."""
    checked, pending = arrival_contract(source, contract, params["target"]["column"])
    candidate = stage_file(source, checked, staged)
    if pending:
        from driftline.tooling.labels import check_unique_keys  # labels imports this module

        check_unique_keys(staged, contract["labels"]["key"], source)
    candidate.pending = pending
    return candidate


def _conflicts(taken: list[Candidate], existing: list[Batch]) -> list[str]:
    """Name collisions, period overlaps and out-of-order arrivals, against the registered
    batches and among the new ones."""
    problems = []
    names = {b.name for b in existing}
    periods = {b.period: b.name for b in existing if b.period}
    newest = max(periods, default=None)
    for candidate in taken:
        period = candidate.summary.period
        if candidate.name in names:
            problems.append(
                f"{candidate.source}: a batch named {candidate.name} exists with different "
                "content; choose another --name"
            )
        elif period in periods:
            problems.append(
                f"{candidate.source}: its rows fall in {period}, which batch "
                f"{periods[period]} already covers"
            )
        elif newest is not None and period is not None and period < newest:
            problems.append(
                f"{candidate.source}: its period {period} is older than the newest batch's "
                f"({newest}); batches must arrive in time order"
            )
        names.add(candidate.name)
        if period:
            periods[period] = candidate.name
            newest = max(newest or period, period)
    return problems


def _stray_files(taken: list[Candidate], registry: list[str]) -> list[str]:
    """The files in the new batches' group folders that no registered batch is: ``dvc add``
    of the folder would track them, and its prepare stage refuses them."""
    by_group = grouped(registry)
    groups = sorted({group_of(c.name) for c in taken})
    return [
        f"{path}: in the raw folder of group {group}, but not a registered batch; move it "
        "out of the folder (ingest it as a batch of its own if it is one)"
        for group in groups
        for path in unregistered(group, by_group.get(group, []))
    ]


def _commit(taken: list[Candidate]) -> None:
    """Move the staged files into their group folders, ``dvc add`` the folders, record the
    batches' meta and register them; on any failure, or at the next ingest after a kill,
    restore data/raw and the registry as they were (from the journal)."""
    registry_file = Path(REGISTRY_FILE)
    gitignore = paths.RAW / ".gitignore"
    folders = sorted({paths.raw(c.name).parent for c in taken})
    records = sorted({dvc_file(c.name) for c in taken})
    kept = [registry_file, gitignore, *records]
    journal = {
        "batches": [c.name for c in taken],
        "created": [str(paths.raw(c.name)) for c in taken],
        "folders": [str(f) for f in folders if not f.is_dir()],
        **saved_state(kept),
    }
    write_text(JOURNAL, json.dumps(journal))
    try:
        for candidate in taken:
            target = paths.raw(candidate.name)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(candidate.staged, target)
        failpoint("ingest-moved")
        dvc_add(folders)
        add_meta(
            {
                candidate.name: {
                    "period": candidate.summary.period,
                    "rows": candidate.summary.rows,
                    "source": Path(candidate.source).name,
                    "unseen_category_rows": sum(candidate.summary.unseen.values()),
                    **({"labels": "pending"} if candidate.pending else {}),
                }
                for candidate in taken
            }
        )
        register([c.name for c in taken], registry_file)
    except BaseException as exc:
        undo(journal)
        if isinstance(exc, DriftlineError):
            raise DriftlineError(f"{exc}\nnothing was ingested") from exc
        raise
    JOURNAL.unlink()


def saved_state(files: list[Path]) -> dict[str, Any]:
    """The journal's record of ``files`` before a change: the content of those that exist
    (``saved``) and the names of those that do not (``absent``), which :func:`undo` puts
    back and removes."""
    return {
        "saved": {
            str(p): base64.b64encode(p.read_bytes()).decode("ascii") for p in files if p.is_file()
        },
        "absent": [str(p) for p in files if not p.is_file()],
    }


def undo(journal: dict[str, Any]) -> None:
    """Put data/raw and the registry back as the journal found them, then drop the journal."""
    for name in journal["created"] + journal["absent"]:
        Path(name).unlink(missing_ok=True)
    for original, backup in journal.get("moved", {}).items():  # files set aside, put back
        if Path(backup).is_file():
            Path(original).parent.mkdir(parents=True, exist_ok=True)
            os.replace(backup, original)
    for name in journal.get("folders", []):
        with suppress(OSError):  # only if empty: nothing but this ingest's files were in it
            Path(name).rmdir()
    for name, content in journal["saved"].items():
        write_bytes(name, base64.b64decode(content))
    JOURNAL.unlink(missing_ok=True)


def recover(current: Path) -> None:
    """Under the lock: undo an ingest (or a replace or remove) that was killed half-way, as
    its journal shows, then remove the staged files of killed runs (after: a file set aside
    there is put back first)."""
    if JOURNAL.is_file():
        journal = json.loads(JOURNAL.read_text())
        undo(journal)
        get_logger().warning(
            "undid an interrupted %s of %s; run it again",
            journal.get("command", "ingest"),
            ", ".join(journal["batches"]),
        )
    for stale in STAGING.glob("batch-*"):
        if stale != current:
            shutil.rmtree(stale, ignore_errors=True)


@contextmanager
def exclusive() -> Iterator[None]:
    """Hold the ingest lock, waiting up to LOCK_TIMEOUT_S for another ingest to finish."""
    LOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
    with LOCK_FILE.open("w") as handle:
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        waiting = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waiting:
                    waiting = True
                    get_logger().info(
                        "another driftline ingest holds %s; waiting for it (at most %.0f s)",
                        LOCK_FILE,
                        LOCK_TIMEOUT_S,
                    )
                if time.monotonic() > deadline:
                    raise DriftlineError(
                        f"another driftline ingest holds {LOCK_FILE}; try again when it ends"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
