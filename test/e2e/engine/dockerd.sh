#!/usr/bin/env bash
# The e2e Docker Engine: Debian's dockerd 20.10 (/usr/sbin/dockerd), started as root in private
# paths, so it never touches the machine's default socket, /var/lib/docker, /run/docker or docker0:
#
#   test/e2e/engine/dockerd.sh start     # idempotent; waits until the daemon answers (~2 s)
#   test/e2e/engine/dockerd.sh clean     # leaves any swarm; removes every container, network and volume in it (not images)
#   test/e2e/engine/dockerd.sh stop      # leaves any swarm; stops it (and the containerd it started), waits for exit
#   test/e2e/engine/dockerd.sh status    # exit 0 when it answers
#   test/e2e/engine/dockerd.sh digests NAME:TAG@DIGEST...  # gives each image NAME:TAG that digest (restarts dockerd when one lacks it)
#   . test/e2e/engine/docker-env.sh      # DOCKER_HOST and PATH for docker, docker-compose
#
# Paths: config, socket, pidfile and exec-root under $SSE_RUN_DIR/docker (default
# /run/secure-stack-e2e/docker); data-root (images, volumes) under $SSE_CACHE_DIR/docker, kept
# between runs so warm runs find the stand-in images. Its default bridge is its own, sse-docker0
# at 198.18.250.1/24, made here and removed by stop; networks come from 198.19.0.0/17 (podman's
# pool is 198.18.128.0/18; 198.19.128.0/17 is left for a swarm). Outside these: containerd's shim
# sockets in /run/containerd/s (a path containerd 1.6 fixes), and where the machine already runs
# containerd on /run/containerd/containerd.sock, dockerd uses that one instead of starting its own.
set -euo pipefail

ENGINE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=docker-env.sh
. "$ENGINE_DIR/docker-env.sh"
# shellcheck source=daemon-lib.sh
. "$ENGINE_DIR/daemon-lib.sh"

DOCKERD=/usr/sbin/dockerd
DOCKER_DIR="$SSE_RUN_DIR/docker"
CONFIG="$DOCKER_DIR/daemon.json"
PIDFILE="$DOCKER_DIR/dockerd.pid"
LOG="$SSE_CACHE_DIR/logs/dockerd.log"
BRIDGE=sse-docker0
BRIDGE_ADDRESS=198.18.250.1/24

log() { printf '[dockerd] %s\n' "$*" >&2; }

answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# The pid of our dockerd, when it is ours and alive (daemon-lib.sh).
running_pid() { daemon_pid "$PIDFILE" "$CONFIG"; }

write_config() {
  # no-new-privileges for every container, as the README asks of a swarm's nodes: Swarm ignores a
  # service's security_opt (Compose stacks set it themselves as well).
  local nofile
  nofile="$(container_nofile)"
  cat > "$CONFIG.tmp" <<EOF
{
  "data-root": "$SSE_CACHE_DIR/docker",
  "exec-root": "$DOCKER_DIR/exec",
  "pidfile": "$PIDFILE",
  "hosts": ["unix://$DOCKER_DIR/docker.sock"],
  "bridge": "$BRIDGE",
  "default-address-pools": [{"base": "198.19.0.0/17", "size": 24}],
  "exec-opts": ["native.cgroupdriver=cgroupfs"],
  "default-ulimits": {"nofile": {"Name": "nofile", "Soft": $nofile, "Hard": $nofile}},
  "no-new-privileges": true,
  "log-driver": "json-file",
  "log-level": "warn"
}
EOF
  mv -f "$CONFIG.tmp" "$CONFIG"
}

# dockerd's "bridge" option takes a bridge the caller made (it then takes its address from it),
# so the machine's docker0 stays the machine's.
make_bridge() {
  ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge
  ip -4 addr show dev "$BRIDGE" | grep -qF "inet $BRIDGE_ADDRESS " || ip addr add "$BRIDGE_ADDRESS" dev "$BRIDGE"
  ip link set "$BRIDGE" up
}

