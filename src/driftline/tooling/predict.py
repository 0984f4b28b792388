"""``driftline predict``: score a features-only file with the promoted model or a named
version, chunk by chunk, so memory follows the chunk and not the file.

Each chunk is read typed by the data contract (pyarrow), checked against the contract's
rules, turned into features by the same function as ``prepare@``
(:func:`driftline.data.dataset.feature_frame`), scored, appended to the output's temp file
and added to a running profile of the input. The output is renamed into place only when
every row is scored, so a refused or interrupted run leaves no output at all. Then one line
compares the input's profile with the model's training reference.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from driftline.core.errors import DriftlineError
from driftline.core.io import atomic_path
from driftline.core.log import get_logger, timed
from driftline.data.contract import (
    MISSING_TOKENS,
    check_file,
    check_typed,
    csv_header,
    is_parquet,
    restricted,
)
from driftline.data.dataset import feature_frame, input_columns
from driftline.monitoring.drift import column_drift, dataset_drift
from driftline.monitoring.profile import FrameProfile, NumericProfile
from driftline.tooling.model_rev import ModelVersion, load_version

CHUNK_ROWS = 100_000
DRIFT_EXIT = 3
OUTPUT_COLUMNS = ("probability", "decision", "model_version")
SUFFIXES = (".csv", ".parquet")
ARROW_TYPES = {"int": pa.int64(), "float": pa.float64(), "str": pa.string()}
TOP = 3
LOG_EVERY_S = 10.0
CSV_BLOCK_BYTES = 1 << 20
# Where the time of the chunk loop goes, in the closing log line: reading and typing the
# chunk, the contract check, the features, the model, the drift profile, the output.
PHASES = ("read", "check", "features", "model", "profile", "write")


def _rechunk(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """Tables of exactly ``rows`` rows (the last one fewer) from batches of any size."""
    pending: list[pa.RecordBatch] = []
    size = 0
    for batch in batches:
        pending.append(batch)
        size += batch.num_rows
        while size >= rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, rows)
            rest = table.slice(rows)
            pending, size = rest.to_batches(), rest.num_rows
    if size:
        yield pa.Table.from_batches(pending)


def _csv_batches(path: Path, types: dict[str, pa.DataType]) -> Iterator[pa.RecordBatch]:
    import pyarrow.csv as pcsv

    # Small blocks, whatever the chunk: the reader parses dozens of blocks ahead on its
    # threads, so its memory is the block size times that (about 400 MiB with 12 MiB blocks).
    reader = pcsv.open_csv(
        path,
        read_options=pcsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
        convert_options=pcsv.ConvertOptions(
            include_columns=list(types),
            column_types=types,
            null_values=MISSING_TOKENS,
            strings_can_be_null=True,
        ),
    )
    yield from reader


def _parquet_batches(
    path: Path, types: dict[str, pa.DataType], rows: int
) -> Iterator[pa.RecordBatch]:
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path)
    stored = file.schema_arrow
    wanted = pa.schema([(name, types.get(name) or stored.field(name).type) for name in types])
    for batch in file.iter_batches(batch_size=rows, columns=list(types)):
        yield batch.select(list(types)).cast(wanted, safe=True)


def input_types(path: Path, contract: dict[str, Any], keep: list[str]) -> tuple[bool, dict]:
    """Whether ``path`` is a parquet file, and the arrow type each column is read as: the
    contract's columns by the contract, the ``keep`` columns as text in a CSV and as stored
    in a parquet file. Refuses a file that lacks a column."""
    if not path.is_file():
        raise DriftlineError(f"{path}: file not found")
    parquet = is_parquet(path)
    stored: dict[str, pa.DataType] = {}
    if parquet:
        import pyarrow.parquet as pq

        try:
            schema = pq.ParquetFile(path).schema_arrow
        except Exception as exc:  # pyarrow raises many types for a damaged file
            raise DriftlineError(f"{path}: not a readable parquet file: {exc}") from exc
        stored = {field.name: field.type for field in schema}
        columns = list(stored)
    else:
        columns = csv_header(path)
    missing = [c for c in contract["columns"] if c not in columns]
    if missing:
        raise DriftlineError(
            f"{path}: missing required column(s): {', '.join(missing)} (the model's features "
            "are built from them: the contract's time columns and candidate features)"
        )
    unknown = [c for c in keep if c not in columns]
    if unknown:
        raise DriftlineError(f"{path}: --keep names column(s) it does not have: {unknown}")
    types = {name: ARROW_TYPES[spec["type"]] for name, spec in contract["columns"].items()}
    for name in keep:
        types.setdefault(name, stored[name] if parquet else pa.string())
    return parquet, types


def read_chunks(
    path: Path, parquet: bool, types: dict[str, pa.DataType], contract: dict[str, Any], rows: int
) -> Iterator[tuple[int, pa.Table]]:
    """``(first file line, table)`` per chunk of ``rows`` rows, typed as
    :func:`input_types` says.

    Raises
    ------
    DriftlineError
        Naming the file, and for a value of the wrong type its column, row and rule.
    """
    batches = _parquet_batches(path, types, rows) if parquet else _csv_batches(path, types)
    line = 2  # a CSV's line 1 is its header; a parquet file's rows are counted the same way
    try:
        for table in _rechunk(batches, rows):
            yield line, table
            line += table.num_rows
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        # The typed reader says what but not where: pandera's exact check says which row.
        check_file(path, contract)
        raise DriftlineError(f"{path}: not readable as the data contract types it: {exc}") from exc
    if line == 2:
        raise DriftlineError(f"{path}: the file has no rows")


def _drift_line(
    version: ModelVersion, current: dict[str, Any], scores: dict[str, Any]
) -> tuple[str, bool]:
    """One line: the share of drifted features, the dataset verdict, the most drifted
    features and prediction drift, against the model's training reference."""
    settings = version.params["drift"]
    features = version.meta["features"]["categorical"] + version.meta["features"]["numeric"]
    overrides = settings.get("columns") or {}
    result = dataset_drift(version.reference, current, features, settings["share"], overrides)
    prediction = column_drift(
        version.score_profile, scores, version.score_profile["count"], overrides.get("prediction")
    )
    ranked = sorted(features, key=lambda n: -result["columns"][n]["drift_score"])
    top = ", ".join(f"{n} {result['columns'][n]['drift_score']:.2f}" for n in ranked[:TOP])
    verdict = "DATASET DRIFT" if result["dataset_drift"] else "no dataset drift"
    line = (
        f"drift: {verdict}: {len(result['drifted_columns'])} of {len(features)} features "
        f"drifted ({result['share_drifted']:.0%}; drift at >= {settings['share']:.0%}); "
        f"most drifted: {top}; prediction drift {prediction['drift_score']:.2f} "
        f"(drift scores: 1 is the threshold; reference: {version.meta['window'][0]}.."
        f"{version.meta['window'][-1]})"
    )
    return line, bool(result["dataset_drift"])


