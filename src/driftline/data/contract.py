"""The data contract of a raw batch, checked with pandera.

``contract.yaml`` (loaded by ``config.load_contract``) lists every column with its type,
nullability, range and known categories, the columns that date a row, the batch period and
the rules between columns. ``schema`` turns it into a pandera ``DataFrameSchema``;
``read_batch`` and ``scan_batch`` read a file against it in chunks and refuse any violation
with a message naming the file, the column, the row (the file's line number) and the rule.

Unknown categories are not violations: they are drift, counted and reported.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from driftline.core.config import TARGET_NUMERIC_RULES, positive_classes
from driftline.core.errors import DriftlineError
from driftline.data.dataset import row_times

if TYPE_CHECKING:
    import pandera.pandas as pa

MISSING_TOKENS = ["", "NA"]
DTYPES = {"int": "Int64", "float": "float64", "str": "str"}
CHUNK_ROWS = 100_000
PERIOD_FREQ = {"month": "M", "day": "D"}
MAX_REPORTED = 5
CLASSES = "target_classes"  # the check of with_target_classes


def schema(contract: dict[str, Any]) -> pa.DataFrameSchema:
    """The pandera schema of a contract: one coercing column per contract column, plus the
    row rules of ``empty_only_with`` (a column may be empty only where its partner is)."""
    import pandera.pandas as pa  # here: half a second to import, and only a check needs it

    columns = {}
    for name, spec in contract["columns"].items():
        checks = []
        if spec["type"] != "str":
            checks.append(pa.Check(_finite, name="finite"))
        if "range" in spec:
            checks.append(pa.Check.in_range(*spec["range"]))
        if "classes" in spec:
            allowed = _allowed(spec)
            checks.append(pa.Check(lambda s, a=allowed: s.astype("str").isin(a), name=CLASSES))
        columns[name] = pa.Column(
            DTYPES[spec["type"]], checks, nullable=bool(spec.get("nullable")), coerce=True
        )
    frame_checks = [
        pa.Check(
            lambda df, column=column, partner=partner: df[column].notna() | df[partner].isna(),
            name=name,
        )
        for (column, partner), name in _row_rules(contract).items()
    ]
    return pa.DataFrameSchema(columns, checks=frame_checks)


def with_target_classes(contract: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    """The contract plus the check that params.yaml's ``target`` adds: under a rule on
    classes (``equals``, ``in``) every value of the target column that is not empty must be
    a positive or a negative class, or the batch is refused (``ingest`` and ``prepare``). A
    numeric rule adds nothing: the column's ``range`` bounds it."""
    if next(iter(target["positive"])) in TARGET_NUMERIC_RULES:
        return contract
    column = target["column"]
    classes = {
        "positive": [str(v) for v in positive_classes(target)],
        "negative": [str(v) for v in target["negative"]],
    }
    spec = {**contract["columns"][column], "classes": classes}
    return {**contract, "columns": {**contract["columns"], column: spec}}


def _allowed(spec: dict[str, Any]) -> list[str]:
    return spec["classes"]["positive"] + spec["classes"]["negative"]


def _row_rules(contract: dict[str, Any]) -> dict[tuple[str, str], str]:
    """The ``empty_only_with`` rules, each by its (column, partner) and its message."""
    pairs = (contract.get("empty_only_with") or {}).items()
    return {(c, p): f"'{c}' is empty but '{p}' is not" for c, p in pairs}


@dataclass
class BatchSummary:
    """What a scan of a batch file found: rows, its period, unseen categories and the
    columns dropped because the contract does not list them."""

    rows: int = 0
    period: str | None = None
    unseen: Counter = field(default_factory=Counter)
    dropped_columns: list[str] = field(default_factory=list)


def read_batch(path: str | Path, contract: dict[str, Any]) -> pd.DataFrame:
    """Read a raw batch file whole, checked and typed by the contract, its rows' times too,
    as ``scan_batch`` checks them (the prepare stage)."""
    summary, frames = BatchSummary(), []
    for _, typed in _validated_chunks(Path(path), contract, summary):
        _check_period(typed, contract, summary, Path(path))
        summary.rows += len(typed)
        frames.append(typed)
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def scan_batch(path: str | Path, contract: dict[str, Any], sink: Any | None = None) -> BatchSummary:
    """Check a batch file chunk by chunk, never holding it whole in memory.

    Parameters
    ----------
    path : str or Path
        A CSV (UTF-8) or parquet file.
    contract : dict
        The loaded contract.
    sink : binary file, optional
        Receives the batch as canonical CSV text (contract columns only, ``NA`` for missing,
        Unix newlines) as it is read, so a file is parsed once.

    Returns
    -------
    BatchSummary

    Raises
    ------
    DriftlineError
        On any contract violation, an unreadable file, or rows outside the batch's period
        (the period of its first row).
    """
    summary = BatchSummary()
    for text, typed in _validated_chunks(Path(path), contract, summary):
        _check_period(typed, contract, summary, Path(path))
        _count_unseen(typed, contract, summary)
        if sink is not None:
            sink.write(canonical_csv(text, header=summary.rows == 0).encode("utf-8"))
        summary.rows += len(typed)
    return summary


