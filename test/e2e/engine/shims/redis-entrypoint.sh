#!/bin/sh
# docker-entrypoint.sh of the local stand-in for docker.io/library/redis:7.4.11-bookworm
# (really Debian 12's redis-server 7.0). Same logic as the official entrypoint:
#  - first arg "-..." or "*.conf" => prepend redis-server;
#  - redis-server as root => chown the workdir (/data) to redis and re-exec as
#    redis (uid 999) with setpriv (the official image uses gosu);
#  - umask 0077 when it is the default 0022.
# Debian's binary has protected-mode on by default whereas the official image is
# built with it off, so "--protected-mode no" is added unless the command line
# or the config file sets protected-mode.
set -e

case "$1" in -*|*.conf) set -- redis-server "$@" ;; esac

if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  find . \! -user redis -exec chown redis '{}' +
  exec setpriv --reuid=redis --regid=redis --init-groups -- "$0" "$@"
fi

if [ "$1" = redis-server ]; then
  case " $* " in
    *" --protected-mode "*) ;;
    *) case "$2" in
         ""|-*) shift; set -- redis-server --protected-mode no "$@" ;;
         *) if ! grep -qsE '^[[:space:]]*protected-mode[[:space:]]' "$2"; then
              conf="$2"; shift 2; set -- redis-server "$conf" --protected-mode no "$@"
            fi ;;
       esac ;;
  esac
fi

[ "$(umask)" = 0022 ] && umask 0077
exec "$@"
