#!/usr/bin/env bash
# Install the system packages the test suite needs, when they are missing:
# PostgreSQL (the second database backend) and Chromium (the browser tests drive /usr/bin/chromium).
# Fails loudly (never skips) when they cannot be installed.
set -euo pipefail

need=()
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && ! command -v initdb >/dev/null; then
    need+=(postgresql)
fi
if [ ! -x /usr/bin/chromium ]; then
    need+=(chromium)
fi
if ! command -v runuser >/dev/null && [ "$(id -u)" = 0 ]; then
    need+=(util-linux)
fi

if [ ${#need[@]} -eq 0 ]; then
    exit 0
fi

echo "system-deps: installing ${need[*]}" >&2
if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "system-deps: ERROR: need ${need[*]} but cannot install (not root, no passwordless sudo)." >&2
    echo "system-deps: install them with: apt-get install ${need[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q || { echo "system-deps: ERROR: apt-get update failed" >&2; exit 1; }
$SUDO apt-get install -y -q --no-install-recommends "${need[@]}" || {
    echo "system-deps: ERROR: apt-get install ${need[*]} failed" >&2; exit 1; }
if [[ " ${need[*]} " == *" postgresql "* ]] && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    echo "system-deps: ERROR: postgresql installed but initdb not found" >&2
    exit 1
fi
if [ ! -x /usr/bin/chromium ]; then
    echo "system-deps: ERROR: chromium installed but /usr/bin/chromium not found" >&2
    exit 1
fi
