#!/usr/bin/env bash
# Runs tatrack as a three-node cluster on this one machine, to watch it survive the loss of a node:
# three nats-servers routed into one JetStream cluster (streams at three replicas), and on the
# three "nodes" (process groups sharing nothing but NATS) two instances of every service, so any
# one node can be killed. Builds the release binary, generates the NATS users' keys once, writes
# each server's config with `tatrack nats config --cluster-listen`, starts the servers, provisions
# the streams (`tatrack admin provision --replicas 3`), starts the services, loads the demo data
# set, prints the gateways' URLs, a token, the process ids and how to kill a node, and waits.
# Ctrl-C stops the tatrack processes first, then the nats-servers.
#
# The command services run in cluster mode (TATRACK_INSTANCE=<node>): both instances compete for
# a lease in the NATS KV bucket LEASES and only its holder serves.
#
# Layout (every node has a readmodel, a gateway or both; every service is on two nodes):
#   node1: assessments, projects, reporter, gateway (HTTP 127.0.0.1:8081)
#   node2: assessments, partners, reporter, readmodel
#   node3: partners, projects, readmodel, gateway (HTTP 127.0.0.1:8082)
#
# Settings: TATRACK_DATA_DIR (default ./data/cluster: nodeN/ holds server N's config, JetStream
# store, logs and its services' data), TATRACK_NATS_CREDENTIALS (default <data>/nats-auth),
# NATS_CLIENT_PORTS (default "4231 4232 4233"), NATS_CLUSTER_PORTS ("6231 6232 6233"),
# NATS_MONITOR_PORTS ("8231 8232 8233": each server's /healthz), GATEWAY_ADDRS
# ("127.0.0.1:8081 127.0.0.1:8082"), OPS_PORT_BASE (9230: the other services' /readyz on
# consecutive ports from there), TATRACK_LEASE_TTL (seconds a lease outlives its holder).
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT="$(pwd)"

# shellcheck source=deploy/local/install-nats.sh
source "$ROOT/deploy/local/install-nats.sh"

