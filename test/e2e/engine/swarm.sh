#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# A two-node Docker Swarm for the e2e tests: the private dockerd of dockerd.sh as the manager, and a
# second dockerd (the worker) in a network namespace of its own. dockerd.sh must be running.
#
#   test/e2e/engine/swarm.sh init                  # manager: swarm init, label secure-stack.data=true
#   test/e2e/engine/swarm.sh worker-start [IMAGE…] # netns + worker dockerd, images copied, joined
#   test/e2e/engine/swarm.sh worker-stop           # stops the worker's dockerd, still a swarm member
#   test/e2e/engine/swarm.sh worker-clean          # worker-stop, node removed, netns and run dirs gone
#   test/e2e/engine/swarm.sh leave                 # manager leaves the swarm, then worker-clean
#   test/e2e/engine/swarm.sh status                # prints the swarm; exit 0 when the manager is in one
#   test/e2e/engine/swarm.sh worker-env            # DOCKER_HOST=… of the worker (for eval or env)
#
# All idempotent. Layout (engine/README.md): netns sse-e2e-worker joined to the host by a veth pair,
# sse-swarm0 198.18.251.1/30 on the host (the manager's advertise and listen address) and sse-swarm1
# 198.18.251.2/30 in the netns; the worker's docker0 198.18.252.1/24, its local networks from
# 198.18.240.0/21; the manager's docker_gwbridge (device sse-gwbridge) 198.18.253.0/24; overlay
# networks from 198.19.128.0/17 in /24s. Worker paths: $SSE_RUN_DIR/worker (config, socket, pidfile,
# exec-root) and $SSE_CACHE_DIR/worker (data-root, kept so warm runs find the images).
# No IPVS in this kernel: services need `endpoint_mode: dnsrr` and `mode: host` published ports.
set -euo pipefail

ENGINE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=docker-env.sh
. "$ENGINE_DIR/docker-env.sh"
# shellcheck source=daemon-lib.sh
. "$ENGINE_DIR/daemon-lib.sh"

DOCKER=/usr/bin/docker
DOCKERD=/usr/sbin/dockerd
MANAGER_HOST="$DOCKER_HOST"

NETNS=sse-e2e-worker
NETNS_PATH="/run/netns/$NETNS"
VETH_HOST=sse-swarm0
VETH_WORKER=sse-swarm1
MANAGER_ADDRESS=198.18.251.1
WORKER_ADDRESS=198.18.251.2
LINK_PREFIX=30
SWARM_POOL=198.19.128.0/17
GWBRIDGE_SUBNET=198.18.253.0/24
GWBRIDGE_DEVICE=sse-gwbridge
WORKER_BIP=198.18.252.1/24
WORKER_POOL=198.18.240.0/21
HEARTBEAT="${SSE_SWARM_HEARTBEAT:-2s}"
DATA_LABEL=secure-stack.data=true

WORKER_NAME=sse-e2e-worker
WORKER_DIR="$SSE_RUN_DIR/worker"
WORKER_DATA="$SSE_CACHE_DIR/worker"
WORKER_CONFIG="$WORKER_DIR/daemon.json"
WORKER_PIDFILE="$WORKER_DIR/dockerd.pid"
WORKER_HOST="unix://$WORKER_DIR/docker.sock"
WORKER_LOG="$SSE_CACHE_DIR/logs/worker-dockerd.log"
# libnetwork 20.10 writes the hosts and resolv.conf of each overlay network's load-balancer
# sandbox (lb_<network id>) under this fixed path, whatever the data-root: a swarm is the only
# thing of ours that writes there. When it made /var/lib/docker, leave removes what it wrote.
LB_FILES=/var/lib/docker/network/files
MADE_LB_FILES="$SSE_RUN_DIR/swarm-made-var-lib-docker"

