"""The ``driftline`` command line: add batches, write the demo data, report on a change."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from driftline import demo, paths
from driftline.batches import dvc_add
from driftline.config import batch_list, load_params
from driftline.errors import DriftlineError
from driftline.log import get_logger, timed


def ingest(args: argparse.Namespace) -> None:
    """Check batches against the data contract and add them, or only check (--dry-run)."""
    from driftline.ingest import ingest as ingest_files
    from driftline.ingest import ingest_from, next_steps

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


def materialize(args: argparse.Namespace) -> None:
    """Write every registered demo batch into data/raw and track it with DVC."""
    params = load_params()
    year = params["demo"]["year"]
    names = [b for b in batch_list(params) if b.startswith(f"{year}-")]
    if not names:
        raise DriftlineError(f"params.yaml: no batch of the demo year {year} in 'batches'")
    with timed(f"materialize {len(names)} demo batches"):
        written = demo.write_batches(demo.load_months(year), names, paths.RAW)
        if not args.no_dvc:
            dvc_add(written)
    for path in written:
        print(path)


def next_batch(args: argparse.Namespace) -> None:
    """Write the first demo month not yet registered into data/incoming."""
    params = load_params()
    year = params["demo"]["year"]
    registered = set(batch_list(params))
    months = demo.load_months(year)
    pending = [name for name in sorted(months) if name not in registered]
    if not pending:
        raise DriftlineError(f"every month of {year} is already registered in params.yaml")
    (target,) = demo.write_batches(months, pending[:1], paths.INCOMING)
    print(target)
    get_logger().info("wrote %s; add it with: driftline ingest %s", target, target)


def report(args: argparse.Namespace) -> None:
    """Print the pull-request comment: this checkout against ``--base``, as Markdown."""
    from driftline.report import build

    print(build(args.base, args.sha), end="")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="driftline", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="the bundled NYC flights 2013 demo data")
    demo_commands = demo_parser.add_subparsers(dest="demo_command", required=True)
    mat = demo_commands.add_parser(
        "materialize",
        help="write the batches listed in params.yaml into data/raw (same bytes "
        "every time) and track them with DVC",
    )
    mat.add_argument("--no-dvc", action="store_true", help="write the files only; skip 'dvc add'")
    mat.set_defaults(func=materialize)
    nxt = demo_commands.add_parser(
        "next", help="write the next unregistered month into data/incoming"
    )
    nxt.set_defaults(func=next_batch)
    ing = commands.add_parser(
        "ingest", help="check a batch against the data contract and add it (or --from a "
        "landing location, every new batch in time order)")  # fmt: skip
    ing.add_argument("path", nargs="?", help="a CSV or parquet file")
    ing.add_argument("--name", help="the batch name (default: the period of its rows)")
    ing.add_argument("--from", dest="source", metavar="DIR_OR_URL",
                     help="a folder or fsspec URL, e.g. s3://bucket/incoming/")  # fmt: skip
    ing.add_argument("--dry-run", action="store_true", help="check and report; change nothing")
    ing.set_defaults(func=ingest)
    rep = commands.add_parser(
        "report", help="print the pull-request comment (Markdown): metric and params diff "
        "against a base revision, drift and retraining verdicts, plot links")  # fmt: skip
    rep.add_argument("--base", required=True, metavar="REF",
                     help="the revision to compare with, e.g. main or origin/main")  # fmt: skip
    rep.add_argument("--sha", help="the commit or branch the plot links point at "
                     "(default: $GITHUB_SHA; none: plain paths)")  # fmt: skip
    rep.set_defaults(func=report)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        args.func(args)
    except DriftlineError as exc:
        get_logger().error("%s", exc)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
