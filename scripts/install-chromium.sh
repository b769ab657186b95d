#!/usr/bin/env bash
# Installs Debian's chromium for the share page's headless browser tests.
# Idempotent: exits at once when /usr/bin/chromium is already there.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    echo "install-chromium: /usr/bin/chromium already installed ($(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown'))"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-chromium: not root and sudo is missing; run as root" >&2
        exit 1
    fi
fi

echo "install-chromium: apt-get update"
$SUDO apt-get update
echo "install-chromium: apt-get install chromium"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
echo "install-chromium: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