read -r -a client_ports <<<"${NATS_CLIENT_PORTS:-4231 4232 4233}"
read -r -a cluster_ports <<<"${NATS_CLUSTER_PORTS:-6231 6232 6233}"
read -r -a monitor_ports <<<"${NATS_MONITOR_PORTS:-8231 8232 8233}"
read -r -a gateway_addrs <<<"${GATEWAY_ADDRS:-127.0.0.1:8081 127.0.0.1:8082}"
OPS_PORT_BASE="${OPS_PORT_BASE:-9230}"
for list in client_ports cluster_ports monitor_ports; do
    declare -n ports="$list"
    if ((${#ports[@]} != 3)); then
        echo "error: $list needs three ports, got: ${ports[*]}" >&2
        exit 1
    fi
    unset -n ports
done
if ((${#gateway_addrs[@]} != 2)); then
    echo "error: GATEWAY_ADDRS needs two host:port, got: ${gateway_addrs[*]}" >&2
    exit 1
fi

TATRACK_DATA_DIR="${TATRACK_DATA_DIR:-./data/cluster}"
mkdir -p "$TATRACK_DATA_DIR"
DATA="$(cd "$TATRACK_DATA_DIR" && pwd)"
TATRACK_NATS_CREDENTIALS="${TATRACK_NATS_CREDENTIALS:-$DATA/nats-auth}"
export TATRACK_NATS_CREDENTIALS
# The server host's own commands (nats config, admin provision, demo load, admin bootstrap) run
# with this data directory; each service gets its node's.
export TATRACK_DATA_DIR="$DATA"

nats_urls=()
for port in "${client_ports[@]}"; do nats_urls+=("nats://127.0.0.1:$port"); done
NATS_URL="$(
    IFS=,
    echo "${nats_urls[*]}"
)"
export NATS_URL

# Children run in their own session, so Ctrl-C reaches only this script, which then stops tatrack
# before NATS (tatrack drains its work through NATS as it stops).
detach=()
command -v setsid >/dev/null 2>&1 && detach=(setsid)

nats_pids=()
tatrack_pids=()
tatrack_names=()

# Answers whether something accepts TCP connections at host:port.
listening() {
    timeout 2 bash -c "exec 3<>/dev/tcp/${1%:*}/${1##*:}" 2>/dev/null
}

# Answers whether GET http://host:port/path answers 200 (bash only: no curl needed).
http_ok() {
    local addr="$1" path="$2"
    # shellcheck disable=SC2016 # expanded by the inner bash, from its arguments
    timeout 3 bash -c '
        exec 3<>"/dev/tcp/${1%:*}/${1##*:}" || exit 1
        printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" "$1" >&3
        IFS=" " read -r _ status _ <&3
        [[ "$status" == 200 ]]' _ "$addr" "$path" 2>/dev/null
}

stop_pid() {
    local pid="$1" what="$2"
    if kill -0 "$pid" 2>/dev/null; then
        echo "stopping $what (pid $pid)" >&2
        kill -TERM "$pid" 2>/dev/null || true
    fi
}

stop() {
    local status=$? pid i
    trap - EXIT INT TERM
    # tatrack first, all at once, then wait; NATS after, so the services drain through it.
    for i in "${!tatrack_pids[@]}"; do stop_pid "${tatrack_pids[$i]}" "${tatrack_names[$i]}"; done
    for pid in "${tatrack_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    for i in "${!nats_pids[@]}"; do stop_pid "${nats_pids[$i]}" "nats-server node$((i + 1))"; done
    for pid in "${nats_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    exit "$status"
}
trap stop EXIT
trap 'exit 0' INT TERM

for port in "${client_ports[@]}" "${cluster_ports[@]}" "${monitor_ports[@]}"; do
    if listening "127.0.0.1:$port"; then
        echo "error: port $port is taken (a cluster from an earlier run still up?); set" >&2
        echo "       NATS_CLIENT_PORTS, NATS_CLUSTER_PORTS or NATS_MONITOR_PORTS to free ports" >&2
        exit 1
    fi
done
for addr in "${gateway_addrs[@]}"; do
    if listening "$addr"; then
        echo "error: $addr is taken; set GATEWAY_ADDRS to two free host:port" >&2
        exit 1
    fi
done
for ((port = OPS_PORT_BASE; port < OPS_PORT_BASE + 10; port++)); do
    if listening "127.0.0.1:$port"; then
        echo "error: port $port is taken; set OPS_PORT_BASE to the first of ten free ports" >&2
        exit 1
    fi
done

echo "building tatrack (release)..." >&2
cargo build --release -p tatrack
TATRACK="${CARGO_TARGET_DIR:-$ROOT/target}/release/tatrack"

# One config per server: the same users (their keys are generated into the credentials directory
# by the first call and reused by the others and by every later run), its own name, store and
# ports, and routes to the other two.
for i in 0 1 2; do
    node="node$((i + 1))"
    mkdir -p "$DATA/$node/nats" "$DATA/$node/logs" "$DATA/$node/tatrack"
    routes=()
    for j in 0 1 2; do
        ((j == i)) || routes+=(--route "nats-route://127.0.0.1:${cluster_ports[$j]}")
    done
    "$TATRACK" nats config --out "$DATA/$node/nats-server.conf" \
        --listen "127.0.0.1:${client_ports[$i]}" --store-dir "$DATA/$node/nats" \
        --server-name "$node" --cluster-listen "127.0.0.1:${cluster_ports[$i]}" "${routes[@]}"
done

# Sets nats_command to server $1's command line (also printed, to restart a killed one by hand).
# -m: the monitoring port (on the listen host, 127.0.0.1), for /healthz.
nats_command_of() {
    nats_command=("$NATS_SERVER_BIN" -c "$DATA/node$(($1 + 1))/nats-server.conf" -m "${monitor_ports[$1]}")
}

for i in 0 1 2; do
    node="node$((i + 1))"
    nats_command_of "$i"
    "${detach[@]}" "${nats_command[@]}" >>"$DATA/$node/logs/nats-server.log" 2>&1 &
    nats_pids+=($!)
    echo "$!" >"$DATA/$node/pids"
done

# Ready when every server's /healthz says JetStream is up: each then has its routes and knows the
# meta leader (a quorum has formed).
deadline=$((SECONDS + 30))
for i in 0 1 2; do
    node="node$((i + 1))"
    until http_ok "127.0.0.1:${monitor_ports[$i]}" /healthz; do
        if ! kill -0 "${nats_pids[$i]}" 2>/dev/null; then
            echo "error: nats-server $node exited; its log:" >&2
            tail -n 20 "$DATA/$node/logs/nats-server.log" >&2
            exit 1
        fi
        if ((SECONDS >= deadline)); then
            echo "error: nats-server $node not healthy after 30 s (log: $DATA/$node/logs/nats-server.log)" >&2
            exit 1
        fi
        sleep 0.2
    done
done
echo "NATS cluster up: $NATS_URL" >&2

# Provisioning creates every service's stream at three replicas and the LEASES bucket; it is
# idempotent, so every run does it. Right after the servers start the meta leader may not have
# heard from every peer yet and refuses to place three replicas ("no suitable peers for
# placement"): tried again for 30 s.
deadline=$((SECONDS + 30))
until "$TATRACK" admin provision --replicas 3; do
    if ((SECONDS >= deadline)); then
        echo "error: \`tatrack admin provision --replicas 3\` failed for 30 s" >&2
        exit 1
    fi
    echo "provisioning again in 2 s" >&2
    sleep 2
done

# service node node: the two nodes each service runs on.
layout=(
    "assessments node1 node2"
    "partners node2 node3"
    "projects node3 node1"
    "reporter node1 node2"
    "readmodel node2 node3"
    "gateway node1 node3"
)

ops_port="$OPS_PORT_BASE"
gateway_index=0
endpoints=()
for entry in "${layout[@]}"; do
    read -r service first second <<<"$entry"
    nodes=("$first" "$second")
    for node in "${nodes[@]}"; do
        settings=(
            NATS_URL="$NATS_URL"
            TATRACK_NATS_CREDENTIALS="$TATRACK_NATS_CREDENTIALS"
            TATRACK_DATA_DIR="$DATA/$node/tatrack"
            TATRACK_INSTANCE="$node"
        )
        [[ -n "${TATRACK_LEASE_TTL:-}" ]] && settings+=(TATRACK_LEASE_TTL="$TATRACK_LEASE_TTL")
        if [[ "$service" == gateway ]]; then
            addr="${gateway_addrs[$gateway_index]}"
            gateway_index=$((gateway_index + 1))
            settings+=(TATRACK_HTTP_ADDR="$addr")
        else
            addr="127.0.0.1:$ops_port"
            ops_port=$((ops_port + 1))
            settings+=(TATRACK_OPS_ADDR="$addr")
        fi
        log="$DATA/$node/logs/$service.log"
        "${detach[@]}" env "${settings[@]}" "$TATRACK" serve "$service" >>"$log" 2>&1 &
        tatrack_pids+=($!)
        tatrack_names+=("$service on $node")
        echo "$!" >>"$DATA/$node/pids"
        endpoints+=("$(printf '%-11s %-5s pid %-7s http://%s/healthz  log %s' \
            "$service" "$node" "$!" "$addr" "$log")")
    done
done

# The gateways answer once they have started; the rest shows in the demo's loading.
deadline=$((SECONDS + 60))
for addr in "${gateway_addrs[@]}"; do
    until http_ok "$addr" /healthz; do
        for i in "${!tatrack_pids[@]}"; do
            if ! kill -0 "${tatrack_pids[$i]}" 2>/dev/null; then
                echo "error: ${tatrack_names[$i]} exited; the logs are in $DATA/node*/logs" >&2
                exit 1
            fi
        done
        if ((SECONDS >= deadline)); then
            echo "error: the gateway at $addr does not answer /healthz after 60 s" >&2
            exit 1
        fi
        sleep 0.5
    done
done
echo "gateways up: ${gateway_addrs[*]}" >&2

# The demo data has fixed ids and command ids: loading it again changes nothing.
echo "loading the demo data..." >&2
"$TATRACK" demo load

# One admin token, issued once and kept (private) in the data directory; a coordinator token
# issued with it. Both are checked through the first gateway, and reused while they work.
url1="http://${gateway_addrs[0]}"
url2="http://${gateway_addrs[1]}"
tokens="$DATA/tokens"
(umask 077 && touch "$tokens")
token_of() { sed -n "s/^$1 //p" "$tokens" | tail -n 1; }
works() {
    [[ -n "$1" ]] && TATRACK_URL="$url1" TATRACK_TOKEN="$1" "$TATRACK" whoami >/dev/null 2>&1
}
# The gateway learns of a new token from the partners stream: a moment after it is issued.
wait_until_known() {
    local deadline=$((SECONDS + 30))
    until works "$1"; do
        if ((SECONDS >= deadline)); then
            echo "error: the gateway at $url1 does not know the $2 token after 30 s" >&2
            exit 1
        fi
        sleep 0.5
    done
}
admin_token="$(token_of admin)"
if ! works "$admin_token"; then
    admin_token="$("$TATRACK" admin bootstrap --label "cluster demo admin")"
    echo "admin $admin_token" >>"$tokens"
    wait_until_known "$admin_token" admin
fi
coordinator_token="$(token_of coordinator)"
if ! works "$coordinator_token"; then
    coordinator_token="$(TATRACK_URL="$url1" TATRACK_TOKEN="$admin_token" \
        "$TATRACK" token issue --role coordinator --label "cluster demo coordinator")"
    echo "coordinator $coordinator_token" >>"$tokens"
    wait_until_known "$coordinator_token" coordinator
fi

nats_lines=()
for i in 0 1 2; do
    nats_lines+=("$(printf 'node%s  pid %-7s %s  (health http://127.0.0.1:%s/healthz, log %s)' \
        "$((i + 1))" "${nats_pids[$i]}" "${nats_urls[$i]}" "${monitor_ports[$i]}" \
        "$DATA/node$((i + 1))/logs/nats-server.log")")
done

cat <<EOF

tatrack runs on a three-node cluster. Ctrl-C stops it all.
  gateways:  $url1/api/v1   $url2/api/v1
  NATS_URL:  $NATS_URL
  data:      $DATA  (nodeN/: server N's config, store, logs and its services' data)
  keys:      $TATRACK_NATS_CREDENTIALS  (NATS nkeys, private)
  tokens:    $tokens  (private)
  mode:      cluster (leases in NATS KV LEASES, streams at 3 replicas)

nats-servers:
$(printf '  %s\n' "${nats_lines[@]}")

services:
$(printf '  %s\n' "${endpoints[@]}")

tokens (through either gateway):
  admin:        $admin_token
  coordinator:  $coordinator_token

try, in another shell:
  export TATRACK_URL=$url1 TATRACK_TOKEN=$coordinator_token
  $TATRACK need list
  TATRACK_URL=$url2 $TATRACK need unmet

who holds each lease, each stream's leader and its followers (server host, cluster mode):
  NATS_URL=$NATS_URL TATRACK_NATS_CREDENTIALS=$TATRACK_NATS_CREDENTIALS $TATRACK status

watch a failover: kill node2 entirely (its nats-server and every tatrack process on it), then
ask again, through either gateway (in cluster mode a command service's other instance takes the
lease within TATRACK_LEASE_TTL seconds):
  kill -9 \$(cat $DATA/node2/pids)
  $TATRACK need list
or kill only a nats-server (the services move to the other two):
  kill -9 ${nats_pids[1]}
and bring it back (this script does not stop what you start by hand):
  $(nats_command_of 1 && printf '%q ' "${nats_command[@]}")>>$DATA/node2/logs/nats-server.log 2>&1 &

EOF

# Waits for Ctrl-C/TERM (the trap stops everything); a killed node is the point, not an error.
while :; do sleep 1; done
