#!/usr/bin/env bash
# Makes Debian's chromium available for the browser tests and `npm run
# screenshots`. Playwright's and Puppeteer's own browser downloads cannot reach
# their hosts from the machines this project runs on, so the browser comes from
# the distribution instead (package `chromium`, binary /usr/bin/chromium).
#
# Prints the browser's path on stdout and nothing else there, so callers can
# do CHROMIUM="$(bash scripts/setup-chromium.sh)". A fast no-op once present.
# TICKSTREAM_CHROMIUM points at another binary (e.g. Google Chrome on a Mac).
set -euo pipefail

if [ -n "${TICKSTREAM_CHROMIUM:-}" ]; then
  if [ -x "$TICKSTREAM_CHROMIUM" ]; then echo "$TICKSTREAM_CHROMIUM"; exit 0; fi
  echo "setup-chromium: TICKSTREAM_CHROMIUM='$TICKSTREAM_CHROMIUM' is not an executable file" >&2
  exit 1
fi

for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -x "$candidate" ]; then echo "$candidate"; exit 0; fi
done

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-chromium: no chromium found and no apt-get to install it. Install Chromium or Chrome and set TICKSTREAM_CHROMIUM to its binary." >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "setup-chromium: chromium is missing and installing it needs root: run 'sudo apt-get install -y chromium', or set TICKSTREAM_CHROMIUM" >&2
    exit 1
  fi
fi

# Two jest workers on a fresh clone may both get here: serialise on a lock so
# dpkg is not run twice at once.
LOCK="${TMPDIR:-/tmp}/tickstream-chromium.lock"
exec 9>"$LOCK"
flock 9
if [ ! -x /usr/bin/chromium ]; then
  echo "setup-chromium: installing Debian's chromium (first run only, about a minute)" >&2
  export DEBIAN_FRONTEND=noninteractive
  # A fresh machine may have no package lists yet; update only if the install
  # cannot find the package, since an update costs more than the install.
  if ! $SUDO apt-get install -y --no-install-recommends chromium >&2; then
    $SUDO apt-get update >&2
    $SUDO apt-get install -y --no-install-recommends chromium >&2
  fi
fi
echo /usr/bin/chromium
