#!/usr/bin/env bash
# Sets everything up and runs the main job on the embedded default (SQLite): checks and summarises every
# example county and base pack.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/wangge check rulepacks/cn.* examples/counties/*/
