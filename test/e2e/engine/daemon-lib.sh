# shellcheck shell=bash
# Sourced by dockerd.sh and swarm.sh: what the manager's and the worker's private dockerd share.
# Each sourcing script defines log().

# The pid in PIDFILE when it is alive and was started with CONFIG (not a pid reused since, nor
# the machine's own dockerd); a pidfile naming anything else is stale and removed.
daemon_pid() {
  local pidfile="$1" config="$2" pid
  [ -s "$pidfile" ] || return 1
  pid="$(cat "$pidfile")"
  if [ -r "/proc/$pid/cmdline" ] && tr '\0' '\n' < "/proc/$pid/cmdline" | grep -qxF "$config"; then
    echo "$pid"
    return 0
  fi
  rm -f "$pidfile"
  return 1
}

# SIGTERM, then SIGKILL after 60 s; returns once the process is gone.
stop_daemon() {
  local pid="$1" name="$2" deadline
  kill -TERM "$pid"
  deadline=$((SECONDS + 60))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then log "$name did not stop within 60 s: killing it"; kill -KILL "$pid"; fi
    sleep 0.2
  done
}

# Container nofile at or below the host's hard limit: without CAP_SYS_RESOURCE a higher one makes
# runc fail with EPERM. 65536 is plenty for every service of the stack.
container_nofile() {
  local nofile
  nofile="$(ulimit -Hn)"
  [ "$nofile" = unlimited ] && nofile=65536
  [ "$nofile" -gt 65536 ] && nofile=65536
  echo "$nofile"
}
