#!/usr/bin/env bash
# Runs the web console's browser tests: Debian's chromium (installed with apt-get when missing),
# the pinned npm packages (npm ci), the tatrack binary (built, debug, unless TATRACK_BIN names one)
# and a nats-server (NATS_SERVER_BIN, PATH or ./.tools; the harness installs one like
# deploy/local/install-nats.sh otherwise); then `node --test`. Screenshots go to
# tests/browser/artifacts/. Settings: TATRACK_BIN, CHROMIUM_BIN, NATS_SERVER_BIN,
# TATRACK_BROWSER_ROUNDS (how many times every role walks its screens, default 1),
# TATRACK_BROWSER_KEEP=1 (keep the temporary data directory).
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT="$(pwd)"

if [[ -z "${CHROMIUM_BIN:-}" ]] && ! command -v chromium >/dev/null 2>&1; then
    echo "chromium not found: installing it with apt-get" >&2
    sudo_cmd=()
    [[ "$(id -u)" != "0" ]] && sudo_cmd=(sudo)
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "error: no apt-get: install chromium yourself, or set CHROMIUM_BIN" >&2
        exit 1
    fi
    "${sudo_cmd[@]}" apt-get install -y chromium >/dev/null \
        || { "${sudo_cmd[@]}" apt-get update >/dev/null && "${sudo_cmd[@]}" apt-get install -y chromium >/dev/null; }
fi
export CHROMIUM_BIN="${CHROMIUM_BIN:-$(command -v chromium)}"

# shellcheck source=deploy/local/install-nats.sh
source "$ROOT/deploy/local/install-nats.sh"

echo "==> npm ci (tests/browser)" >&2
npm ci --prefix tests/browser --no-audit --no-fund >&2

if [[ -z "${TATRACK_BIN:-}" ]]; then
    echo "==> cargo build -p tatrack --bin tatrack --locked" >&2
    cargo build -p tatrack --bin tatrack --locked
    TATRACK_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/tatrack"
fi
export TATRACK_BIN

cd tests/browser
exec node --test --test-concurrency=1 ./*.test.mjs
