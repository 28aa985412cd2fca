#!/usr/bin/env bash
# Runs tatrack on this machine: finds (or installs) a nats-server, builds the release binary, starts
# the nats-server with JetStream and tatrack's users and permissions unless NATS_URL names a server
# that is already up, starts every service with `tatrack up --demo` (the demo data set and the
# demo's tokens load idempotently), prints the URL and the tokens to sign in with, and waits.
# Ctrl-C stops it all.
#
# NATS runs with authentication: `tatrack nats config` generates one nkey per service, one for the
# gateway and one admin key (the server host's own commands: `admin bootstrap`, `demo load`) into
# $TATRACK_NATS_CREDENTIALS (default $TATRACK_DATA_DIR/nats-auth, 0700, never committed) on first
# start, and writes the server's
# config (public keys and permissions only) to $TATRACK_DATA_DIR/nats-server.conf.
#
# Settings: NATS_URL (use this server if it answers; it must know the keys), NATS_PORT (default
# 4222, for the server this script starts), TATRACK_DATA_DIR (default ./data; the server's store
# goes under it, in nats/), TATRACK_NATS_CREDENTIALS.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT="$(pwd)"

# shellcheck source=deploy/local/install-nats.sh
source "$ROOT/deploy/local/install-nats.sh"

NATS_PORT="${NATS_PORT:-4222}"
TATRACK_DATA_DIR="${TATRACK_DATA_DIR:-./data}"
mkdir -p "$TATRACK_DATA_DIR"
TATRACK_DATA_DIR="$(cd "$TATRACK_DATA_DIR" && pwd)"
export TATRACK_DATA_DIR
TATRACK_NATS_CREDENTIALS="${TATRACK_NATS_CREDENTIALS:-$TATRACK_DATA_DIR/nats-auth}"
export TATRACK_NATS_CREDENTIALS
TATRACK_HTTP_ADDR="${TATRACK_HTTP_ADDR:-127.0.0.1:8080}"
export TATRACK_HTTP_ADDR
HTTP_URL="http://$TATRACK_HTTP_ADDR/api/v1"

nats_pid=""
tatrack_pid=""
# Children run in their own session, so Ctrl-C reaches only this script, which then stops tatrack
# before NATS (tatrack drains its work through NATS as it stops).
detach=()
command -v setsid >/dev/null 2>&1 && detach=(setsid)

# Answers whether something accepts TCP connections at the host:port of a NATS URL (the first one
# of a comma-separated list; user:password@ is skipped).
answers() {
    local url="${1%%,*}" host port
    url="${url#*://}"
    url="${url##*@}"
    url="${url%%/*}"
    host="${url%:*}"
    port="${url##*:}"
    [[ "$host" == "$url" ]] && port=4222
    [[ -z "$host" ]] && host=127.0.0.1
    timeout 2 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
}

stop() {
    local status=$?
    trap - EXIT INT TERM
    if [[ -n "$tatrack_pid" ]] && kill -0 "$tatrack_pid" 2>/dev/null; then
        echo "stopping tatrack (pid $tatrack_pid)" >&2
        kill -TERM "$tatrack_pid" 2>/dev/null || true
        wait "$tatrack_pid" 2>/dev/null || true
    fi
    if [[ -n "$nats_pid" ]] && kill -0 "$nats_pid" 2>/dev/null; then
        echo "stopping nats-server (pid $nats_pid)" >&2
        kill -TERM "$nats_pid" 2>/dev/null || true
        wait "$nats_pid" 2>/dev/null || true
    fi
    exit "$status"
}
trap stop EXIT
trap 'exit 0' INT TERM

# The binary first: it writes the server's config.
echo "building tatrack (release)..." >&2
cargo build --release -p tatrack
TATRACK="${CARGO_TARGET_DIR:-$ROOT/target}/release/tatrack"

if [[ -n "${NATS_URL:-}" ]] && answers "$NATS_URL"; then
    echo "using the NATS server at $NATS_URL: it must run with the users of" >&2
    echo "  $TATRACK nats config --out FILE (keys in $TATRACK_NATS_CREDENTIALS)" >&2
else
    if [[ -n "${NATS_URL:-}" ]]; then
        echo "nothing answers at NATS_URL=$NATS_URL: starting a nats-server on port $NATS_PORT" >&2
    fi
    if answers "nats://127.0.0.1:$NATS_PORT"; then
        echo "error: port $NATS_PORT is taken; set NATS_URL=nats://127.0.0.1:$NATS_PORT to use the" >&2
        echo "       server there, or NATS_PORT to another port" >&2
        exit 1
    fi
    mkdir -p "$TATRACK_DATA_DIR/nats"
    nats_log="$TATRACK_DATA_DIR/nats-server.log"
    # Listen address, JetStream store, max_payload (above the services' own 1 MiB limit, so they,
    # not NATS, refuse big bodies by name) and every user by its public key with its permissions;
    # the keys are generated on the first start and kept.
    nats_conf="$TATRACK_DATA_DIR/nats-server.conf"
    "$TATRACK" nats config --out "$nats_conf" --listen "127.0.0.1:$NATS_PORT" \
        --store-dir "$TATRACK_DATA_DIR/nats"
    "${detach[@]}" "$NATS_SERVER_BIN" -c "$nats_conf" >"$nats_log" 2>&1 &
    nats_pid=$!
    NATS_URL="nats://127.0.0.1:$NATS_PORT"
    deadline=$((SECONDS + 20))
    until answers "$NATS_URL"; do
        if ! kill -0 "$nats_pid" 2>/dev/null; then
            echo "error: nats-server exited; its log ($nats_log):" >&2
            tail -n 20 "$nats_log" >&2
            nats_pid=""
            exit 1
        fi
        if ((SECONDS >= deadline)); then
            echo "error: nats-server does not answer on port $NATS_PORT after 20 s (log: $nats_log)" >&2
            exit 1
        fi
        sleep 0.2
    done
    echo "started nats-server (pid $nats_pid) at $NATS_URL, log in $nats_log" >&2
