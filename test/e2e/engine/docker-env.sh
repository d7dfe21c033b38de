# shellcheck shell=bash
# Source me:  . test/e2e/engine/docker-env.sh
#
# Points docker and docker-compose at the e2e dockerd (dockerd.sh) and puts Debian's client,
# /usr/bin/docker (20.10, the daemon's own version), first on PATH: another client installed in
# /usr/local/bin may come first otherwise. Safe to source repeatedly; does not change shell options.
: "${SSE_CACHE_DIR:=${XDG_CACHE_HOME:+$XDG_CACHE_HOME/secure-stack-e2e}}"
: "${SSE_CACHE_DIR:=/var/cache/secure-stack-e2e}"
: "${SSE_RUN_DIR:=/run/secure-stack-e2e}"
export SSE_CACHE_DIR SSE_RUN_DIR
export DOCKER_HOST="unix://$SSE_RUN_DIR/docker/docker.sock"
case "$PATH" in
  /usr/bin:*) ;;
  *) export PATH="/usr/bin:$PATH" ;;
esac
