#!/usr/bin/env bash
# Batch geocoding throughput on one core (the issue's target: >= 2,000 addresses/s), written to results-geocode.md.
#   bench/geocode.sh [N]    N addresses (default 20000): the regression inputs repeated
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
N=${1:-20000}


out=$("$REPO/.venv/bin/python" -m gis.geocode.bench -n "$N" 2>&1)
{
  echo "# Batch geocoding throughput"
  echo
  echo "Run: $(date -u +%Y-%m-%dT%H:%M:%SZ), command: \`bench/geocode.sh $N\` (pinned to one core by the script; $(nproc) cores on the machine)."
  echo "Inputs: the $(($(wc -l < "$REPO/tests/data/addresses_regression.csv") - 1)) regression addresses of tests/data/addresses_regression.csv repeated to $N lines;"
  echo "reference: the bundled 大字/町 points and Japan Post aliases. Target: >= 2,000 addresses/s on one core."
  echo
  echo '```'
  echo "$out"
  echo '```'
} > "$HERE/results-geocode.md"
cat "$HERE/results-geocode.md"