fi
export NATS_URL

# `up --demo` prints the demo's admin, coordinator and donor tokens and its console sign-ins on
# stdout (kept in a private file, as they are secrets); its logs go to stderr.
up_out="$TATRACK_DATA_DIR/tatrack-up.out"
(umask 077 && : >"$up_out")
"${detach[@]}" "$TATRACK" up --demo >"$up_out" &
tatrack_pid=$!
TATRACK_URL="http://$TATRACK_HTTP_ADDR"
export TATRACK_URL

token_of() { sed -n "s/^$1 token: //p" "$up_out" | tail -n 1; }

deadline=$((SECONDS + 60))
until [[ -n "$(token_of coordinator)" ]] &&
    TATRACK_TOKEN="$(token_of coordinator)" "$TATRACK" need list >/dev/null 2>&1; do
    if ! kill -0 "$tatrack_pid" 2>/dev/null; then
        wait "$tatrack_pid" && status=0 || status=$?
        tatrack_pid=""
        echo "error: tatrack up exited (status $status) before it answered" >&2
        exit 1
    fi
    if ((SECONDS >= deadline)); then
        echo "error: tatrack does not answer 'need list' after 60 s (its output: $up_out)" >&2
        exit 1
    fi
    sleep 0.5
done
admin_token="$(token_of admin)"
coordinator_token="$(token_of coordinator)"
donor_token="$(token_of donor)"
# The console sign-ins (one per role) are printed right after the tokens.
sign_ins() { sed -n "s/^console sign-in: /  /p" "$up_out"; }
deadline=$((SECONDS + 15))
until [[ "$(sign_ins | wc -l)" -ge 5 ]] || ((SECONDS >= deadline)); do sleep 0.2; done

cat <<EOF

tatrack is up (pid $tatrack_pid). Ctrl-C stops it$([[ -n "$nats_pid" ]] && echo " and the nats-server").
  HTTP:     $HTTP_URL  (health: http://$TATRACK_HTTP_ADDR/readyz, metrics, with an admin token: http://$TATRACK_HTTP_ADDR/metrics)
  NATS:     $NATS_URL  (authenticated; server config: $TATRACK_DATA_DIR/nats-server.conf)
  data:     $TATRACK_DATA_DIR
  keys:     $TATRACK_NATS_CREDENTIALS  (NATS nkeys, private: for the server host's own commands)
  binary:   $TATRACK

the demo's tokens (also in $up_out, private):
  admin:        $admin_token
  coordinator:  $coordinator_token
  donor:        $donor_token   (DEMO-DONOR)

web console: http://$TATRACK_HTTP_ADDR/  (sign in in a browser)

the demo's web console sign-ins, e-mail / password (also in $up_out, private):
$(sign_ins)

try, in another shell (sign in once with \`$TATRACK login --url $TATRACK_URL\` and paste a
token; or set TATRACK_URL and TATRACK_TOKEN, which win over the saved login):
  export TATRACK_URL=$TATRACK_URL TATRACK_TOKEN=$coordinator_token
  $TATRACK need list
  $TATRACK need unmet
  $TATRACK assessment list
  TATRACK_TOKEN=$donor_token $TATRACK need list      # a donor sees what is shared with it
  TATRACK_TOKEN=$donor_token $TATRACK org portfolio
  $TATRACK match need 01930000-0000-7000-8000-000000000065    # ranked offers, with explanations
  $TATRACK report summary --format md                # today, provisional; also html, csv, json
  $TATRACK iati export --reporting-org UNOCT --out projects.xml
  TATRACK_TOKEN=$admin_token $TATRACK token issue --role auditor --label "audit office"
  NATS_URL=$NATS_URL TATRACK_NATS_CREDENTIALS=$TATRACK_NATS_CREDENTIALS $TATRACK stream verify  # server host
  curl -s -H "Authorization: Bearer $coordinator_token" $HTTP_URL/unmet-needs

EOF

# Wakes on Ctrl-C/TERM (the trap stops everything) or when tatrack exits by itself.
wait "$tatrack_pid" && status=0 || status=$?
tatrack_pid=""
echo "tatrack exited (status $status)" >&2
exit "$status"
