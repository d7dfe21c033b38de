#!/bin/sh
# /docker-entrypoint.sh of the local stand-in for docker.io/library/nginx:1.30.5-trixie
# (really Debian 12's nginx 1.22). Mimics the official image's entrypoint:
# when the command is nginx, source/run /docker-entrypoint.d/*.envsh|*.sh and
# render /etc/nginx/templates/*.template with envsubst (only variables that are
# set) into /etc/nginx/conf.d, skipping that if the target is read-only.
set -e

render_templates() {
  dir="${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}"
  suffix="${NGINX_ENVSUBST_TEMPLATE_SUFFIX:-.template}"
  out="${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}"
  [ -d "$dir" ] || return 0
  if [ ! -w "$out" ]; then
    echo "$0: $out is not writable, skipping templates" >&2; return 0
  fi
  vars=$(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/${\1}/p' | tr '\n' ' ')
  find "$dir" -follow -type f -name "*$suffix" -print | while read -r t; do
    rel="${t#"$dir"/}"; dest="$out/${rel%"$suffix"}"
    mkdir -p "$(dirname "$dest")"
    echo "$0: rendering $t to $dest"
    envsubst "$vars" < "$t" > "$dest"
  done
}

if [ "$1" = nginx ] || [ "$1" = nginx-debug ]; then
  [ "$1" = nginx-debug ] && shift && set -- nginx "$@"   # Debian has no nginx-debug
  for f in $(find /docker-entrypoint.d/ -follow -mindepth 1 -maxdepth 1 -type f 2>/dev/null | sort); do
    # shellcheck disable=SC1090  # sourcing user scripts is the point
    case "$f" in
      *.envsh) [ -x "$f" ] && . "$f" ;;
      *.sh) [ -x "$f" ] && "$f" ;;
    esac
  done
  render_templates
fi
exec "$@"
