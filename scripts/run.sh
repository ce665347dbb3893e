#!/usr/bin/env bash
# Install Kefu and run it on its embedded SQLite store with demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -e .
exec kefu serve --demo "$@"
