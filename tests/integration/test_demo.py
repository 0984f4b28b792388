"""The demo batches come out byte-identical to what the committed .dvc files record."""

import hashlib
import json

import pandas as pd

from driftline.core.batches import grouped
from driftline.core.config import batch_list, parse_yaml
from driftline.tooling.demo import batch_csv_bytes, load_months
from helpers import copy_of, run


def test_every_registered_batch_matches_its_committed_dvc_hash(repo_root, params, demo_months):
    # A group folder's hash is the md5 of its .dir listing, as DVC writes it: JSON of the
    # files' md5s and names. Rebuilt from the demo's bytes, it must be what is committed.
    for group, names in grouped(batch_list(params)).items():
        record = parse_yaml((repo_root / "data/raw" / f"{group}.dvc").read_text())
        (out,) = record["outs"]
        files = {f"{n}.csv": batch_csv_bytes(demo_months[n]) for n in names}
        listing = [
            {"md5": hashlib.md5(data).hexdigest(), "relpath": name}
            for name, data in sorted(files.items())
        ]
        assert hashlib.md5(json.dumps(listing).encode()).hexdigest() + ".dir" == out["md5"], group
        assert sum(len(data) for data in files.values()) == out["size"]


def test_loading_twice_gives_the_same_bytes(demo_months):
    again = load_months(2013)
    assert batch_csv_bytes(again["2013-07"]) == batch_csv_bytes(demo_months["2013-07"])


def test_twelve_real_months_with_weather(demo_months):
    assert sorted(demo_months) == [f"2013-{m:02d}" for m in range(1, 13)]
    assert sum(len(f) for f in demo_months.values()) == 336_776
    january = demo_months["2013-01"]
    assert len(january) == 27_004
    assert (january["temp"] != "NA").mean() > 0.99  # weather found for nearly every flight


def test_a_month_without_labels_and_its_labels_later_make_the_whole_month(materialized, tmp_path):
    """`driftline demo next --without-labels`, ingested pending, then `driftline demo labels`
    attached: the raw file is byte for byte the month the demo ships whole."""
    repo = copy_of(materialized, tmp_path / "repo")
    written = run(repo, "driftline", "demo", "next", "--without-labels").stdout.strip()
    arrived = pd.read_csv(repo / written, dtype=str, nrows=5)
    later = {"dep_time", "dep_delay", "arr_time", "arr_delay", "air_time"}
    assert not later & set(arrived.columns) and "sched_dep_time" in arrived.columns
    run(repo, "driftline", "ingest", written)
    labels = run(repo, "driftline", "demo", "labels", "2013-07").stdout.strip()
    assert set(pd.read_csv(repo / labels, dtype=str, nrows=5).columns) == later | {
        "year",
        "month",
        "day",
        "carrier",
        "flight",
        "origin",
    }
    run(repo, "driftline", "ingest", "--labels", labels)
    whole = batch_csv_bytes(load_months(2013)["2013-07"])
    assert (repo / "data/raw/2013-07/2013-07.csv").read_bytes() == whole
