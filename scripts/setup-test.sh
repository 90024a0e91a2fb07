#!/usr/bin/env bash
# The set-up for the tests (the README's test command and CI): scripts/setup.sh, plus a Java
# runtime for the Spark tests (pyspark 4 needs Java 17 or 21) and Chromium for the report's
# browser tests, both from Debian's packages when missing. Java comes from Debian's
# packages (default-jre-headless: 17 on bookworm, 21 on trixie) when none >= 17 is installed;
# that step needs root or sudo.
set -euo pipefail
cd "$(dirname "$0")/.."
java_major() { java -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print v[1]; exit}'; }
if ! command -v java >/dev/null 2>&1 || [ "$(java_major)" -lt 17 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends default-jre-headless >/dev/null
  echo "setup-test: installed $(java -version 2>&1 | head -1)"
fi
# headless Chromium (Debian's package) opens the HTML report in tests/report/
if ! command -v chromium >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
  echo "setup-test: installed $(chromium --version 2>/dev/null)"
fi
bash scripts/setup.sh
# pyspark for the Spark tests: an extra of its own, so the quick start's set-up skips it
if ! .venv/bin/python -c "import pyspark" 2>/dev/null; then
  .venv/bin/python -m pip install --quiet -c constraints.txt -e ".[spark]"
fi
