#!/usr/bin/env bash
# Creates the git-ignored Python venv .venv/ with moto's server and AWS's
# cfn-lint, pinned by scripts/requirements-moto.txt and
# scripts/requirements-cfn-lint.txt (+ scripts/python-constraints.txt when
# present).
#
# Idempotent and cheap when nothing changed: a stamp file records the hash of
# the requirement files, so the common case (venv present, same pins) is one
# sha256sum and an exit. Concurrent callers (two jest processes on a fresh
# clone) serialise on a lock instead of building the venv twice.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
REQS=("$ROOT/scripts/requirements-moto.txt" "$ROOT/scripts/requirements-cfn-lint.txt")
CONSTRAINTS="$ROOT/scripts/python-constraints.txt"
STAMP="$VENV/.tickstream-requirements.sha256"
PYTHON="${PYTHON:-python3}"

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "setup-python: '$PYTHON' not found. Install Python 3.9+ with the venv module (Debian: apt-get install python3 python3-venv)." >&2
  exit 1
fi

want_hash() {
  if [ -f "$CONSTRAINTS" ]; then cat "${REQS[@]}" "$CONSTRAINTS"; else cat "${REQS[@]}"; fi | sha256sum | cut -d' ' -f1
}

up_to_date() {
  [ -x "$VENV/bin/moto_server" ] && [ -x "$VENV/bin/cfn-lint" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(want_hash)" ]
}

if up_to_date; then exit 0; fi

# The lock lives outside the work tree so it never shows up in git status.
LOCK="${TMPDIR:-/tmp}/tickstream-venv-$(printf '%s' "$VENV" | sha256sum | cut -c1-16).lock"
exec 9>"$LOCK"
flock 9
# Another process may have finished the install while we waited for the lock.
if up_to_date; then exit 0; fi

echo "setup-python: creating $VENV with $(cat "${REQS[@]}" | grep -v '^#' | tr '\n' ' ')(first run takes a minute or two)" >&2
if ! "$PYTHON" -m venv "$VENV" >&2; then
  echo "setup-python: '$PYTHON -m venv' failed. On Debian/Ubuntu install python3-venv." >&2
  exit 1
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
if [ -f "$CONSTRAINTS" ]; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${REQS[@]/#/--requirement=}" -c "$CONSTRAINTS" >&2
else
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${REQS[@]/#/--requirement=}" >&2
fi
"$VENV/bin/moto_server" --help >/dev/null
"$VENV/bin/cfn-lint" --version >/dev/null
want_hash >"$STAMP"
echo "setup-python: ready ($("$VENV/bin/python" -c 'import moto; print("moto", moto.__version__)') $("$VENV/bin/cfn-lint" --version))" >&2
