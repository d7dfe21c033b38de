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

# write_digest_references DATA_ROOT REFERENCE=IMAGE_ID...: records "name@sha256:..." references
# in a stopped dockerd's reference store, as a pull would have. The stand-ins are built here and
# cannot have the registry's digests, `docker tag` refuses digests and `docker load` takes tags
# only; yet the generated stacks run their images by digest. dockerd reads the file at start and
# rewrites it whole on each change, so the caller stops it first and starts it again afterwards.
write_digest_references() {
  # The reference store lives under the storage driver's name (overlay2 here; vfs where overlay
  # cannot mount): the one file there is.
  local store
  store="$(find "$1/image" -mindepth 2 -maxdepth 2 -name repositories.json | head -n 1)"
  [ -n "$store" ] || { log "no image/*/repositories.json under $1"; return 1; }
  shift
  node - "$store" "$@" <<'JS'
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const [store, ...pairs] = process.argv.slice(2);
const json = JSON.parse(readFileSync(store, 'utf8'));
for (const pair of pairs) {
  const [reference, id] = pair.split('=');
  const repository = reference.slice(0, reference.indexOf('@'));
  (json.Repositories[repository] ??= {})[reference] = id;
}
writeFileSync(`${store}.tmp`, JSON.stringify(json));
renameSync(`${store}.tmp`, store);
JS
}

# digest_reference REFERENCE: "name@sha256:..." of "name:tag@sha256:..." (the form the store keeps).
# A tag is the last ":" part of the last "/" part: a registry's port is not one.
digest_reference() {
  local named="${1%@*}" name
  name="$named"
  if [[ "${named##*/}" == *:* ]]; then name="${named%:*}"; fi
  printf '%s@%s\n' "$name" "${1##*@}"
}
