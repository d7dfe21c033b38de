# shellcheck shell=bash
# Source me:  . test/e2e/engine/podman-env.sh
#
# Points rootful podman at the project's own configuration (never the
# machine's /etc/containers): renders containers.conf.in, storage.conf.in and
# registries.conf.in into $SSE_CACHE_DIR/conf and exports
# CONTAINERS_CONF, CONTAINERS_STORAGE_CONF and CONTAINERS_REGISTRIES_CONF.
#
# Knobs (all optional):
#   SSE_CACHE_DIR       images, networks, tarballs, .deb cache
#                       (default $XDG_CACHE_HOME/secure-stack-e2e, else
#                       /var/cache/secure-stack-e2e)
#   SSE_RUN_DIR         runtime state (default /run/secure-stack-e2e)
#   SSE_STORAGE_DRIVER  overlay (default) or vfs
# Safe to source repeatedly; does not change shell options.

SSE_ENGINE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${SSE_CACHE_DIR:=${XDG_CACHE_HOME:+$XDG_CACHE_HOME/secure-stack-e2e}}"
: "${SSE_CACHE_DIR:=/var/cache/secure-stack-e2e}"
: "${SSE_RUN_DIR:=/run/secure-stack-e2e}"
: "${SSE_STORAGE_DRIVER:=overlay}"
export SSE_ENGINE_DIR SSE_CACHE_DIR SSE_RUN_DIR SSE_STORAGE_DRIVER

_sse_render_conf() {
  local nofile nproc cap=1048576 conf="$SSE_CACHE_DIR/conf" f
  if [ "$(id -u)" != 0 ]; then
    echo "podman-env.sh: the e2e engine is rootful podman; run as root" >&2
    return 1
  fi
  # Container ulimits must not exceed the host's hard limits (no CAP_SYS_RESOURCE).
  # podman 4.3 itself also lowers its RLIMIT_NPROC to 32768 before starting
  # conmon/runc, so nproc is capped there.
  nofile="$(ulimit -Hn)"; nproc="$(ulimit -Hu)"
  [ "$nofile" = unlimited ] && nofile=$cap
  [ "$nproc" = unlimited ] && nproc=$cap
  [ "$nofile" -gt "$cap" ] && nofile=$cap
  [ "$nproc" -gt 32768 ] && nproc=32768
  mkdir -p "$conf" "$SSE_CACHE_DIR/networks" "$SSE_RUN_DIR" || return 1
  for f in containers storage registries; do
    sed -e "s|@NOFILE@|$nofile|g" -e "s|@NPROC@|$nproc|g" \
        -e "s|@CACHE@|$SSE_CACHE_DIR|g" -e "s|@RUN@|$SSE_RUN_DIR|g" \
        -e "s|@DRIVER@|$SSE_STORAGE_DRIVER|g" \
        "$SSE_ENGINE_DIR/$f.conf.in" > "$conf/$f.conf.tmp.$$" &&
      mv -f "$conf/$f.conf.tmp.$$" "$conf/$f.conf" || return 1
  done
}

if _sse_render_conf; then
  export CONTAINERS_CONF="$SSE_CACHE_DIR/conf/containers.conf"
  export CONTAINERS_STORAGE_CONF="$SSE_CACHE_DIR/conf/storage.conf"
  export CONTAINERS_REGISTRIES_CONF="$SSE_CACHE_DIR/conf/registries.conf"
else
  # shellcheck disable=SC2317
  return 1 2>/dev/null || exit 1
fi
unset -f _sse_render_conf
