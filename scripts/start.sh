#!/usr/bin/env bash
# Sets everything up and runs the main job on the embedded default (SQLite): checks every example county and
# base pack, then serves the portal for every example county (wangge serve; Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/wangge check rulepacks/cn.* examples/counties/*/
exec .venv/bin/wangge serve "$@"
