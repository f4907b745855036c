#!/bin/sh
# System packages `make setup` needs beyond Python: Chromium and its driver, for the control
# room's browser test (tests/python/control_room/test_browser.py; selenium drives the system
# browser, nothing is downloaded at test time). Idempotent: nothing happens when both are there.
set -eu

missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v chromedriver >/dev/null 2>&1 || missing="$missing chromium-driver"
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: missing$missing: install Chromium and chromedriver with your system's package manager (the control room's browser test needs them)" >&2
    exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
echo "installing$missing (apt-get)"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
