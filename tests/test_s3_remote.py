"""The `s3` DVC remote that CI uses, against moto's S3 server on 127.0.0.1 with dummy
credentials: `dvc push`, `dvc status -c`, and a fresh clone that pulls the data and the models
and then has nothing to reproduce."""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
from pathlib import Path

import pytest
import yaml

from helpers import S3_ENV, run, s3_client

pytestmark = pytest.mark.e2e

BUCKET = "driftline-ci"
PREFIX = "dvc"
DVC_DIRS = ("data/", "models/")  # outputs in the DVC cache; metrics and plots are in git


def use_s3_remote(repo: Path, endpoint: str) -> None:
    """What the workflows do (.github/actions/s3-remote) and the README tells a laptop."""
    run(repo, "dvc", "remote", "add", "--local", "--force", "s3", f"s3://{BUCKET}/{PREFIX}")
    run(repo, "dvc", "remote", "modify", "--local", "s3", "endpointurl", endpoint)
    run(repo, "dvc", "remote", "default", "--local", "s3")


def dvc(repo: Path, *args: str, check: bool = True):
    return run(repo, "dvc", *args, check=check, **S3_ENV)


def recorded_objects(repo: Path) -> dict[str, str]:
    """The raw batches (their .dvc files) and the model and training window (dvc.lock), by
    path, as the `<2 hex>/<rest>` object names DVC stores them under."""
    recorded = {}
    for dvc_file in sorted((repo / "data" / "raw").glob("*.dvc")):
        (out,) = yaml.safe_load(dvc_file.read_text())["outs"]
        recorded[f"data/raw/{out['path']}"] = out["md5"]
    lock = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    for stage in ("train", "window"):
        outs = lock[stage]["outs"]
        recorded.update({o["path"]: o["md5"] for o in outs if o["path"].startswith(DVC_DIRS)})
    return {path: f"{md5[:2]}/{md5[2:]}" for path, md5 in recorded.items()}


@pytest.fixture(scope="module")
def s3(s3_endpoint):
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket=BUCKET)
    return client


def bucket_objects(s3) -> set[str]:
    """The DVC objects in the bucket, as `<2 hex>/<rest>` names."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX)
    keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
    prefix = f"{PREFIX}/files/md5/"
    return {key.removeprefix(prefix) for key in keys if key.startswith(prefix)}


@pytest.fixture(scope="module")
def pushed(reproduced, s3, s3_endpoint, tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("s3") / "driftline"
    shutil.copytree(reproduced, repo, symlinks=True)
    use_s3_remote(repo, s3_endpoint)
    dvc(repo, "push")
    return repo


def test_push_sends_the_data_and_the_models_to_the_bucket(pushed, s3):
    recorded = recorded_objects(pushed)
    assert "models/model.pkl" in recorded and "data/raw/2013-06.csv" in recorded
    in_bucket = bucket_objects(s3)
    assert {path for path, name in recorded.items() if name not in in_bucket} == set()
    assert "Cache and remote 's3' are in sync" in dvc(pushed, "status", "-c").stdout


def test_status_cloud_sees_an_object_missing_from_the_bucket(pushed, s3):
    model = recorded_objects(pushed)["models/model.pkl"]
    s3.delete_object(Bucket=BUCKET, Key=f"{PREFIX}/files/md5/{model}")
    status = dvc(pushed, "status", "-c").stdout
    assert "in sync" not in status and "new:" in status, status
    dvc(pushed, "push")
    assert "in sync" in dvc(pushed, "status", "-c").stdout


def test_a_fresh_clone_pulls_data_and_models_and_has_nothing_to_reproduce(
    pushed, s3_endpoint, tmp_path
):
    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "-q", str(pushed), str(clone))
    assert not (clone / "models" / "model.pkl").exists()
    use_s3_remote(clone, s3_endpoint)
    dvc(clone, "pull")
    for name in ("models/model.pkl", "data/raw/2013-06.csv", "data/window/train.parquet"):
        assert (clone / name).read_bytes() == (pushed / name).read_bytes(), name
    assert "Data and pipelines are up to date" in dvc(clone, "status").stdout
    repro = dvc(clone, "repro")
    assert "Running stage" not in repro.stdout, repro.stdout
    assert run(clone, "git", "status", "--porcelain").stdout == ""


class Relay:
    """A TCP relay on 127.0.0.1 in front of the S3 server, to take the remote down: after
    ``limit`` bytes it cuts every connection and closes its port; ``start`` brings it back on
    the same port. The server behind it, and the objects it holds, stay up."""

    def __init__(self, endpoint: str):
        self.target = int(endpoint.rsplit(":", 1)[1])
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.listener: socket.socket | None = None
        self.open: list[socket.socket] = []

    def start(self, limit: int | None = None) -> None:
        self.limit, self.relayed = limit, 0
        self.listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def down(self) -> None:
        if self.listener is not None:
            self.listener.close()
        for conn in self.open:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self.open = []

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self.open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(1 << 16):
                self.relayed += len(data)
                if self.limit is not None and self.relayed > self.limit:
                    self.down()
                    return
                sink.sendall(data)


def test_an_outage_mid_push_and_mid_pull_fails_clearly_and_a_retry_completes(
    reproduced, s3, s3_endpoint, tmp_path
):
    s3.create_bucket(Bucket="driftline-outage")
    relay = Relay(s3_endpoint)
    repo = tmp_path / "repo"
    shutil.copytree(reproduced, repo, symlinks=True)
    remote = ("dvc", "remote", "add", "--local", "--force", "-d", "s3", "s3://driftline-outage/dvc")
    run(repo, *remote)
    run(repo, "dvc", "remote", "modify", "--local", "s3", "endpointurl", relay.url)
    relay.start(limit=3_000_000)  # the remote goes down 3 MB into the transfer
    failed = dvc(repo, "push", check=False)
    assert failed.returncode != 0 and relay.relayed > 3_000_000
    assert "failed to push" in failed.stdout + failed.stderr, failed.stderr
    assert "in sync" not in dvc(repo, "status", "-c", check=False).stdout
    relay.start()  # back up: the retry sends what is missing
    dvc(repo, "push")
    assert "Cache and remote 's3' are in sync" in dvc(repo, "status", "-c").stdout
    relay.down()
    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "-q", str(repo), str(clone))
    run(clone, *remote)
    run(clone, "dvc", "remote", "modify", "--local", "s3", "endpointurl", relay.url)
    relay.start(limit=3_000_000)
    failed = dvc(clone, "pull", check=False)
    assert failed.returncode != 0 and "failed to pull" in failed.stdout + failed.stderr
    relay.start()
    dvc(clone, "pull")
    relay.down()
    for name in ("models/model.pkl", "data/raw/2013-06.csv", "data/window/train.parquet"):
        assert (clone / name).read_bytes() == (repo / name).read_bytes(), name
    assert "Data and pipelines are up to date" in dvc(clone, "status").stdout
