#!/usr/bin/env bash
# Runs the whole test suite: finds (or installs) a nats-server and exports NATS_SERVER_BIN, which the
# integration tests' harness starts on free ports with temporary stores. Extra arguments go to
# `cargo test` (e.g. `./deploy/local/test.sh -p tatrack-eventlog` or `-- --nocapture`).
set -euo pipefail

cd "$(dirname "$0")/../.."

# shellcheck source=deploy/local/install-nats.sh
source ./deploy/local/install-nats.sh

if [[ "${CI:-}" == "true" ]]; then
    export CARGO_TERM_COLOR=never
fi

status=0
cargo test --workspace --locked "$@" || status=$?
exit "$status"
