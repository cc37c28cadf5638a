#!/usr/bin/env bash
# `npm test`: every vitest project (worker pool, node, end to end), then one plain summary line
#   tests: N passed, M failed
# computed from vitest's JSON report, because CI counts that line and not vitest's own
# (coloured, reporter-dependent) summary. Extra arguments go to vitest: `npm test -- test/node`.
set -uo pipefail # no -e: a failing vitest run must still reach the summary line

cd "$(dirname "$0")/.."

# Same isolation as `npm start`: no metrics, no Request.cf download, wrangler's own files
# (registry, logs) inside the project rather than shared with other processes on the machine.
export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false
export XDG_CONFIG_HOME="$PWD/.xdg"
mkdir -p "$XDG_CONFIG_HOME"

# The agent and end-to-end tests drive a real Docker engine. Bring one up when none answers
# (installs Debian's docker.io as root); if that is impossible the Docker tests fail with
# the reason, and every other test still runs and is counted.
bash scripts/ensure-docker.sh || echo "kai: no Docker engine; the Docker tests will fail (see above for what to do)" >&2

# The browser tests drive Debian's Chromium; like Docker, install it when missing (as root).
bash scripts/ensure-chromium.sh || echo "kai: no Chromium; the browser tests will fail (see above for what to do)" >&2

# The kai-agent service tests check its unit with systemd-analyze and run it under a private
# `systemd --user`; like Docker, install systemd when missing (as root).
bash scripts/ensure-systemd-analyze.sh || echo "kai: no systemd tools; the service tests will fail (see above)" >&2

# The Worker serves the dashboard from web/dist (wrangler.toml [assets]); the Workers pool and
# every started Worker refuse to run without that folder, and the browser tests drive the build.
# Built once: the browser tests' own set-up skips its build when KAI_WEB_BUILT says this one is fresh.
if npm run --silent build:web; then
  export KAI_WEB_BUILT=1
else
  echo "kai: the dashboard did not build; the browser tests will fail" >&2
fi

report_dir="$(mktemp -d)"
trap 'rm -rf "$report_dir"' EXIT
report="$report_dir/vitest.json"

npx vitest run --reporter=default --reporter=json --outputFile="$report" "$@"
vitest_status=$?

# A crashing test file has no failed *tests* (its tests never ran), only a failed file
# result; a run can also exit non-zero with every test green (unhandled error, bad config).
# Both must still count as failures, so a broken suite can never print "0 failed".
node - "$report" "$vitest_status" <<'EOF'
const fs = require("node:fs");
const [file, status] = process.argv.slice(2);
let passed = 0;
let failed = 0;
try {
  const report = JSON.parse(fs.readFileSync(file, "utf8"));
  passed = report.numPassedTests ?? 0;
  failed = report.numFailedTests ?? 0;
  for (const result of report.testResults ?? []) {
    const failedInFile = (result.assertionResults ?? []).filter((a) => a.status === "failed").length;
    if (result.status === "failed" && failedInFile === 0) failed += 1;
  }
} catch {
  // No report at all: vitest could not even start.
}
if (Number(status) !== 0 && failed === 0) failed = 1;
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
EOF