@contextmanager
def _writer(target: Path, schema: pa.Schema) -> Iterator[Any]:
    """A CSV or parquet writer on a temp file beside ``target``, renamed onto it only if
    the block succeeds: a refused or interrupted run leaves no output, not even a part."""
    with atomic_path(target) as tmp:
        if target.suffix == ".parquet":
            import pyarrow.parquet as pq

            writer = pq.ParquetWriter(tmp, schema, compression="zstd")
        else:
            import pyarrow.csv as pcsv

            writer = pcsv.CSVWriter(
                tmp, schema, write_options=pcsv.WriteOptions(quoting_style="needed")
            )
        try:
            yield writer
        finally:
            writer.close()


def predict(
    source: Path,
    target: Path,
    version: str | None = None,
    keep: list[str] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    fail_on_drift: bool = False,
) -> int:
    """Score ``source`` into ``target``; return the exit code: 0, or ``DRIFT_EXIT`` when
    ``fail_on_drift`` and the input drifts (the output is written either way)."""
    keep = list(keep or [])
    if target.suffix not in SUFFIXES:
        raise DriftlineError(f"-o {target}: the output must end in .csv or .parquet")
    if target.resolve() == source.resolve():
        raise DriftlineError(f"-o {target}: the output would overwrite the input")
    if chunk_rows < 1:
        raise DriftlineError(f"--chunk-rows {chunk_rows}: must be at least 1")
    clash = [c for c in keep if c in OUTPUT_COLUMNS]
    if clash:
        raise DriftlineError(f"--keep {clash}: the output has columns of that name already")
    logger = get_logger()
    with timed(f"predict {source}"):
        loaded = load_version(version)
        params = loaded.params
        contract = restricted(loaded.contract, input_columns(params, loaded.contract))
        threshold = float(params["evaluate"]["threshold"])
        categorical = loaded.meta["features"]["categorical"]
        numeric = loaded.meta["features"]["numeric"]
        grids = {n: tuple(loaded.reference["columns"][n]["range"]) for n in numeric}
        bins = loaded.score_profile["bins"]
        profile = FrameProfile(categorical, grids, bins)
        scores = NumericProfile(0.0, 1.0, bins)
        logger.info(
            "model %s (%s, window %s..%s), threshold %g, chunks of %d rows",
            loaded.label,
            loaded.meta["model"],
            loaded.meta["window"][0],
            loaded.meta["window"][-1],
            threshold,
            chunk_rows,
        )
        parquet, types = input_types(source, contract, keep)
        schema = pa.schema(
            [(name, types[name]) for name in keep]
            + [
                ("probability", pa.float64()),
                ("decision", pa.int8()),
                ("model_version", pa.string()),
            ]
        )
        spent: dict[str, float] = dict.fromkeys(PHASES, 0.0)

        @contextmanager
        def timing(phase: str) -> Iterator[None]:
            start = time.perf_counter()
            yield
            spent[phase] += time.perf_counter() - start

        rows, started, logged = 0, time.perf_counter(), time.perf_counter()
        with _writer(target, schema) as writer:
            chunks = read_chunks(source, parquet, types, contract, chunk_rows)
            while True:
                with timing("read"):
                    chunk = next(chunks, None)
                    if chunk is None:
                        break
                    line, table = chunk
                    raw = table.select(list(contract["columns"])).to_pandas()
                with timing("check"):
                    check_typed(raw, contract, source, line)
                with timing("features"):
                    features = feature_frame(raw, params, loaded.contract)
                with timing("model"):
                    probability = loaded.model.predict_proba(features[categorical + numeric])
                    probability = probability[:, 1]
                with timing("profile"):
                    profile.add(features)
                    scores.add(probability)
                with timing("write"):
                    decision = (probability >= threshold).astype("int8")
                    columns = [table.column(name) for name in keep] + [
                        pa.array(probability, pa.float64()),
                        pa.array(decision, pa.int8()),
                        pa.array([loaded.label] * len(probability), pa.string()),
                    ]
                    writer.write_table(pa.Table.from_arrays(columns, schema=schema))
                rows += len(probability)
                if time.perf_counter() - logged >= LOG_EVERY_S:
                    logged = time.perf_counter()
                    logger.info("%d rows scored, %.0f rows/s", rows, rows / (logged - started))
        elapsed = time.perf_counter() - started
        logger.info(
            "%d rows scored into %s in %.2f s, %.0f rows/s; time in %s",
            rows,
            target,
            elapsed,
            rows / elapsed,
            ", ".join(f"{phase} {seconds:.2f} s" for phase, seconds in spent.items()),
        )
    line, drifted = _drift_line(loaded, profile.result(), scores.result())
    print(line)
    if drifted and fail_on_drift:
        logger.warning(
            "--fail-on-drift: the input drifts; exit %d (%s written)", DRIFT_EXIT, target
        )
        return DRIFT_EXIT
    return 0