log() { printf '[swarm] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

manager() { DOCKER_HOST="$MANAGER_HOST" "$DOCKER" "$@"; }
worker() { DOCKER_HOST="$WORKER_HOST" "$DOCKER" "$@"; }

manager_answers() { manager version --format '{{.Server.Version}}' >/dev/null 2>&1; }
worker_answers() { worker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
# inactive | pending | active | error | locked ("" when the engine does not answer)
manager_state() { manager info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || true; }
worker_state() { worker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || true; }
is_manager() { [ "$(manager info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}' 2>/dev/null)" = 'active true' ]; }

# Waits up to $1 seconds for the command that follows to succeed.
wait_for() {
  local seconds="$1" deadline
  shift
  deadline=$((SECONDS + seconds))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# ------------------------------------------------------------------------------------- link ---

# The netns and the veth pair between it and the host. Traffic between the two engines (swarm
# 2377/tcp, gossip 7946/tcp+udp, VXLAN 4789/udp) goes to each side's own address: INPUT on the
# host, never FORWARD (whose policy dockerd sets to DROP). INPUT is accepted from the veth in case
# the host's policy is not ACCEPT; inside the fresh netns it is.
ensure_link() {
  [ -e "$NETNS_PATH" ] || ip netns add "$NETNS"
  if ! ip link show "$VETH_HOST" >/dev/null 2>&1; then
    ip link add "$VETH_HOST" type veth peer name "$VETH_WORKER" netns "$NETNS"
  fi
  ip -4 addr show dev "$VETH_HOST" | grep -qF "inet $MANAGER_ADDRESS/" || ip addr add "$MANAGER_ADDRESS/$LINK_PREFIX" dev "$VETH_HOST"
  ip link set "$VETH_HOST" up
  in_netns ip -4 addr show dev "$VETH_WORKER" | grep -qF "inet $WORKER_ADDRESS/" || in_netns ip addr add "$WORKER_ADDRESS/$LINK_PREFIX" dev "$VETH_WORKER"
  in_netns ip link set lo up
  in_netns ip link set "$VETH_WORKER" up
  local rule=(-i "$VETH_HOST" -s "$WORKER_ADDRESS" -d "$MANAGER_ADDRESS" -j ACCEPT)
  iptables -C INPUT "${rule[@]}" 2>/dev/null || iptables -I INPUT "${rule[@]}"
}

remove_link() {
  local rule=(-i "$VETH_HOST" -s "$WORKER_ADDRESS" -d "$MANAGER_ADDRESS" -j ACCEPT)
  while iptables -C INPUT "${rule[@]}" 2>/dev/null; do iptables -D INPUT "${rule[@]}"; done
  ! ip link show "$VETH_HOST" >/dev/null 2>&1 || ip link del "$VETH_HOST"
  [ ! -e "$NETNS_PATH" ] || ip netns delete "$NETNS"
}

# nsenter, not `ip netns exec`: that one also remounts /sys for the namespace, which hides the
# cgroup mounts from dockerd (cgroupfs driver) and runc.
in_netns() { nsenter --net="$NETNS_PATH" "$@"; }

# ---------------------------------------------------------------------------------- manager ---

# docker_gwbridge made before `swarm init`, as Docker documents, so that the host's bridge has a
# name of our own and an address we chose (otherwise: "docker_gwbridge" from the local pool).
ensure_gwbridge() {
  manager network inspect docker_gwbridge >/dev/null 2>&1 && return 0
  manager network create --driver bridge --subnet "$GWBRIDGE_SUBNET" \
    --opt com.docker.network.bridge.name="$GWBRIDGE_DEVICE" \
    --opt com.docker.network.bridge.enable_icc=false \
    --opt com.docker.network.bridge.enable_ip_masquerade=true \
    docker_gwbridge >/dev/null
}

init() {
  manager_answers || die "the e2e dockerd does not answer (test/e2e/engine/dockerd.sh start)"
  ensure_link
  if is_manager; then return 0; fi
  # A node stuck joining or in error (an old swarm) starts over.
  [ "$(manager_state)" = inactive ] || manager swarm leave --force >/dev/null
  ensure_gwbridge
  [ -e /var/lib/docker ] || touch "$MADE_LB_FILES"
  manager swarm init \
    --advertise-addr "$MANAGER_ADDRESS" --listen-addr "$MANAGER_ADDRESS:2377" \
    --default-addr-pool "$SWARM_POOL" --default-addr-pool-mask-length 24 \
    --dispatcher-heartbeat "$HEARTBEAT" --task-history-limit 1 >/dev/null
  manager node update --label-add "$DATA_LABEL" "$(manager info --format '{{.Swarm.NodeID}}')" >/dev/null
}

# ----------------------------------------------------------------------------------- worker ---

# The pid of the worker's dockerd, when it is ours and alive (daemon-lib.sh).
worker_pid() { daemon_pid "$WORKER_PIDFILE" "$WORKER_CONFIG"; }

write_worker_config() {
  local nofile
  nofile="$(container_nofile)"
  cat > "$WORKER_CONFIG.tmp" <<EOF
{
  "data-root": "$WORKER_DATA",
  "exec-root": "$WORKER_DIR/exec",
  "pidfile": "$WORKER_PIDFILE",
  "hosts": ["$WORKER_HOST"],
  "bip": "$WORKER_BIP",
  "default-address-pools": [{"base": "$WORKER_POOL", "size": 24}],
  "iptables": true,
  "exec-opts": ["native.cgroupdriver=cgroupfs"],
  "cgroup-parent": "/$WORKER_NAME",
  "default-ulimits": {"nofile": {"Name": "nofile", "Soft": $nofile, "Hard": $nofile}},
  "no-new-privileges": true,
  "log-driver": "json-file",
  "log-level": "warn"
}
EOF
  mv -f "$WORKER_CONFIG.tmp" "$WORKER_CONFIG"
}

start_worker_engine() {
  mkdir -p "$WORKER_DIR" "$WORKER_DATA" "$SSE_CACHE_DIR/logs"
  if ! worker_pid >/dev/null; then
    write_worker_config
    # Its own network namespace (nsenter), its own host name (unshare --uts: the swarm's node
    # name), its own session (setsid: it outlives this shell and a Ctrl-C there).
    # shellcheck disable=SC2016 # expanded by that sh, from its arguments
    setsid nsenter --net="$NETNS_PATH" unshare --uts sh -c 'hostname "$1" && exec "$2" --config-file "$3"' \
      sh "$WORKER_NAME" "$DOCKERD" "$WORKER_CONFIG" >> "$WORKER_LOG" 2>&1 < /dev/null &
  fi
  if ! wait_for 60 worker_answers; then
    log "the worker's dockerd did not answer within 60 s; last lines of $WORKER_LOG:"
    tail -n 20 "$WORKER_LOG" >&2
    exit 1
  fi
}

# The stand-in images the generated stacks use, and every backend image built from them.
default_images() {
  manager image ls --format '{{.Repository}}:{{.Tag}}' |
    grep -E '^((docker\.io/)?(library/)?(nginx|postgres|redis|python):[^<]+|[^:]+-backend:[^<]+)$' || true
}

# Copies the images the worker lacks (or has under another id), in one `docker save`.
copy_images() {
  local image missing=() id
  for image in "$@"; do
    id="$(manager image inspect --format '{{.Id}}' "$image" 2>/dev/null)" || die "no image $image in the e2e dockerd"
    [ "$(worker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)" = "$id" ] || missing+=("$image")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  manager save "${missing[@]}" | worker load --quiet >/dev/null
}

# The manager's digest references of these images (dockerd.sh digests), given to the worker too:
# the stacks run their images by digest on every node. Restarts the worker's engine when it lacks one.
copy_digest_references() {
  local image id reference pairs=()
  for image in "$@"; do
    id="$(manager image inspect --format '{{.Id}}' "$image")"
    while read -r reference; do
      [ -n "$reference" ] || continue
      [ "$(worker image inspect --format '{{.Id}}' "$reference" 2>/dev/null || true)" = "$id" ] || pairs+=("$reference=$id")
    done < <(manager image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$image")
  done
  [ "${#pairs[@]}" -gt 0 ] || return 0
  worker_stop
  if ! write_digest_references "$WORKER_DATA" "${pairs[@]}"; then start_worker_engine; exit 1; fi
  start_worker_engine
}

# The worker's node id as the manager knows it (the last one of that host name).
worker_node_ids() {
  manager node ls --format '{{.ID}} {{.Hostname}}' 2>/dev/null | awk -v name="$WORKER_NAME" '$2 == name { print $1 }'
}

node_ready() { [ "$(manager node inspect --format '{{.Status.State}}' "$1" 2>/dev/null)" = ready ]; }

# What the worker's data-root holds from another swarm, or from a node removed since: its
# containers, networks and volumes (images stay).
reset_worker() {
  local leftovers
  [ "$(worker_state)" = inactive ] || worker swarm leave --force >/dev/null 2>&1 || true
  leftovers="$(worker ps -aq)"
  # shellcheck disable=SC2086 # one id a word
  [ -z "$leftovers" ] || worker rm --force --volumes $leftovers >/dev/null
  worker network prune --force >/dev/null
  worker volume prune --force >/dev/null
}

worker_start() {
  is_manager || die "the e2e dockerd is not a swarm manager (swarm.sh init)"
  ensure_link
  start_worker_engine
  local images=("$@") node
  [ "${#images[@]}" -gt 0 ] || mapfile -t images < <(default_images)
  if [ "${#images[@]}" -gt 0 ]; then
    copy_images "${images[@]}"
    copy_digest_references "${images[@]}"
  fi
  node="$(worker info --format '{{.Swarm.NodeID}}')"
  # Restarted after worker-stop: still a member, it reconnects by itself.
  if [ "$(worker_state)" = active ] && [ -n "$node" ] && worker_node_ids | grep -qxF "$node"; then
    wait_for 60 node_ready "$node" || die "worker node $node not ready within 60 s"
    return 0
  fi
  reset_worker
  local stale
  for stale in $(worker_node_ids); do manager node rm --force "$stale" >/dev/null; done
  worker swarm join --token "$(manager swarm join-token -q worker)" \
    --advertise-addr "$WORKER_ADDRESS" --listen-addr "$WORKER_ADDRESS:2377" \
    "$MANAGER_ADDRESS:2377" >/dev/null
  node="$(worker info --format '{{.Swarm.NodeID}}')"
  wait_for 60 node_ready "$node" || die "worker node $node not ready within 60 s"
}

# Stops the worker's engine as a failing node would go: no `swarm leave`, its containers stop
# with it (and the containerd it started).
worker_stop() {
  local pid
  if pid="$(worker_pid)"; then stop_daemon "$pid" "the worker's dockerd"; fi
}

worker_clean() {
  worker_stop
  if is_manager; then
    local node
    for node in $(worker_node_ids); do manager node rm --force "$node" >/dev/null; done
  fi
  # The node is gone from the swarm: its swarm state goes too, so the next start joins afresh.
  # A worker dockerd stopped in the middle of its network teardown can leave network namespaces
  # bind-mounted under its exec-root, where rm fails with "Device or resource busy": unmount them.
  local mount
  awk -v dir="$WORKER_DIR/" 'index($2, dir) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r mount; do umount -l "$mount" 2>/dev/null || true; done
  rm -rf "$WORKER_DATA/swarm" "$WORKER_DIR"
  remove_link
}

gwbridge_gone() {
  [ -z "$(manager network ls --quiet --filter scope=swarm)" ] || return 1
  ! manager network inspect docker_gwbridge >/dev/null 2>&1 || manager network rm docker_gwbridge >/dev/null 2>&1
}

leave() {
  worker_stop
  if manager_answers; then
    [ "$(manager_state)" = inactive ] || manager swarm leave --force >/dev/null
    # The swarm's networks go a few seconds after the leave; docker_gwbridge (whose bridge device
    # would stay on the host) can go once the ingress sandbox has left it.
    wait_for 30 gwbridge_gone || log "docker_gwbridge or a swarm network still there 30 s after leaving the swarm"
  fi
  worker_clean
  remove_lb_files
}

# Only when the swarm made /var/lib/docker, both engines are out of the swarm, and the machine's
# own dockerd is not running; rmdir leaves whatever else is there.
remove_lb_files() {
  [ -e "$MADE_LB_FILES" ] || return 0
  [ "$(manager_state)" != active ] && ! worker_pid >/dev/null || return 0
  [ ! -e /var/run/docker.pid ] || return 0
  rm -rf "$LB_FILES"/lb_*
  rmdir --ignore-fail-on-non-empty "$LB_FILES" /var/lib/docker/network /var/lib/docker 2>/dev/null || true
  rm -f "$MADE_LB_FILES"
}

status() {
  local state
  state="$(manager_state)"
  printf 'manager: %s\n' "${state:-not answering}"
  if worker_pid >/dev/null; then
    printf 'worker engine: running (%s, swarm %s)\n' "$WORKER_HOST" "$(worker_state)"
  else
    printf 'worker engine: stopped\n'
  fi
  if is_manager; then manager node ls; fi
  [ "$state" = active ]
}

[ "$(id -u)" = 0 ] || die "needs root"
case "${1:-}" in
  init) init ;;
  worker-start) shift; worker_start "$@" ;;
  worker-stop) worker_stop ;;
  worker-clean) worker_clean ;;
  leave) leave ;;
  status) status ;;
  worker-env) printf 'DOCKER_HOST=%s\n' "$WORKER_HOST" ;;
  *) echo "usage: $0 init|worker-start [IMAGE...]|worker-stop|worker-clean|leave|status|worker-env" >&2; exit 2 ;;
esac
