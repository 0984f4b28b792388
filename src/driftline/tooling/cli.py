"""The ``driftline`` command line: start a project on your own data, add batches, check
drift and quality history, retrain, report on a change, gate a promotion, list and tag model
versions, and write the demo data."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from driftline.core import paths
from driftline.core.config import REGISTRY_FILE, batch_list, load_contract, load_params
from driftline.core.errors import DriftlineError
from driftline.core.log import get_logger, timed


def ingest(args: argparse.Namespace) -> None:
    """Check batches against the data contract and add them, or only check (--dry-run)."""
    from driftline.tooling.ingest import ingest as ingest_files
    from driftline.tooling.ingest import ingest_from, next_steps

    if args.labels:
        from driftline.tooling.labels import attach_labels

        if args.path is not None or args.source is not None or args.replace or args.dry_run:
            raise DriftlineError(
                "--labels FILE attaches the labels of one pending batch: driftline ingest "
                "--labels FILE [--name BATCH] [--partial REASON] (no other file, --from, "
                "--replace or --dry-run)"
            )
        print("\n".join(attach_labels(Path(args.labels), args.name, args.partial)))
        return
    if args.partial:
        raise DriftlineError("--partial applies to --labels only")
    if args.replace is not None:
        from driftline.tooling.amend import replace_batch

        if args.path is None or args.source is not None or args.name or args.dry_run:
            raise DriftlineError(
                "--replace BATCH takes one file, the corrected copy: "
                "driftline ingest --replace BATCH FILE (no --from, --name or --dry-run)"
            )
        print("\n".join(replace_batch(args.replace, Path(args.path), force=args.force)))
        return
    if args.force:
        raise DriftlineError("--force applies to --replace only")
    if (args.path is None) == (args.source is None):
        raise DriftlineError("give either a file to ingest or --from LOCATION, not both")
    if args.source is not None:
        report = ingest_from(args.source, dry_run=args.dry_run)
    else:
        report = ingest_files([Path(args.path)], name=args.name, dry_run=args.dry_run)
    for source, why in report.skipped:
        print(f"skipped {source}: {why}")
    if args.dry_run:
        for candidate in report.taken:
            print(f"ok {candidate.source} -> {candidate.name} ({candidate.summary.rows} rows)")
        print("Dry run: nothing was changed.")
    else:
        print(next_steps(report))


def remove(args: argparse.Namespace) -> None:
    """Remove a registered batch (driftline.tooling.amend)."""
    from driftline.tooling.amend import remove_batch

    print("\n".join(remove_batch(args.batch, force=args.force)))


def materialize(args: argparse.Namespace) -> None:
    """Write every registered demo batch into data/raw and track it with DVC; in a project
    of its own (no ``demo`` block in params.yaml), do nothing."""
    params = load_params(check_window=False)
    if "demo" not in params:
        print("params.yaml has no 'demo' block: this project holds its own batches, so no demo")
        print("data is written. Run 'dvc repro' on them (or 'dvc pull' first, on a fresh clone).")
        return
    from driftline.tooling import demo  # pandas: only the commands that need it import it
    from driftline.tooling.registry import dvc_add

    year = demo.demo_year(params)
    months = demo.load_months(year)
    own = demo.own_batches(params, months)
    collide = [name for name in own if name in months]
    if collide:
        raise DriftlineError(
            f"{REGISTRY_FILE} registers batches of your own under demo names "
            f"({', '.join(collide)}): "
            "writing the demo data would overwrite them, so nothing was written. Remove the "
            "'demo:' block from params.yaml (driftline init does) and run 'dvc repro' instead"
        )
    names = [b for b in batch_list(params) if b in months and b not in own]
    if not names:
        raise DriftlineError(f"{REGISTRY_FILE}: no batch of the demo year {year}")
    with timed(f"materialize {len(names)} demo batches"):
        written = demo.write_batches(months, names, paths.raw)
        if not args.no_dvc:
            dvc_add(sorted({path.parent for path in written}))
    for path in written:
        print(path)


def next_batch(args: argparse.Namespace) -> None:
    """Write the first demo month not yet registered into data/incoming, whole or, with
    --without-labels, without the columns known only after the flight."""
    from driftline.tooling import demo

    params = load_params()
    year = demo.demo_year(params)
    registered = set(batch_list(params))
    months = demo.load_months(year)
    waiting = [name for name in sorted(months) if name not in registered]
    if not waiting:
        raise DriftlineError(f"every month of {year} is already registered in params.yaml")
    name = waiting[0]
    if args.without_labels:
        months = {name: demo.split_labels(months[name], load_contract())[0]}
    (target,) = demo.write_batches(months, [name], lambda name: paths.INCOMING / f"{name}.csv")
    print(target)
    get_logger().info("wrote %s; add it with: driftline ingest %s", target, target)


def demo_labels(args: argparse.Namespace) -> None:
    """Write a demo month's labels (the key and the columns known after the flight) into
    data/incoming, for `driftline ingest --labels`."""
    from driftline.tooling import demo

    months = demo.load_months(demo.demo_year(load_params()))
    if args.month not in months:
        raise DriftlineError(f"the demo data has no month {args.month!r} (e.g. 2013-07)")
    labels = {args.month: demo.split_labels(months[args.month], load_contract())[1]}
    (target,) = demo.write_batches(
        labels, [args.month], lambda name: paths.INCOMING / f"{name}-labels.csv"
    )
    print(target)
    get_logger().info("wrote %s; attach it with: driftline ingest --labels %s", target, target)


def init(args: argparse.Namespace) -> None:
    """Turn the demo clone into an empty project for your own data (see ops/init_project)."""
    from driftline.tooling import init_project

    def names(text: str | None) -> list[str] | None:
        return None if text is None else [n.strip() for n in text.split(",") if n.strip()]

    time = names(args.time)
    plan = init_project.plan(
        Path(args.sample),
        args.target,
        init_project.parse_positive(args.positive),
        classes=names(args.classes),
        time=time[0] if time and len(time) == 1 else time,
        period=args.period,
        exclude=names(args.exclude),
        force=args.force,
    )
    removed = init_project.apply(plan)
    print(f"Removed {len(removed)} demo files (batches, their .dvc files, outputs, locks).")
    print(
        "Wrote contract.yaml (inferred), params.yaml (no demo, your target) and an empty "
        f"{REGISTRY_FILE}."
    )
    print(init_project.next_steps(plan.contract_data, Path(args.sample)))


def compare(args: argparse.Namespace) -> None:
    """Drift of CURRENT against REFERENCE with the pipeline's engine and params."""
    from driftline.tooling.compare_files import compare_frames, compare_report, read_table

    params = load_params(check_window=False)
    reference, current = read_table(args.reference), read_table(args.current)
    result = compare_frames(
        reference, current, params["drift"], params["profile"]["bins"], args.target
    )
    if args.md:
        print(compare_report(result, (args.reference, args.current)))
    else:
        print(json.dumps(result, indent=2, sort_keys=True))


