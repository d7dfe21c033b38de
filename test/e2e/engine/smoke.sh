#!/usr/bin/env bash
# Smoke test of the e2e container engine (rootful podman + local stand-in images).
# Proves: images build (build-images.sh); an --internal network has name
# resolution (aardvark-dns) and no default route; every address is inside
# 198.18.0.0/15; --memory, --cap-drop ALL and --read-only are enforced; postgres
# initialises from a POSTGRES_PASSWORD_FILE secret and a client (uid 999) in
# another container logs in with the password from /run/secrets/db_password;
# redis with an ACL file rejects an unauthenticated PING and accepts the
# password; nginx serves with a trivial read-only-mounted config; a Dockerfile
# FROM the python image runs `pip install -r` offline and `useradd`.
# Only loopback and container addresses are ever contacted. Everything created
# (containers, networks, volumes, secrets, images) is removed on exit.
# Output: one "ok"/"not ok" line per check, then "N passed, N failed".
# shellcheck disable=SC2016  # single-quoted scripts run inside containers
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=podman-env.sh
. "$HERE/podman-env.sh" || exit 1

NGINX=docker.io/library/nginx:1.30.5-trixie
POSTGRES=docker.io/library/postgres:17.11-bookworm
REDIS=docker.io/library/redis:7.4.11-bookworm
PYTHON=docker.io/library/python:3.11.16-slim-bookworm
ID="sse-smoke-$$"
LABEL="org.secure-stack.e2e.smoke=$ID"
NET="$ID-net"
WORK="$(mktemp -d /tmp/sse-smoke.XXXXXX)"
SECRETS=()
PASSED=0 FAILED=0

