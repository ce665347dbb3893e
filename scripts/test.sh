#!/usr/bin/env bash
# Install what the tests need (Debian's Chromium, CJK fonts, dovecot, redis-server; Python test extras), then run them.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=()
command -v chromium >/dev/null 2>&1 || apt_packages+=(chromium)
command -v dovecot >/dev/null 2>&1 || apt_packages+=(dovecot-imapd)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || apt_packages+=(fonts-noto-cjk)
command -v redis-server >/dev/null 2>&1 || apt_packages+=(redis-server)
if [ ${#apt_packages[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

python3 -m pip install -q -e ".[test,nlu-accurate]"
# One pytest worker per core (KEFU_TEST_WORKERS=0 runs in one process): the browser, PostgreSQL and
# two-process stories mostly wait, so two workers halve the suite's time on a 2-core machine.
exec python3 -m pytest -n "${KEFU_TEST_WORKERS:-auto}" "$@"
