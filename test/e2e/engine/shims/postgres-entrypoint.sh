#!/usr/bin/env bash
# docker-entrypoint.sh of the local stand-in for docker.io/library/postgres:17.11-bookworm
# (really Debian 12's PostgreSQL 15). Follows the official entrypoint:
#  - POSTGRES_PASSWORD / POSTGRES_USER (default postgres) / POSTGRES_DB (default
#    = user) / POSTGRES_INITDB_ARGS, each also as <VAR>_FILE (read from a file);
#    POSTGRES_HOST_AUTH_METHOD (default scram-sha-256); PGDATA.
#  - as root: fix ownership of PGDATA and the socket dir, then re-exec itself as
#    postgres (uid 999) with setpriv; started as non-root it skips that.
#  - empty PGDATA: initdb (--auth-local=trust --auth-host=scram-sha-256,
#    listen_addresses='*' from the sample conf), "host all all all <method>" in
#    pg_hba.conf, create POSTGRES_DB, run /docker-entrypoint-initdb.d/*.sh|*.sql|
#    *.sql.gz against a temporary server that listens on the unix socket only.
#  - finally exec "$@" (postgres).
set -Eeo pipefail

file_env() {  # file_env VAR [default]: VAR or the content of the file named by VAR_FILE
  local var="$1" fvar="${1}_FILE" val="${2:-}"
  if [ "${!var:-}" ] && [ "${!fvar:-}" ]; then
    echo "error: both $var and $fvar are set (but are exclusive)" >&2; exit 1
  fi
  if [ "${!var:-}" ]; then val="${!var}"; elif [ "${!fvar:-}" ]; then val="$(< "${!fvar}")"; fi
  export "$var"="$val"; unset "$fvar"
}

psql_init() {  # psql against the temporary (socket-only) server
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"
}

# "docker run image -c foo=bar" means "postgres -c foo=bar"
[ "${1:0:1}" = '-' ] && set -- postgres "$@"

if [ "$1" = postgres ]; then
  : "${PGDATA:=/var/lib/postgresql/data}"; export PGDATA
  if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chmod 00700 "$PGDATA" || :
    chmod 03775 /var/run/postgresql || :
    find "$PGDATA" /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
    exec setpriv --reuid=postgres --regid=postgres --init-groups -- "${BASH_SOURCE[0]}" "$@"
  fi

  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    file_env POSTGRES_PASSWORD
    file_env POSTGRES_USER postgres
    file_env POSTGRES_DB "$POSTGRES_USER"
    file_env POSTGRES_INITDB_ARGS
    : "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
    if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
      echo "error: database is uninitialized and superuser password is not specified;" \
           "set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE)" >&2
      exit 1
    fi
    # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is word-split on purpose
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
      --auth-local=trust --auth-host=scram-sha-256 $POSTGRES_INITDB_ARGS
    printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >> "$PGDATA/pg_hba.conf"

    # temporary server: unix socket only, like the official image
    PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -w \
      -o "-c listen_addresses='' -p ${PGPORT:-5432}" start
    export PGPASSWORD="$POSTGRES_PASSWORD"
    if [ "$POSTGRES_DB" != postgres ]; then
      psql_init --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
    fi
    for f in /docker-entrypoint-initdb.d/*; do
      # shellcheck disable=SC1090  # sourcing user scripts is the point
      case "$f" in
        *.sh) if [ -x "$f" ]; then echo "running $f"; "$f"; else echo "sourcing $f"; . "$f"; fi ;;
        *.sql) echo "running $f"; psql_init --dbname "$POSTGRES_DB" -f "$f" ;;
        *.sql.gz) echo "running $f"; gunzip -c "$f" | psql_init --dbname "$POSTGRES_DB" ;;
        *) [ -e "$f" ] && echo "ignoring $f" ;;
      esac
    done
    unset PGPASSWORD
    pg_ctl -D "$PGDATA" -m fast -w stop
    echo 'PostgreSQL init process complete; ready for start up.'
  fi
fi
exec "$@"