def canonical_csv(text: pd.DataFrame, header: bool = True) -> str:
    """The one CSV spelling of a text-valued batch: no index, ``NA`` for missing, ``\\n``."""
    return text.to_csv(index=False, header=header, lineterminator="\n", na_rep="NA")


def periods(frame: pd.DataFrame, contract: dict[str, Any]) -> pd.Series:
    """The period (e.g. ``2013-07``) of every row, from the contract's time columns."""
    return row_times(frame, contract).dt.to_period(PERIOD_FREQ[contract["period"]]).astype("str")


def _finite(series: pd.Series) -> pd.Series:
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    return pd.Series(np.isfinite(values) | np.isnan(values), index=series.index)


def is_parquet(path: Path) -> bool:
    """Whether an input file is a parquet file (by its magic bytes), else taken as a CSV."""
    with path.open("rb") as handle:
        return handle.read(4) == b"PAR1"


def csv_header(path: Path) -> list[str]:
    """A CSV file's column names, read as every input CSV is: UTF-8, with or without the
    byte-order mark that spreadsheet exports put first."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return next(csv.reader(handle), [])
    except UnicodeDecodeError as exc:
        raise DriftlineError(f"{path}: not UTF-8 text: wrong encoding or not a CSV") from exc


def text_chunks(path: Path) -> Iterator[pd.DataFrame]:
    """The file as text-valued chunks (missing values as NA), whatever its format."""
    if not path.is_file():
        raise DriftlineError(f"{path}: file not found")
    if is_parquet(path):
        yield from _parquet_chunks(path)
        return
    with path.open("rb") as handle:
        head = handle.read(4096)
    if b"\x00" in head:
        raise DriftlineError(f"{path}: a binary file, neither a CSV nor a parquet file")
    try:
        reader = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_values=MISSING_TOKENS,
            encoding="utf-8",
            encoding_errors="strict",
            chunksize=CHUNK_ROWS,
        )
        with reader:
            empty = True
            for chunk in reader:
                if len(chunk):
                    empty = False
                    yield chunk
            if empty:
                raise DriftlineError(f"{path}: the batch has a header but no rows")
    except DriftlineError:
        raise
    except pd.errors.EmptyDataError as exc:
        raise DriftlineError(f"{path}: the file is empty") from exc
    except UnicodeDecodeError as exc:
        raise DriftlineError(
            f"{path}: not UTF-8 text (byte {exc.start} of a chunk): wrong encoding or not a CSV"
        ) from exc
    except (pd.errors.ParserError, ValueError) as exc:
        raise DriftlineError(f"{path}: not a well-formed CSV file: {exc}") from exc


def _parquet_chunks(path: Path) -> Iterator[pd.DataFrame]:
    try:
        file = pq.ParquetFile(path)
        empty = True
        for batch in file.iter_batches(batch_size=CHUNK_ROWS):
            if batch.num_rows == 0:
                continue
            empty = False
            frame = batch.to_pandas()
            for name in frame.select_dtypes("float").columns:
                # pandas exports an int column with gaps as float: 517.0 means 517.
                values = frame[name].dropna()
                if values.size and np.all(np.isfinite(values)) and np.all(values % 1 == 0):
                    frame[name] = frame[name].astype("Int64")
            text = frame.astype("str").where(frame.notna(), np.nan)
            yield text.mask(text.isin(MISSING_TOKENS))
    except DriftlineError:
        raise
    except Exception as exc:  # pyarrow raises many types for a damaged file
        raise DriftlineError(f"{path}: not a readable parquet file: {exc}") from exc
    if empty:
        raise DriftlineError(f"{path}: the batch has no rows")


def _validated_chunks(
    path: Path, contract: dict[str, Any], summary: BatchSummary
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Yield ``(text, typed)`` per chunk: the contract columns as text, and typed."""
    import pandera.pandas as pa

    checker = schema(contract)
    wanted = list(contract["columns"])
    first_line = 2  # line 1 is the header
    for chunk in text_chunks(path):
        if first_line == 2:
            _check_columns(list(chunk.columns), contract, summary, path)
        text = chunk[wanted].reset_index(drop=True)
        try:
            typed = checker.validate(text.copy(), lazy=True)
        except pa.errors.SchemaErrors as exc:
            raise DriftlineError(_describe(exc.failure_cases, contract, path, first_line)) from exc
        first_line += len(chunk)
        yield text, typed