def check_history(args: argparse.Namespace) -> None:
    """Run the quality-history rules on one metric of a CSV metric log; print JSON."""
    from driftline.monitoring.history_rules import check_metric
    from driftline.tooling.history_log import read_metric

    labels, values = read_metric(
        args.file, args.metric, args.batch_col, args.name_col, args.value_col
    )
    higher = not args.lower_is_better
    rules = check_metric(values, higher, args.threshold, args.k, args.min_history, args.baseline)
    print(
        json.dumps(
            {
                "file": args.file,
                "metric": args.metric,
                "higher_is_better": higher,
                "points": sum(v is not None for v in values),
                "newest": {
                    "batch": labels[-1] if labels else None,
                    "value": values[-1] if values else None,
                },
                "k": args.k,
                "min_history": args.min_history,
                "baseline": args.baseline,
                "alarm": any(r["alarm"] for r in rules.values()),
                "rules": rules,
            },
            indent=2,
        )
    )


def retrain(args: argparse.Namespace) -> None:
    """Apply the retrain verdict: move train.window in params.yaml to end at the newest batch."""
    from driftline.tooling.retrain import retrain as move_window

    for line in move_window(force=args.force, dry_run=args.dry_run):
        print(line)


def report(args: argparse.Namespace) -> None:
    """Print the pull-request comment: this checkout against ``--base``, as Markdown."""
    from driftline.tooling.pr_comment import build

    print(build(args.base, args.sha, args.base_tip), end="")