cleanup() {
  podman ps -aq --filter "label=$LABEL" | xargs -r podman rm -f -v -t 0 >/dev/null 2>&1
  podman network ls -q --filter "label=$LABEL" | xargs -r podman network rm -f >/dev/null 2>&1
  podman volume ls -q --filter "label=$LABEL" | xargs -r podman volume rm -f >/dev/null 2>&1
  [ "${#SECRETS[@]}" -gt 0 ] && podman secret rm "${SECRETS[@]}" >/dev/null 2>&1
  podman rmi -f "localhost/$ID-backend:latest" >/dev/null 2>&1
  rm -rf "$WORK"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# conmon 2.1.6 drops an empty "oom" file into podman's working directory when a
# container is OOM-killed: work from the scratch dir.
cd "$WORK" || exit 1

ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
not_ok() { FAILED=$((FAILED + 1)); echo "not ok - $*"; sed 's/^/#   /' "$WORK/out" | tail -n 15; }
# check DESCRIPTION CMD...: CMD's output goes to $WORK/out (shown on failure)
check() { local d="$1"; shift; if "$@" > "$WORK/out" 2>&1; then ok "$d"; else not_ok "$d"; fi; }
# expect_out DESCRIPTION REGEX CMD...: CMD's output must match the ERE REGEX
expect_out() {
  local d="$1" re="$2"; shift 2
  "$@" > "$WORK/out" 2>&1
  if grep -Eq -- "$re" "$WORK/out"; then ok "$d"; else echo "# expected /$re/" >> "$WORK/out"; not_ok "$d"; fi
}
in_bench_range() {  # every argument is an IPv4 address inside 198.18.0.0/15
  local a; [ "$#" -gt 0 ] || return 1
  for a in "$@"; do [[ "$a" =~ ^198\.(18|19)\.[0-9]+\.[0-9]+(/[0-9]+)?$ ]] || return 1; done
}
run() { timeout 120 podman run --rm --label "$LABEL" "$@"; }          # one-shot container
start() { timeout 60 podman run -d --label "$LABEL" --network "$NET" "$@" >/dev/null; }
wait_for() {  # wait_for SECONDS CMD...
  local end=$((SECONDS + $1)); shift
  until "$@"; do [ "$SECONDS" -ge "$end" ] && return 1; sleep 1; done
}
secret() {  # secret NAME CONTENT: a podman file-driver secret named $ID-NAME
  printf '%s' "$2" > "$WORK/$1" && chmod 600 "$WORK/$1" &&
    podman secret create --driver file "$ID-$1" "$WORK/$1" >/dev/null && SECRETS+=("$ID-$1")
}
# compose-style /run/secrets/<name>, readable only by uid/gid 999 (postgres/redis)
secret_opt() { echo "$ID-$1,type=mount,target=/run/secrets/$1,uid=999,gid=999,mode=0400"; }

# ------------------------------------------------------------------ images ---
t0=$SECONDS
if "$HERE/build-images.sh" > "$WORK/out" 2>&1; then
  ok "build-images.sh ($((SECONDS - t0))s)"
else
  not_ok "build-images.sh"; echo "$PASSED passed, $FAILED failed"; exit 1
fi
for img in "$NGINX" "$POSTGRES" "$REDIS" "$PYTHON"; do
  expect_out "image $img carries its recipe hash" '^[0-9a-f]{16}$' \
    podman image inspect --format '{{ index .Labels "org.secure-stack.e2e.recipe-hash" }}' "$img"
done
expect_out "nginx image: user nginx 101:101, logs to stdout/stderr, nginx -t, curl" \
  '^101:101 /dev/stdout /dev/stderr curl ok$' \
  run "$NGINX" sh -c 'nginx -t 2>/dev/null && echo "$(id -u nginx):$(id -g nginx) $(readlink /var/log/nginx/access.log) $(readlink /var/log/nginx/error.log) $(command -v curl >/dev/null && echo curl) ok"'
expect_out "postgres image: user postgres 999:999, pg_isready/psql/postgres in PATH" \
  '^999:999 ok$' run "$POSTGRES" sh -c 'command -v pg_isready psql postgres initdb >/dev/null && echo "$(id -u postgres):$(id -g postgres) ok"'
expect_out "redis image: user redis 999:999, redis-cli, WORKDIR /data" \
  '^999:999 /data ok$' run "$REDIS" sh -c 'command -v redis-cli >/dev/null && echo "$(id -u redis):$(id -g redis) $PWD ok"'
expect_out "python image: python imports django, gunicorn, psycopg2, redis; pip shim" \
  '^django 3\.2.* ok$' run "$PYTHON" sh -c 'pip --version >/dev/null && command -v useradd adduser gunicorn >/dev/null && python -c "import django, gunicorn, psycopg2, redis; print(\"django\", django.get_version(), \"ok\")"'

expect_out "short names resolve to the local images (nginx:1.30.5-trixie)" '^resolved$' \
  run nginx:1.30.5-trixie echo resolved
expect_out "registry pulls are blocked (no traffic to docker.io)" 'blocked' \
  timeout 20 podman pull docker.io/library/busybox:latest

# ----------------------------------------------------------------- network ---
check "podman network create --internal $NET" podman network create --internal --label "$LABEL" "$NET"
expect_out "internal network: subnet inside 198.18.0.0/15, internal, DNS enabled" \
  '^198\.1[89]\.[0-9.]+/[0-9]+ true true$' \
  podman network inspect --format '{{range .Subnets}}{{.Subnet}}{{end}} {{.Internal}} {{.DNSEnabled}}' "$NET"

# ----------------------------------------------------------------- secrets ---
DB_PW="db-$RANDOM$RANDOM-pw" REDIS_PW="redis-$RANDOM$RANDOM-pw"
make_secrets() {
  secret db_password "$DB_PW" && secret redis_password "$REDIS_PW"$'\n' &&
    secret redis_acl "user default on >$REDIS_PW ~* &* +@all"$'\n'
}
check "podman secret create (file driver): db_password, redis_password, redis_acl" make_secrets
expect_out "secret at /run/secrets/db_password is 999:999 0400: uid 999 reads it, uid 1000 cannot" \
  '^999 999 400 read denied$' \
  run --secret "$(secret_opt db_password)" "$PYTHON" sh -c '
    f=/run/secrets/db_password; as() { setpriv --reuid="$1" --regid="$1" --clear-groups cat "$f" 2>/dev/null; }
    echo "$(stat -c "%u %g %a" "$f") $([ "$(as 999)" = "$0" ] && echo read) $(as 1000 >/dev/null && echo readable || echo denied)"' "$DB_PW"

# ---------------------------------------------------------------- postgres ---
PG="$ID-pg"
check "postgres starts with POSTGRES_PASSWORD_FILE" start --name "$PG" \
  --secret "$(secret_opt db_password)" -e POSTGRES_USER=app -e POSTGRES_DB=appdb \
  -e POSTGRES_PASSWORD_FILE=/run/secrets/db_password "$POSTGRES"
check "postgres initialises; pg_isready -h 127.0.0.1 passes" \
  wait_for 90 podman exec "$PG" pg_isready -q -h 127.0.0.1 -U app -d appdb
podman logs "$PG" > "$WORK/out" 2>&1
if grep -q 'init process complete' "$WORK/out"; then ok "postgres ran the init process"; else not_ok "postgres ran the init process"; fi
expect_out "postgres runs as postgres (uid 999)" '^postgres 999$' podman exec "$PG" stat -c '%U %u' /proc/1
expect_out "DNS: another container resolves $PG by name (aardvark-dns)" \
  '^198\.1[89]\.[0-9]+\.[0-9]+ ' run --network "$NET" "$PYTHON" getent ahostsv4 "$PG"
expect_out "client (uid 999) logs in with the password from /run/secrets/db_password" '^app\|appdb$' \
  run --network "$NET" --user 999:999 --secret "$(secret_opt db_password)" "$POSTGRES" sh -c \
  'PGPASSWORD="$(cat /run/secrets/db_password)" psql -h '"$PG"' -U app -d appdb -tAc "select current_user, current_database()"'
expect_out "client with a wrong password is rejected" 'password authentication failed' \
  run --network "$NET" -e PGPASSWORD=wrong "$POSTGRES" psql -h "$PG" -U app -d appdb -tAc 'select 1'

# ------------------------------------------------------------------- redis ---
RD="$ID-redis"
check "redis starts with --aclfile /run/secrets/redis_acl --appendonly yes" start --name "$RD" \
  --secret "$(secret_opt redis_acl)" --secret "$(secret_opt redis_password)" \
  "$REDIS" redis-server --aclfile /run/secrets/redis_acl --appendonly yes
check "redis healthcheck: redis-cli --askpass ping < /run/secrets/redis_password | grep -qx PONG" \
  wait_for 30 podman exec "$RD" sh -c 'redis-cli --askpass ping < /run/secrets/redis_password | grep -qx PONG'
expect_out "redis rejects an unauthenticated PING from another container (NOAUTH)" 'NOAUTH' \
  run --network "$NET" "$REDIS" redis-cli -h "$RD" ping
expect_out "redis accepts the password from another container" '^PONG$' \
  run --network "$NET" -e REDISCLI_AUTH="$REDIS_PW" "$REDIS" redis-cli -h "$RD" ping
expect_out "redis runs as uid 999 and writes its AOF to /data" '^999 appendonlydir$' \
  podman exec "$RD" sh -c 'echo "$(stat -c %u /proc/1) $(ls /data)"'

# ------------------------------------------------------------------- nginx ---
NG="$ID-nginx"
cat > "$WORK/nginx.conf" <<'EOF'
user nginx;
worker_processes 1;
error_log /var/log/nginx/error.log notice;
pid /run/nginx.pid;
events { worker_connections 64; }
http {
    access_log /var/log/nginx/access.log;
    server {
        listen 80;
        location = /healthz { default_type text/plain; return 200 "healthy\n"; }
    }
}
EOF
chmod 644 "$WORK/nginx.conf"
check "nginx starts hardened (read-only, cap-drop ALL + CHOWN/SETUID/SETGID/NET_BIND_SERVICE) with a mounted nginx.conf" \
  start --name "$NG" --read-only --cap-drop ALL --cap-add CHOWN,SETUID,SETGID,NET_BIND_SERVICE \
  --tmpfs /var/cache/nginx --tmpfs /run -v "$WORK/nginx.conf:/etc/nginx/nginx.conf:ro" "$NGINX"
check "nginx healthcheck: curl -fsS http://127.0.0.1/healthz" \
  wait_for 20 podman exec "$NG" curl -fsS -o /dev/null http://127.0.0.1/healthz
expect_out "nginx answers another container by name; workers run as nginx" '^healthy nginx$' \
  sh -c 'echo "$(podman run --rm --label "$0" --network "$1" "$2" curl -fsS "http://$3/healthz") $(podman top "$3" user | sed -n 3p | tr -d " ")"' \
  "$LABEL" "$NET" "$NGINX" "$NG"
expect_out "nginx access log goes to the container's stdout" 'GET /healthz' podman logs "$NG"

# ---------------------------------------------------------- isolation/limits ---
container_addresses() {
  local c
  for c in $(podman ps -q --filter "label=$LABEL"); do
    podman inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$c"
  done
}
addresses_in_range() {  # prints the addresses; fails unless all are in 198.18.0.0/15
  local a; a="$(container_addresses)"; echo "addresses: $a"
  # shellcheck disable=SC2086
  in_bench_range $a
}
check "every container address is inside 198.18.0.0/15" addresses_in_range
expect_out "internal network: no default route (IPv4/IPv6), only the subnet route" '^subnet-only$' \
  run --network "$NET" "$PYTHON" sh -c '
    awk "NR > 1 && \$2 == \"00000000\" { d = 1 } NR > 1 { n++ } END { exit (d || !n) }" /proc/net/route &&
    ! awk "\$1 ~ /^0+$/ && \$2 == \"00\" && \$10 != \"lo\"" /proc/net/ipv6_route 2>/dev/null | grep -q . &&
    echo subnet-only'
expect_out "--memory 64m: limit set and a 200 MiB allocation is killed (137)" '^67108864 137$' \
  sh -c 'l=$(podman run --rm --label "$0" --memory 64m "$1" cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null ||
              podman run --rm --label "$0" --memory 64m "$1" cat /sys/fs/cgroup/memory.max)
         podman run --rm --label "$0" --memory 64m "$1" python3 -c "b = b\"x\" * (200 << 20)" >/dev/null 2>&1
         echo "$l $?"' "$LABEL" "$PYTHON"
