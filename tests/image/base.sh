#!/usr/bin/env bash
# The tools to build and run the image here, and a local stand-in for its base image.
#
# GitHub pulls the Dockerfile's base, python:3.11-slim-bookworm, from Docker Hub. These
# machines reach no image registry, only Debian's and PyPI's package mirrors. So this script
# builds a Debian bookworm root filesystem with python3 and python3-venv from the Debian
# mirror the machine's apt uses (mmdebstrap), imports it into podman and tags it with the
# base's name: the same Dockerfile then builds here and on GitHub. Debian's Python is
# /usr/bin/python3 (3.11.2), the official image's /usr/local/bin/python3 (the newest 3.11):
# the Dockerfile calls `python3` from PATH and works on both (docs/container.md).
#
# Idempotent: installs the packages only when podman is missing, builds the base only when
# podman does not have it (podman keeps it in /var/lib/containers between runs).
# Needs root: rootless podman does not run on these machines.
set -euo pipefail

BASE=${BASE_IMAGE:-docker.io/library/python:3.11-slim-bookworm}

if [ "$(id -u)" != 0 ]; then
    echo "tests/image/base.sh: needs root (podman runs rootful here)" >&2
    exit 1
fi

if ! command -v podman >/dev/null || ! command -v mmdebstrap >/dev/null || ! command -v runc >/dev/null; then
    echo "Installing podman and mmdebstrap from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q podman mmdebstrap runc fuse-overlayfs slirp4netns uidmap
fi

if podman image exists "$BASE"; then
    echo "Base image $BASE: present"
    exit 0
fi

# The mirror apt uses here (deb822 sources first, then the one-line format).
mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1 || true)
if [ -z "$mirror" ]; then
    mirror=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "Building the stand-in for $BASE from $mirror (bookworm, python3, python3-venv)"
# ca-certificates: the official slim image has it too.
mmdebstrap --quiet --variant=apt --include=python3,python3-venv,ca-certificates \
    bookworm "$work/rootfs.tar" "$mirror"
# What the official image sets and the Dockerfile relies on: a UTF-8 locale.
podman import \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    --change 'LABEL driftline.base=stand-in-built-by-tests/image/base.sh' \
    "$work/rootfs.tar" "$BASE"
echo "Base image $BASE: built"