def gate(args: argparse.Namespace) -> int:
    """Print the promotion gate's verdict from reports/promotion.json; 1 when it fails."""
    from driftline.tooling.promotion import gate as verdict

    status, lines = verdict()
    for line in lines:
        print(line)
    return status


def models(args: argparse.Namespace) -> None:
    """The model's versions (git tags model@vX.Y.Z): list them, say the next, or tag it."""
    from driftline.tooling import versions

    if args.models_command == "list":
        print(versions.table([versions.describe(v) for v in versions.versions()]))
        return
    name, reasons = (versions.tag if args.models_command == "tag" else versions.next_version)(
        args.rev
    )
    if name is None:
        print(f"no new version: {'; '.join(reasons)}")
        return
    done = "tagged" if args.models_command == "tag" else "next"
    print(f"{done} {name} ({'; '.join(reasons)})")


def predict(args: argparse.Namespace) -> int:
    """Score a features-only file with the promoted model or a named version."""
    from driftline.tooling.predict import CHUNK_ROWS
    from driftline.tooling.predict import predict as score_file

    return score_file(
        Path(args.input),
        Path(args.output),
        version=args.model,
        keep=args.keep,
        chunk_rows=args.chunk_rows or CHUNK_ROWS,
        fail_on_drift=args.fail_on_drift,
    )


def backfill_plan(args: argparse.Namespace) -> None:
    """Print the backfill plan as one line of JSON (docs/backfill.md)."""
    from driftline.tooling.backfill import plan

    print(json.dumps(plan(args.shards, args.first, args.last).as_json()))


def backfill_push(args: argparse.Namespace) -> None:
    """`dvc push --run-cache` and the uncached outputs its entries name."""
    from driftline.tooling.backfill import push

    print(f"{push()} files pushed (outputs, run-cache entries' objects)")