expect_out "control: the same allocation succeeds without --memory" '^ok$' \
  run "$PYTHON" python3 -c 'b = b"x" * (200 << 20); print("ok")'
expect_out "--cap-drop ALL: no effective capabilities, chown refused" '^0000000000000000 refused$' \
  run --cap-drop ALL "$PYTHON" sh -c 'echo "$(awk "/^CapEff/ {print \$2}" /proc/self/status) $(chown 1:1 /etc/hostname 2>/dev/null && echo allowed || echo refused)"'
expect_out "--read-only: root fs read-only, /tmp is a writable tmpfs" '^ro-root tmp-ok$' \
  run --read-only "$PYTHON" sh -c 'echo "$(touch /etc/x 2>/dev/null && echo rw-root || echo ro-root) $(touch /tmp/x && echo tmp-ok)"'

# -------------------------------------------------------- Dockerfile build ---
mkdir -p "$WORK/backend"
printf 'Django>=3.2\ngunicorn\npsycopg2-binary\nredis\n' > "$WORK/backend/requirements.txt"
cat > "$WORK/backend/Dockerfile" <<EOF
FROM $PYTHON
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
RUN useradd --system --uid 10001 --user-group --home-dir /app app
USER app
CMD ["python", "-c", "import django, gunicorn, psycopg2, redis; import os; print('backend', os.getuid())"]
EOF
check "podman build FROM $PYTHON (pip install -r offline, useradd), RUN without network" \
  timeout 300 podman build --network none --layers=false --label "$LABEL" -t "localhost/$ID-backend:latest" "$WORK/backend"
expect_out "built backend image runs as the non-root user" '^backend 10001$' run "localhost/$ID-backend:latest"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
