#!/usr/bin/env bash
# The workspace gets its own .venv, made by this machine's Python: the packages come from the
# pinned environment $REHEARSAL_VENV, the driftline package from the workspace's own src/.
# `make setup` then finds it installed and does nothing (no download).
set -euo pipefail
venv="$GITHUB_WORKSPACE/.venv"
base=$("$REHEARSAL_VENV/bin/python" -c 'import sys; print(sys._base_executable)')
deps=$("$REHEARSAL_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
"$base" -m venv --without-pip "$venv"
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$GITHUB_WORKSPACE/src" > "$site/driftline-workspace.pth"
echo "$deps" > "$site/pinned-environment.pth"
for tool in "$REHEARSAL_VENV"/bin/*; do
  name=$(basename "$tool")
  case "$name" in
    python* | pip* | activate* | Activate* | driftline) ;;
    *) ln -sf "$tool" "$venv/bin/$name" ;;
  esac
done
printf '#!/bin/sh\nexec "%s/bin/python" -m driftline.tooling.cli "$@"\n' "$venv" > "$venv/bin/driftline"
chmod +x "$venv/bin/driftline"
# As `make setup` does: the workspace's byte code compiled once, not by every process.
"$venv/bin/python" -m compileall -q "$GITHUB_WORKSPACE/src" >/dev/null
touch "$venv/.installed"
echo "$(dirname "$base")" >> "$GITHUB_PATH"
echo "python-path=$base" >> "$GITHUB_OUTPUT"
