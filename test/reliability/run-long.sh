#!/usr/bin/env bash
# Runs the long variants of the reliability suites (issue 8 items 2, 3, 4, 5, 8) on this machine.
#   test/reliability/run-long.sh [--seconds N]      N: soak duration, default 600
# Builds the sidecar bundle first (the suites start bin/rolecall.js as a child process).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_SOAK=600
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_SOAK="$2"; shift 2 ;;
    *) echo "usage: $0 [--seconds N]" >&2; exit 2 ;;
  esac
done
node scripts/build.js --sidecar
# Long variants: differential 120 s at ~1,000 checks/s; freshness 2,000 checks/s x 1,000 writes;
# 200 writer kills (these three over SQLite and again over a PostgreSQL primary the sidecar
# follows, which the suites start themselves); broken store with 10 s faults, 3 rounds; fleet
# faults: a 30 s primary outage, 50 writer kills, 40 replica writes, a 20 s partition.
ROLECALL_LONG=1 npx vitest run \
  test/reliability/differential.test.ts \
  test/reliability/freshness.test.ts \
  test/reliability/writer-crash.test.ts \
  test/reliability/broken-store.test.ts \
  test/reliability/fleet-faults.test.ts \
  --testTimeout 1200000 --hookTimeout 120000
npx tsx test/reliability/soak.ts --seconds "$SECONDS_SOAK" --rate 2000 --json "soak-$(date +%s).json"
