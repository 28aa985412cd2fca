#!/usr/bin/env bash
# Writes the nats-server configs of a three-host tatrack cluster, one per host, on the one machine
# that holds every NATS user's key (the operator's, never one of the three hosts: `tatrack nats
# config` generates the keys that are missing, and a host holding only its own services' keys
# would get new ones). Copy each config to its host as /etc/nats/nats-server.conf; it holds public
# keys and permissions only.
#
#   deploy/cluster/hosts/write-nats-configs.sh OUT_DIR HOST1 HOST2 HOST3
#
# HOSTn: the address the other servers reach host n at (an IP or a DNS name). Writes
# OUT_DIR/node1.conf..node3.conf: clients on port 4222, routes on 6222 (both on every interface:
# firewall them, see deploy/cluster/README.md), JetStream in /var/lib/nats, server names
# node1..node3, cluster name tatrack. The keys are in TATRACK_NATS_CREDENTIALS (default
# ./data/nats-auth); TATRACK (default: tatrack on PATH) is the binary that writes the configs.
set -euo pipefail

if (($# != 4)); then
    sed -n '2,15s/^# \{0,1\}//p' "$0" >&2
    exit 2
fi
out="$1"
hosts=("$2" "$3" "$4")
TATRACK="${TATRACK:-tatrack}"

mkdir -p "$out"
for i in 0 1 2; do
    routes=()
    for j in 0 1 2; do
        ((j == i)) || routes+=(--route "nats-route://${hosts[$j]}:6222")
    done
    "$TATRACK" nats config --out "$out/node$((i + 1)).conf" \
        --listen 0.0.0.0:4222 --store-dir /var/lib/nats \
        --server-name "node$((i + 1))" --cluster-name tatrack \
        --cluster-listen 0.0.0.0:6222 "${routes[@]}"
done
