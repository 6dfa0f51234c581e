#!/usr/bin/env bash
# Sets everything up and runs the whole test suite. PostgreSQL tests run when WANGGE_TEST_PG_URL is set.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/python -m pytest "$@"