def backfill_check(args: argparse.Namespace) -> None:
    """Fail when the final job's `dvc repro` log shows a group stage that ran."""
    from driftline.tooling.backfill import read_final_log

    final = read_final_log(Path(args.log).read_text())
    print(f"restored from the run-cache: {len(final.restored)} group stages")
    print(f"ran: {', '.join(final.others) or 'no stage'}")
    if final.ran:
        raise DriftlineError(
            f"the final dvc repro ran {len(final.ran)} group stages instead of restoring "
            f"them from the run-cache: {', '.join(final.ran)}"
        )


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="driftline", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="the bundled NYC flights 2013 demo data")
    demo_commands = demo_parser.add_subparsers(dest="demo_command", required=True)
    mat = demo_commands.add_parser(
        "materialize",
        help="write the batches listed in data/batches.yaml into data/raw (same bytes "
        "every time) and track them with DVC",
    )
    mat.add_argument("--no-dvc", action="store_true", help="write the files only; skip 'dvc add'")
    mat.set_defaults(func=materialize)
    nxt = demo_commands.add_parser(
        "next", help="write the next unregistered month into data/incoming"
    )
    nxt.add_argument(
        "--without-labels",
        action="store_true",
        help="leave out the columns known only after the flight (contract.yaml: labels.later): "
        "a batch pending labels",
    )
    nxt.set_defaults(func=next_batch)
    lab = demo_commands.add_parser(
        "labels",
        help="write a month's labels (its key and the columns known after the flight) into "
        "data/incoming, for driftline ingest --labels",
    )
    lab.add_argument("month", help="the month, e.g. 2013-07")
    lab.set_defaults(func=demo_labels)
    ini = commands.add_parser(
        "init",
        help="turn this clone into an empty project for your own data: remove the demo, "
        "infer contract.yaml from a sample file, set the target in params.yaml",
    )
    ini.add_argument("sample", help="a CSV or parquet file of your data, e.g. your first batch")
    ini.add_argument("--target", required=True, help="the column the label is built from")
    ini.add_argument(
        "--positive",
        required=True,
        help="when the label is 1: a value (equals it), or a rule in YAML, e.g. "
        "'above: 15', 'in: [Yes, Maybe]'",
    )
    ini.add_argument("--classes", help="names of label 0 and 1, e.g. 'dry,rain'")
    ini.add_argument(
        "--time",
        help="the column of ISO 8601 dates or datetimes, or YEAR,MONTH,DAY columns "
        "(default: found in the sample)",
    )
    ini.add_argument("--period", choices=("month", "day"), help="one batch's period")
    ini.add_argument("--exclude", help="columns that must not be features, e.g. 'id,outcome'")
    ini.add_argument(
        "--force", action="store_true", help="infer contract.yaml again in an initialised project"
    )
    ini.set_defaults(func=init)
    ing = commands.add_parser(
        "ingest",
        help="check a batch against the data contract and add it (or --from a "
        "landing location, every new batch in time order)",
    )
    ing.add_argument("path", nargs="?", help="a CSV or parquet file")
    ing.add_argument(
        "--name",
        help="the batch name (default: the period of its rows); with --labels, the pending "
        "batch they are for (default: the one whose rows they name)",
    )
    ing.add_argument(
        "--from",
        dest="source",
        metavar="DIR_OR_URL",
        help="a folder or fsspec URL, e.g. s3://bucket/incoming/",
    )
    ing.add_argument("--dry-run", action="store_true", help="check and report; change nothing")
    ing.add_argument(
        "--replace",
        metavar="BATCH",
        help="replace a registered batch with a corrected copy of the same period (the file)",
    )
    ing.add_argument(
        "--force",
        action="store_true",
        help="with --replace: allow a batch in the training window (a retrain the gate judges)",
    )
    ing.add_argument(
        "--labels",
        metavar="FILE",
        help="attach the labels in FILE (contract.yaml's labels.key and labels.later columns) "
        "to the pending batch whose rows they name",
    )
    ing.add_argument(
        "--partial",
        metavar="REASON",
        help="with --labels: accept a file that labels only part of the batch, for this reason",
    )
    ing.set_defaults(func=ingest)
    rem = commands.add_parser(
        "remove",
        help="remove a registered batch: its raw data, its registration and its archived "
        "timeline rows (dvc repro then reruns what depended on it)",
    )
    rem.add_argument("batch", help="the batch name, as data/batches.yaml lists it")
    rem.add_argument(
        "--force",
        action="store_true",
        help="allow a batch inside the training window (a retrain the gate judges)",
    )
    rem.set_defaults(func=remove)
    cmp = commands.add_parser(
        "compare",
        help="drift of one CSV or parquet file against another, with the pipeline's tests "
        "and params.yaml's drift settings (JSON, or Markdown with --md)",
    )
    cmp.add_argument("reference", help="the reference file (.csv or .parquet)")
    cmp.add_argument("current", help="the file to check against it")
    cmp.add_argument("--target", help="a column reported as target drift, not as a feature")
    cmp.add_argument("--md", action="store_true", help="print Markdown instead of JSON")
    cmp.set_defaults(func=compare)
    hist = commands.add_parser(
        "check-history",
        help="the quality-history rules on one metric of a CSV metric log (wide: a column "
        "per metric; long: metric-name and value columns); prints JSON",
    )
    hist.add_argument("file", help="the CSV metric log, oldest row first")
    hist.add_argument("--metric", required=True, help="the metric to judge, e.g. roc_auc")
    hist.add_argument(
        "--lower-is-better",
        action="store_true",
        help="lower values are better (a loss); default: higher is better",
    )
    hist.add_argument("--batch-col", help="the column naming each batch, for the output")
    hist.add_argument("--name-col", help="long format: the column of metric names")
    hist.add_argument("--value-col", help="long format: the column of values")
    hist.add_argument("--threshold", type=float, help="the hard threshold (default: off)")
    hist.add_argument("--k", type=float, default=2.0, help="parametric band in std (default 2)")
    hist.add_argument(
        "--min-history",
        type=int,
        default=3,
        help="fewer points gives 'insufficient history' (default 3)",
    )
    hist.add_argument(
        "--baseline",
        type=int,
        help="judge the newest against the first N points only (fixed bounds; default: every "
        "earlier point)",
    )
    hist.set_defaults(func=check_history)
    ret = commands.add_parser(
        "retrain",
        help="if the drift stage advises retraining (reports/drift.json), move train.window in "
        "params.yaml to end at the newest batch (sliding or expanding, per params)",
    )
    ret.add_argument("--force", action="store_true", help="move the window even if not advised")
    ret.add_argument("--dry-run", action="store_true", help="say what would change; change nothing")
    ret.set_defaults(func=retrain)

    bkf = commands.add_parser(
        "backfill",
        help="fan the group stages (prepare@ and score@ of each month) out across CI runners "
        "(docs/backfill.md)",
    )
    bkf_commands = bkf.add_subparsers(dest="backfill_command", required=True)
    bkp = bkf_commands.add_parser(
        "plan",
        help="the group stages DVC would rerun, split into shards: JSON with a GitHub "
        "Actions matrix",
    )
    bkp.add_argument("--shards", type=int, required=True, help="how many runners (k)")
    bkp.add_argument("--from", dest="first", metavar="BATCH", help="first batch (default: oldest)")
    bkp.add_argument("--to", dest="last", metavar="BATCH", help="last batch (default: newest)")
    bkp.set_defaults(func=backfill_plan)
    bku = bkf_commands.add_parser(
        "push",
        help="dvc push --run-cache, plus the cache: false outputs (metrics) its entries "
        "name, which DVC leaves out: another runner can then restore the stage",
    )
    bku.set_defaults(func=backfill_push)
    bkc = bkf_commands.add_parser(
        "check", help="fail if a `dvc repro` log shows a group stage that ran"
    )
    bkc.add_argument("log", help="the final job's `dvc repro` output")
    bkc.set_defaults(func=backfill_check)

    rep = commands.add_parser(
        "report",
        help="print the pull-request comment (Markdown): metric and params diff "
        "against a base revision, drift and retraining verdicts, plot links",
    )
    rep.add_argument(
        "--base",
        required=True,
        metavar="REF",
        help="the revision to compare with, e.g. main or origin/main",
    )
    rep.add_argument(
        "--sha",
        help="the commit or branch the plot links point at "
        "(default: $GITHUB_SHA; none: plain paths)",
    )
    rep.add_argument(
        "--base-tip",
        metavar="REF",
        help="when --base is a merge base: the base branch's tip, to say how far it "
        "has moved since the fork",
    )
    rep.set_defaults(func=report)

    gat = commands.add_parser(
        "gate",
        help="print the promotion gate's verdict and reasons (reports/promotion.json); "
        "exit 1 when the challenger may not be promoted",
    )
    gat.set_defaults(func=gate)

    mod = commands.add_parser(
        "models", help="the model's versions: git tags model@vMAJOR.MINOR.PATCH"
    )
    mod_commands = mod.add_subparsers(dest="models_command", required=True)
    mod_commands.add_parser(
        "list", help="every version: date, training window, gate verdict, metrics"
    ).set_defaults(func=models)
    for name, what in (
        ("next", "say which version the model at REV would get, and why"),
        ("tag", "tag REV with its version (an annotated tag), if its model is new"),
    ):
        sub = mod_commands.add_parser(name, help=what)
        sub.add_argument("--rev", default="HEAD", help="the commit (default HEAD)")
        sub.set_defaults(func=models)

    # predict's defaults (CHUNK_ROWS, DRIFT_EXIT in ops/predict.py) are spelled out in the help
    # rather than imported: that module loads pyarrow and pandera, which no other command needs.
    pre = commands.add_parser(
        "predict",
        help="score a features-only CSV or parquet file with the promoted model (or --model "
        "VERSION): probability, decision at evaluate.threshold and model version per row, in "
        "input order; then one line of drift against the training reference",
    )
    pre.add_argument("input", help="a CSV or parquet file with the model's raw feature columns")
    pre.add_argument("-o", "--output", required=True, help="the output file (.csv or .parquet)")
    pre.add_argument(
        "--model",
        metavar="VERSION|REV",
        help="vX.Y.Z (the tag model@vX.Y.Z) or any git revision; default: the working "
        "tree's models/model.pkl, the promoted model",
    )
    pre.add_argument(
        "--keep",
        nargs="+",
        default=[],
        metavar="COL",
        help="input columns to copy into the output first, e.g. an id",
    )
    pre.add_argument(
        "--chunk-rows",
        type=int,
        metavar="N",
        help="rows per chunk: memory follows it (default 100,000)",
    )
    pre.add_argument(
        "--fail-on-drift",
        action="store_true",
        help="exit 3 when the input shows dataset drift (the output is still written)",
    )
    pre.set_defaults(func=predict)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        status = args.func(args)
    except DriftlineError as exc:
        get_logger().error("%s", exc)
        return 2
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
