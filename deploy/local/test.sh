#!/usr/bin/env bash
# Runs the whole test suite: finds (or installs) a nats-server and exports NATS_SERVER_BIN, which the
# integration tests' harness starts on free ports with temporary stores. Extra arguments go to
# `cargo test` (e.g. `./deploy/local/test.sh -p tatrack-eventlog` or `-- --nocapture`).
set -euo pipefail

cd "$(dirname "$0")/../.."

# shellcheck source=deploy/local/install-nats.sh
source ./deploy/local/install-nats.sh

# The IATI export test validates its output with xmllint against the IATI schema; it fails (it
# does not skip) without it. Debian and Ubuntu ship it in libxml2-utils.
if ! command -v xmllint >/dev/null 2>&1; then
    echo "xmllint not found: installing libxml2-utils" >&2
    sudo_cmd=()
    if [[ "$(id -u)" != "0" ]]; then
        sudo_cmd=(sudo)
    fi
    if command -v apt-get >/dev/null 2>&1; then
        "${sudo_cmd[@]}" apt-get install -y libxml2-utils >/dev/null \
            || { "${sudo_cmd[@]}" apt-get update >/dev/null && "${sudo_cmd[@]}" apt-get install -y libxml2-utils >/dev/null; }
    else
        echo "no apt-get: install xmllint (libxml2) yourself" >&2
        exit 1
    fi
fi

# The IATI tests apply the IATI Standard Ruleset with shared/iati/data/rulesets/check.py, which
# needs Python's lxml: installed into ./.tools/pip when missing, and put on PYTHONPATH.
# shellcheck source=deploy/local/install-lxml.sh
source ./deploy/local/install-lxml.sh

if [[ "${CI:-}" == "true" ]]; then
    export CARGO_TERM_COLOR=never
fi

# Every test binary prints its own "test result" line; the last one may be a crate with no tests,
# so add them up and close with one line that counts the whole suite.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace --all-targets --locked "$@" 2>&1 | tee "$log" || status=$?
passed=$(grep -Eo '^test result: .* ([0-9]+) passed' "$log" | grep -Eo '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed;' "$log" | awk '{s+=$1} END {print s+0}')
echo
echo "tests: ${passed} passed, ${failed} failed"
exit "$status"
