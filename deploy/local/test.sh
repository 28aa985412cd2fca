#!/usr/bin/env bash
# Runs the whole test suite: finds (or installs) a nats-server and exports NATS_SERVER_BIN, which the
# integration tests' harness starts on free ports with temporary stores. Extra arguments go to
# `cargo test` (e.g. `./deploy/local/test.sh -p tatrack-eventlog` or `-- --nocapture`).
set -euo pipefail

cd "$(dirname "$0")/../.."

# shellcheck source=deploy/local/install-nats.sh
source ./deploy/local/install-nats.sh

# Debian packages the suite needs, installed when their command is missing: xmllint (the IATI
# export test validates its output against the IATI schema; it fails, it does not skip, without
# it), faketime (the suite's last step runs the date-sensitive tests with the machine's clock
# five years ahead, to show that nothing reads it) and openssl (the HTTPS test makes its
# certificate with it).
apt_install() {
    local command="$1" package="$2"
    command -v "$command" >/dev/null 2>&1 && return 0
    echo "$command not found: installing $package" >&2
    local sudo_cmd=()
    [[ "$(id -u)" != "0" ]] && sudo_cmd=(sudo)
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "no apt-get: install $package yourself" >&2
        return 1
    fi
    "${sudo_cmd[@]}" apt-get install -y "$package" >/dev/null \
        || { "${sudo_cmd[@]}" apt-get update >/dev/null && "${sudo_cmd[@]}" apt-get install -y "$package" >/dev/null; }
}
apt_install xmllint libxml2-utils
apt_install faketime faketime
apt_install openssl openssl

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
cargo test --workspace --all-targets --locked --no-fail-fast "$@" 2>&1 | tee "$log" || status=$?

# The whole suite runs on the tests' own clock (2031, see tests/src/lib.rs). To show that no
# code reads the machine's clock, run the date-sensitive end-to-end tests again with the machine
# five years ahead (faketime; the monotonic clock is left alone so timers behave): the business
# dates, matching and the web console.
if [[ $# -eq 0 && $status -eq 0 ]]; then
    # The e2e test binary by name: the package's bin (tatrack-under-test) is an artifact too, and
    # was sometimes the last one listed, so faketime ran it instead and its usage "passed".
    e2e=$(cargo test -p tatrack-tests --test e2e --locked --no-run --message-format=json 2>/dev/null \
        | grep -o '"executable":"[^"]*/deps/e2e-[^"]*"' | tail -n 1 | cut -d'"' -f4)
    [[ -x "$e2e" ]] || { echo "error: the e2e test binary was not found" >&2; exit 1; }
    echo "==> the date-sensitive e2e tests with the machine's clock five years ahead (faketime)"
    FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f '+1826d' "$e2e" business_dates:: matching:: console 2>&1 \
        | tee -a "$log" || status=$?
fi
passed=$(grep -Eo '^test result: .* ([0-9]+) passed' "$log" | grep -Eo '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed;' "$log" | awk '{s+=$1} END {print s+0}')
echo
echo "tests: ${passed} passed, ${failed} failed"
exit "$status"