def _check_columns(
    columns: list[str], contract: dict[str, Any], summary: BatchSummary, path: Path
) -> None:
    missing = [c for c in contract["columns"] if c not in columns]
    if missing:
        raise DriftlineError(f"{path}: missing required column(s): {', '.join(missing)}")
    extra = [c for c in columns if c not in contract["columns"]]
    if extra and contract.get("extra_columns", "refuse") == "refuse":
        raise DriftlineError(
            f"{path}: unexpected column(s) {', '.join(extra)}; the contract does not list "
            "them (set extra_columns: drop in contract.yaml to drop them instead)"
        )
    summary.dropped_columns = extra


def _describe(failures: pd.DataFrame, contract: dict[str, Any], path: Path, first_line: int) -> str:
    """One line per broken rule: its first offending row, in row order. A row rule is named
    once per row, though pandera lists its failure once per column of the row."""
    problems: dict[tuple[str, str], str] = {}
    row_rules = set(_row_rules(contract).values())
    for row in failures.sort_values("index", na_position="last").itertuples():
        column = row.column if isinstance(row.column, str) else None
        if str(row.check) in row_rules:
            column = None
        rule = _rule(str(row.check), column, contract)
        # A value that failed coercion also fails the later checks with no row: skip those.
        if (column, rule) in problems or row.index is None or pd.isna(row.index):
            continue
        line = int(row.index) + first_line
        if column:  # a column's check names the offending value; a row rule does not
            value = row.failure_case
            value = value.item() if hasattr(value, "item") else value  # 13, not np.int64(13)
            problems[(column, rule)] = f"column '{column}', row {line}: {rule} (value {value!r})"
        else:
            problems[(column, rule)] = f"row {line}: {rule}"
    return _broken(path, list(problems.values()))


def _broken(path: Path, lines: list[str]) -> str:
    """The refusal of a file: its first ``MAX_REPORTED`` broken rules, and how many more."""
    more = f"\n  ... and {len(lines) - MAX_REPORTED} more" if len(lines) > MAX_REPORTED else ""
    body = "\n  ".join(lines[:MAX_REPORTED])
    return f"{path}: breaks the data contract:\n  {body}{more}"


def _rule(check: str, column: str | None, contract: dict[str, Any]) -> str:
    spec = contract["columns"].get(column, {}) if column else {}
    if check.startswith(("coerce_dtype", "dtype(")):
        return f"must be {spec.get('type', 'typed')}"
    if check == "not_nullable":
        return "must not be empty"
    if check.startswith("in_range"):
        low, high = spec["range"]
        return f"must lie in [{low}, {high}]"
    if check == "finite":
        return "must be a finite number"
    if check == CLASSES:
        classes = spec["classes"]
        return (
            f"must be a class of params.yaml's target: {' or '.join(classes['positive'])} "
            f"(label 1, target.positive) or {' or '.join(classes['negative'])} "
            "(label 0, target.negative)"
        )
    return check


def _check_period(
    typed: pd.DataFrame, contract: dict[str, Any], summary: BatchSummary, path: Path
) -> None:
    found = periods(typed, contract)
    invalid = (found.isna() | (found == "NaT")).to_numpy()
    if invalid.any():
        bad = int(np.flatnonzero(invalid)[0])
        raise DriftlineError(
            f"{path}: row {summary.rows + bad + 2}: the time column(s) "
            f"{_time_names(contract)} do not form a valid date"
        )
    if summary.period is None:
        summary.period = str(found.iloc[0])
    outside = (found != summary.period).to_numpy()
    if outside.any():
        bad = int(np.flatnonzero(outside)[0])
        raise DriftlineError(
            f"{path}: row {summary.rows + bad + 2} falls in {found.iloc[bad]}, outside the "
            f"batch's period {summary.period}: one batch holds one {contract['period']}"
        )


def _time_names(contract: dict[str, Any]) -> str:
    time = contract["time"]
    return time if isinstance(time, str) else ", ".join(time)


def _count_unseen(typed: pd.DataFrame, contract: dict[str, Any], summary: BatchSummary) -> None:
    for name, spec in contract["columns"].items():
        known = spec.get("categories")
        if known:
            values = typed[name].dropna()
            unseen = values[~values.isin([str(k) for k in known])]
            summary.unseen.update(f"{name}={v}" for v in unseen)