# dockerd sets the FORWARD policy to DROP. With br_netfilter on (as on Docker hosts), traffic
# between two containers on one podman bridge passes FORWARD too, and netavark accepts only that
# of non-internal networks: the podman stack's backend would no longer reach its data stores.
# Frames bridged within one podman bridge are accepted as before dockerd came; routed traffic
# between networks still meets every rule of both engines.
allow_podman_bridges() {
  local rule=(-i 'podman+' -o 'podman+' -m physdev --physdev-is-bridged -j ACCEPT)
  iptables -C DOCKER-USER "${rule[@]}" 2>/dev/null || iptables -I DOCKER-USER "${rule[@]}"
}

start() {
  [ "$(id -u)" = 0 ] || { log "dockerd needs root"; exit 1; }
  [ -x "$DOCKERD" ] || { log "$DOCKERD missing (apt-get install docker.io)"; exit 1; }
  mkdir -p "$DOCKER_DIR" "$SSE_CACHE_DIR/docker" "$SSE_CACHE_DIR/logs"
  if ! running_pid >/dev/null; then
    write_config
    make_bridge
    # setsid: the daemon outlives the shell that started it, and a Ctrl-C there does not reach it.
    setsid "$DOCKERD" --config-file "$CONFIG" >> "$LOG" 2>&1 < /dev/null &
  fi
  local deadline=$((SECONDS + 60))
  until answers; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "dockerd did not answer within 60 s; last lines of $LOG:"; tail -n 20 "$LOG" >&2; exit 1
    fi
    sleep 0.2
  done
  allow_podman_bridges
}

# A swarm (swarm.sh) lives in the data-root and would come back with the daemon, its services
# recreating what clean removes; its worker is a daemon of its own. Both go, each time.
leave_swarm() { "$ENGINE_DIR/swarm.sh" leave; }

stop() {
  local pid
  leave_swarm
  if pid="$(running_pid)"; then stop_daemon "$pid" dockerd; fi
  ! ip link show "$BRIDGE" >/dev/null 2>&1 || ip link del "$BRIDGE"
}

# What an interrupted run left behind (the daemon is the tests' alone): containers, then the
# networks and volumes nothing uses any more. Images stay, for warm runs.
clean() {
  local leftovers
  leave_swarm
  leftovers="$(docker ps -aq)"
  # shellcheck disable=SC2086 # one id a word
  [ -z "$leftovers" ] || docker rm --force --volumes $leftovers >/dev/null
  docker network prune --force >/dev/null
  docker volume prune --force >/dev/null
}

# The stand-in NAME:TAG answers to NAME:TAG@DIGEST (and NAME@DIGEST) from now on, as the pulled
# image would. Warm runs, where every reference already names the current stand-in, restart nothing.
digests() {
  local reference tag id pairs=()
  for reference in "$@"; do
    [[ "$reference" == *:*@sha256:* ]] || { log "not NAME:TAG@sha256:DIGEST: $reference"; exit 2; }
    tag="${reference%@*}"
    id="$(docker image inspect --format '{{.Id}}' "$tag")" || { log "no image $tag"; exit 1; }
    [ "$(docker image inspect --format '{{.Id}}' "$reference" 2>/dev/null || true)" = "$id" ] ||
      pairs+=("$(digest_reference "$reference")=$id")
  done
  [ "${#pairs[@]}" -gt 0 ] || return 0
  stop
  # Started again whatever happens: a failed edit must not leave the tests without their engine.
  if ! write_digest_references "$SSE_CACHE_DIR/docker" "${pairs[@]}"; then start; exit 1; fi
  start
}

case "${1:-}" in
  start) start ;;
  digests) shift; digests "$@" ;;
  clean) clean ;;
  stop) stop ;;
  status) answers ;;
  *) echo "usage: $0 start|clean|stop|status|digests NAME:TAG@DIGEST..." >&2; exit 2 ;;
esac