def restricted(contract: dict[str, Any], columns: list[str]) -> dict[str, Any]:
    """The contract of the named columns only: other columns of a file are dropped, and the
    row rules keep only the pairs it still lists (``driftline predict``'s input)."""
    pairs = contract.get("empty_only_with") or {}
    return {
        **contract,
        "columns": {name: contract["columns"][name] for name in columns},
        "empty_only_with": {a: b for a, b in pairs.items() if a in columns and b in columns},
        "extra_columns": "drop",
    }


def pending_contract(contract: dict[str, Any]) -> dict[str, Any]:
    """The contract of a pending batch: every column but ``labels.later`` (which arrive with
    the labels), and the row rules between the columns it keeps."""
    later = set(contract["labels"]["later"])
    kept = [name for name in contract["columns"] if name not in later]
    return {**restricted(contract, kept), "extra_columns": contract.get("extra_columns", "refuse")}


def file_columns(path: str | Path) -> list[str]:
    """An input file's column names (a CSV's header, a parquet file's schema)."""
    path = Path(path)
    if not path.is_file():
        raise DriftlineError(f"{path}: file not found")
    if is_parquet(path):
        try:
            return list(pq.ParquetFile(path).schema_arrow.names)
        except Exception as exc:  # pyarrow raises many types for a damaged file
            raise DriftlineError(f"{path}: not a readable parquet file: {exc}") from exc
    return csv_header(path)


def arrival_contract(path: str | Path, contract: dict[str, Any], target_column: str):
    """The contract a file is checked against, and whether it is a pending batch: one
    without the target's column, where contract.yaml's ``labels.pending`` allows it. A
    pending file must hold none of ``labels.later``; without that permission the full
    contract refuses the missing columns."""
    labels = contract.get("labels") or {}
    if labels.get("pending") != "allow":
        return contract, False
    try:
        columns = file_columns(path)
    except DriftlineError:  # unreadable: the contract's own reading says how, in full
        return contract, False
    if target_column in columns:
        return contract, False
    early = [name for name in labels["later"] if name in columns]
    if early:
        raise DriftlineError(
            f"{path}: no '{target_column}' column, so a batch pending labels, but it holds "
            f"{', '.join(early)} of contract.yaml's labels.later, which arrive with the labels: "
            "drop them, or give the target's column too"
        )
    return pending_contract(contract), True


def check_file(path: str | Path, contract: dict[str, Any]) -> None:
    """Check a whole file against the contract with pandera, chunk by chunk, and refuse its
    first violations by file, column, row and rule. Exact but slow (a few microseconds a
    row): ``driftline predict`` runs it only to explain a value its typed reader refused."""
    for _ in _validated_chunks(Path(path), contract, BatchSummary()):
        pass


def check_typed(frame: pd.DataFrame, contract: dict[str, Any], path: Path, first_line: int) -> None:
    """The contract's rules on a frame already typed (ints and floats as numbers, text as
    text), vectorised: what :func:`schema` checks but the coercion, at a small fraction of
    pandera's cost, with the same message. ``first_line`` is the file line of the frame's
    first row. Every contract column must be in ``frame``; ``tests/unit/data/test_contract.py``
    checks that both ways agree."""
    found: list[tuple[int, str]] = []

    def report(column: str | None, bad: np.ndarray, rule: str, values: pd.Series | None) -> None:
        if not bad.any():
            return
        row = int(np.flatnonzero(bad)[0])
        if column is None:
            found.append((row, f"row {row + first_line}: {rule}"))
            return
        value = values.iloc[row]
        value = value.item() if hasattr(value, "item") else value
        found.append((row, f"column '{column}', row {row + first_line}: {rule} (value {value!r})"))

    for name, spec in contract["columns"].items():
        series = frame[name]
        empty = series.isna().to_numpy()
        if not spec.get("nullable"):
            report(name, empty, _rule("not_nullable", name, contract), series)
        if "classes" in spec:
            known = series.astype("str").isin(_allowed(spec)).to_numpy()
            report(name, ~known & ~empty, _rule(CLASSES, name, contract), series)
        if spec["type"] == "str":
            continue
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        report(name, ~np.isfinite(values) & ~empty, _rule("finite", name, contract), series)
        if "range" in spec:
            low, high = spec["range"]
            with np.errstate(invalid="ignore"):
                outside = ((values < low) | (values > high)) & ~empty
            report(name, outside, _rule("in_range", name, contract), series)
    for column, partner in (contract.get("empty_only_with") or {}).items():
        bad = frame[column].isna().to_numpy() & frame[partner].notna().to_numpy()
        report(None, bad, f"'{column}' is empty but '{partner}' is not", None)
    if found:
        lines = [text for _, text in sorted(found, key=lambda item: item[0])]
        raise DriftlineError(_broken(path, lines))
