#!/usr/bin/env bash
# Builds the local stand-ins for the official images the generated stack uses:
#   docker.io/library/nginx:1.30.5-trixie         Debian 12 nginx 1.22 + curl
#   docker.io/library/postgres:17.11-bookworm        Debian 12 PostgreSQL 15
#   docker.io/library/redis:7.4.11-bookworm          Debian 12 redis 7.0
#   docker.io/library/python:3.11.16-slim-bookworm  Debian 12 python 3.11.2 + django 3.2,
#                                                    gunicorn, psycopg2, redis, pip shim
# Each root filesystem is made with mmdebstrap from the Debian mirror apt uses
# (read from /etc/apt/sources.list*), then imported (`podman import`, `docker
# import`) with the official image's CMD/ENTRYPOINT/ENV/USER/WORKDIR/EXPOSE into
# each engine named in SSE_IMAGE_ENGINES ("docker podman" by default; docker is
# the e2e dockerd of dockerd.sh, which must be running). Entry-point shims: shims/.
#
# Idempotent: an image is imported only if it is missing from an engine or its
# label org.secure-stack.e2e.recipe-hash differs from the hash of its recipe (the
# functions below + its shim files); the root filesystem is built only when its
# tarball is missing. Tarballs are kept in $SSE_CACHE_DIR/tarballs, downloaded
# .debs in $SSE_CACHE_DIR/debs.
#
# Usage: build-images.sh [--force] [nginx|postgres|redis|python ...]   (default: all)
set -euo pipefail

SELF="$(readlink -f "${BASH_SOURCE[0]}")"
# shellcheck source=podman-env.sh
. "$(dirname "$SELF")/podman-env.sh"
# shellcheck source=docker-env.sh
. "$(dirname "$SELF")/docker-env.sh"
read -r -a ENGINES <<< "${SSE_IMAGE_ENGINES:-docker podman}"
SUITE=bookworm
ALL_IMAGES=(nginx postgres redis python)
LABEL_HASH=org.secure-stack.e2e.recipe-hash

log() { printf '[build-images] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- helpers ---

# Debian mirror lines ("deb URI SUITE COMPONENTS") for $SUITE, exactly as apt
# is configured (one-line .list and deb822 .sources formats).
apt_mirrors() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    sed -n -E 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?/deb /p' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    awk 'function flush() { if (types ~ /(^| )deb( |$)/ && enabled != "no")
             for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) print "deb", u[i], s[j], comps
           types = ""; enabled = ""; comps = ""; nu = ns = 0 }
         /^[[:space:]]*#/ { next }
         /^[[:space:]]*$/ { flush(); next }
         { key = tolower($1); sub(/:$/, "", key); $1 = "" ; sub(/^ +/, "") }
         key == "types" { types = $0 } key == "enabled" { enabled = tolower($0) }
         key == "components" { comps = $0 }
         key == "uris" { nu = split($0, u, " ") } key == "suites" { ns = split($0, s, " ") }
         END { flush() }' "$f"
  done
}

# add_user ROOT NAME UID GID HOME SHELL: fixed ids like the official images
# (written before the packages whose maintainer scripts would create the user).
add_user() {
  grep -q "^$2:" "$1/etc/group" || echo "$2:x:$4:" >> "$1/etc/group"
  grep -q "^$2:" "$1/etc/passwd" || echo "$2:x:$3:$4::$5:$6" >> "$1/etc/passwd"
}

# common_essential ROOT: dpkg excludes for every package installed from now on
# (like Debian's slim images). Not passed as --dpkgopt: mmdebstrap would then
# pipe each Essential package through its slow Python tar filter.
common_essential() {
  local p
  for p in /usr/share/man/'*' /usr/share/info/'*' /usr/share/locale/'*' /usr/share/lintian/'*' \
           /usr/share/doc/'*' "${EXCLUDES[@]}"; do
    echo "path-exclude=$p"
  done > "$1"/etc/dpkg/dpkg.cfg.d/docker-slim
  echo 'path-include=/usr/share/doc/*/copyright' >> "$1"/etc/dpkg/dpkg.cfg.d/docker-slim
}

# common_cleanup ROOT: shadow entries for our users, the Essential packages'
# docs, no logs/caches in the image
# (leave ROOT/tmp alone: mmdebstrap keeps its apt config there until the end)
common_cleanup() {
  chroot "$1" pwconv; chroot "$1" grpconv
  rm -rf "$1"/usr/share/man/* "$1"/usr/share/info/* "$1"/usr/share/locale/* "$1"/usr/share/lintian/*
  find "$1"/usr/share/doc -mindepth 1 ! -type d ! -name copyright -delete
  find "$1"/usr/share/doc -mindepth 1 -type d -empty -delete
  # (mmdebstrap's own /run cleanup is skipped so that e.g. /run/postgresql stays)
  find "$1"/run -mindepth 1 -maxdepth 1 ! -name lock ! -name postgresql -exec rm -rf {} +
  rm -rf "$1"/var/log/apt/* "$1"/var/log/dpkg.log "$1"/var/log/alternatives.log \
         "$1"/var/cache/debconf/*-old "$1"/var/lib/dpkg/*-old "$1"/root/.cache
}

install_shim() {  # install_shim ROOT SHIM DEST
  install -D -m 0755 "$SSE_ENGINE_DIR/shims/$2" "$1$3"
}

common_mmdebstrap_args() {
  printf '%s\n' --variant=minbase --mode=root --format=tar \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    '--aptopt=Acquire::Check-Valid-Until "false"' \
    '--aptopt=Acquire::Languages "none"' \
    '--aptopt=APT::Install-Recommends "false"' \
    --skip=cleanup/run \
    --dpkgopt=force-unsafe-io
}

# ---------------------------------------------------------------- recipes ---
# Per image NAME: NAME_recipe sets REF, PACKAGES, EXCLUDES (more dpkg
# path-excludes) and CHANGES (podman import --change); NAME_essential ROOT runs
# after the Essential packages are installed; NAME_customize ROOT at the end.

nginx_recipe() {
  REF=docker.io/library/nginx:1.30.5-trixie
  PACKAGES=nginx,curl,gettext-base,ca-certificates
  EXCLUDES=()
  CHANGES=('ENTRYPOINT ["/docker-entrypoint.sh"]' 'CMD ["nginx", "-g", "daemon off;"]'
           'EXPOSE 80/tcp' 'STOPSIGNAL SIGQUIT'
           'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
}
nginx_essential() { add_user "$1" nginx 101 101 /nonexistent /bin/false; }
nginx_customize() {
  local r="$1"
  rm -f "$r"/etc/nginx/sites-enabled/default
  mkdir -p "$r"/etc/nginx/conf.d "$r"/usr/share/nginx/html "$r"/docker-entrypoint.d "$r"/var/cache/nginx
  # The official nginx.conf and conf.d/default.conf (IPv4 only).
  cat > "$r"/etc/nginx/nginx.conf <<'EOF'
user  nginx;
worker_processes  auto;

error_log  /var/log/nginx/error.log notice;
pid        /run/nginx.pid;

events {
    worker_connections  1024;
}

http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;

    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';

    access_log  /var/log/nginx/access.log  main;

    sendfile        on;
    keepalive_timeout  65;

    include /etc/nginx/conf.d/*.conf;
}
EOF
  cat > "$r"/etc/nginx/conf.d/default.conf <<'EOF'
server {
    listen       80;
    server_name  localhost;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
EOF
  echo '<!DOCTYPE html><html><head><title>Welcome to nginx!</title></head><body><h1>Welcome to nginx!</h1></body></html>' \
    > "$r"/usr/share/nginx/html/index.html
  echo '<!DOCTYPE html><html><head><title>Error</title></head><body><h1>An error occurred.</h1></body></html>' \
    > "$r"/usr/share/nginx/html/50x.html
  # Debian's compiled-in temp paths live in /var/lib/nginx; the official image
  # uses /var/cache/nginx (often a tmpfs with read_only: true), so link them.
  rm -rf "$r"/var/lib/nginx && ln -s /var/cache/nginx "$r"/var/lib/nginx
  ln -sf /dev/stdout "$r"/var/log/nginx/access.log
  ln -sf /dev/stderr "$r"/var/log/nginx/error.log
  install_shim "$r" nginx-entrypoint.sh /docker-entrypoint.sh
}

postgres_recipe() {
  REF=docker.io/library/postgres:17.11-bookworm
  PACKAGES=postgresql-15
  # Leave out the LLVM JIT (~130 MB); PostgreSQL then runs with JIT unavailable.
  EXCLUDES=('/usr/lib/postgresql/15/lib/llvmjit*' '/usr/lib/postgresql/15/lib/bitcode/*'
            '/usr/lib/x86_64-linux-gnu/libLLVM-*' '/usr/lib/llvm-*' '/usr/lib/x86_64-linux-gnu/libz3.so*')
  CHANGES=('ENTRYPOINT ["docker-entrypoint.sh"]' 'CMD ["postgres"]'
           'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/postgresql/15/bin'
           'ENV PG_MAJOR=15' 'ENV LANG=C.UTF-8' 'ENV PGDATA=/var/lib/postgresql/data'
           'VOLUME /var/lib/postgresql/data' 'EXPOSE 5432/tcp' 'STOPSIGNAL SIGINT')
}
postgres_essential() { add_user "$1" postgres 999 999 /var/lib/postgresql /bin/bash; }
postgres_customize() {
  local r="$1"
  # postgresql-common created the Debian "main" cluster; the image has none.
  rm -rf "$r"/var/lib/postgresql/15 "$r"/etc/postgresql/15 "$r"/var/log/postgresql/*
  sed -ri "s!^#?(listen_addresses)\s*=\s*\S+.*!\1 = '*'!" "$r"/usr/share/postgresql/15/postgresql.conf.sample
  # inside the chroot: /var/run is an absolute symlink that would escape to the host
  chroot "$r" sh -ec 'mkdir -p /run/postgresql /var/lib/postgresql/data /docker-entrypoint-initdb.d
    chown postgres:postgres /run/postgresql /var/lib/postgresql /var/lib/postgresql/data
    chmod 3777 /run/postgresql; chmod 1777 /var/lib/postgresql/data'
  install_shim "$r" postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
  ln -s usr/local/bin/docker-entrypoint.sh "$r"/docker-entrypoint.sh
}

redis_recipe() {
  REF=docker.io/library/redis:7.4.11-bookworm
  PACKAGES=redis-server,redis-tools
  EXCLUDES=()
  CHANGES=('ENTRYPOINT ["docker-entrypoint.sh"]' 'CMD ["redis-server"]' 'WORKDIR /data'
           'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
           'VOLUME /data' 'EXPOSE 6379/tcp')
}
redis_essential() { add_user "$1" redis 999 999 /home/redis /usr/sbin/nologin; }
redis_customize() {
  local r="$1"
  mkdir -p "$r"/data && chroot "$r" chown redis:redis /data
  install_shim "$r" redis-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
}

python_recipe() {
  REF=docker.io/library/python:3.11.16-slim-bookworm
  PACKAGES=python3,python-is-python3,python3-django,gunicorn,python3-psycopg2,python3-redis,passwd,adduser,ca-certificates,netbase,tzdata
  EXCLUDES=()
  CHANGES=('CMD ["python3"]' 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin'
           'ENV LANG=C.UTF-8')
}
python_essential() { :; }
python_customize() {
  local r="$1" d=/usr/local/lib/python3.11/dist-packages/pip
  install_shim "$r" pip /usr/local/bin/pip
  ln -s pip "$r"/usr/local/bin/pip3 && ln -s pip "$r"/usr/local/bin/pip3.11
  mkdir -p "$r$d"
  printf '"""pip stand-in, see /usr/local/bin/pip."""\n' > "$r$d/__init__.py"
  printf 'import runpy\nrunpy.run_path("/usr/local/bin/pip", run_name="__main__")\n' > "$r$d/__main__.py"
  chroot "$r" python3 -c 'import django, gunicorn, psycopg2, redis'
}

# ------------------------------------------------------------------ build ---

recipe_hash() {  # stable over runs: recipe functions + helpers + shim files
  local name="$1"
  {
    echo "$SUITE"
    declare -f apt_mirrors add_user common_essential common_cleanup install_shim common_mmdebstrap_args \
      "${name}_recipe" "${name}_essential" "${name}_customize"
    case "$name" in
      nginx) cat "$SSE_ENGINE_DIR/shims/nginx-entrypoint.sh" ;;
      postgres) cat "$SSE_ENGINE_DIR/shims/postgres-entrypoint.sh" ;;
      redis) cat "$SSE_ENGINE_DIR/shims/redis-entrypoint.sh" ;;
      python) cat "$SSE_ENGINE_DIR/shims/pip" ;;
    esac
  } | sha256sum | cut -c1-16
}

image_hash() {  # image_hash ENGINE REF: label of the existing image, empty if none
  "$1" image inspect --format "{{ index .Config.Labels \"$LABEL_HASH\" }}" "$2" 2>/dev/null ||
    "$1" image inspect --format "{{ index .Labels \"$LABEL_HASH\" }}" "$2" 2>/dev/null || true
}

# build_rootfs NAME HASH: mmdebstrap -> $SSE_CACHE_DIR/tarballs/NAME-HASH.tar
build_rootfs() {
  local name="$1" hash="$2" tar debs args mirrors=()
  tar="$SSE_CACHE_DIR/tarballs/$name-$hash.tar"
  debs="$SSE_CACHE_DIR/debs/$name"
  [ -s "$tar" ] && return 0
  "${name}_recipe"
  mkdir -p "$debs" "$SSE_CACHE_DIR/tarballs"
  mapfile -t mirrors < <(apt_mirrors | awk -v s="$SUITE" '$3 ~ "^" s "(-updates|-security)?$"' | sort -u)
  [ "${#mirrors[@]}" -gt 0 ] || die "no Debian $SUITE mirror found in /etc/apt/sources.list*"
  mapfile -t args < <(common_mmdebstrap_args)
  # shellcheck disable=SC2016 # "$1" is expanded by mmdebstrap's hook shell
  mmdebstrap "${args[@]}" --include="$PACKAGES" \
    --essential-hook="\"$SELF\" __hook essential $name \"\$1\"" \
    --skip=essential/unlink \
    --setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
    --setup-hook="sync-in $debs /var/cache/apt/archives/" \
    --customize-hook="sync-out /var/cache/apt/archives $debs" \
    --customize-hook="\"$SELF\" __hook customize $name \"\$1\"" \
    "$SUITE" "$tar.partial" "${mirrors[@]}"
  mv -f "$tar.partial" "$tar"
}

import_image() {  # import_image ENGINE NAME HASH
  local engine="$1" name="$2" hash="$3" old c changes=() dockerfile="" label
  "${name}_recipe"
  old="$("$engine" image inspect --format '{{.Id}}' "$REF" 2>/dev/null || true)"
  label="LABEL org.secure-stack.e2e.stand-in=\"Debian-$SUITE-based local stand-in, not the official image\""
  if [ "$engine" = podman ]; then
    for c in "${CHANGES[@]}"; do changes+=(--change "$c"); done
    podman import --quiet "${changes[@]}" --change "LABEL $LABEL_HASH=$hash" --change "$label" \
      --message "secure-stack e2e stand-in ($name, recipe $hash)" \
      "$SSE_CACHE_DIR/tarballs/$name-$hash.tar" "$REF" >/dev/null
  else
    # docker import (20.10) refuses STOPSIGNAL: a build on top of the import sets it, and the
    # recipe's label last, so an image interrupted half-way is never taken for up to date.
    for c in "${CHANGES[@]}"; do
      if [[ "$c" == STOPSIGNAL* ]]; then dockerfile+="$c"$'\n'; else changes+=(--change "$c"); fi
    done
    docker import "${changes[@]}" --change "$label" --message "secure-stack e2e stand-in ($name, recipe $hash)" \
      "$SSE_CACHE_DIR/tarballs/$name-$hash.tar" "$REF-import" >/dev/null
    printf 'FROM %s\n%sLABEL %s=%s\n' "$REF-import" "$dockerfile" "$LABEL_HASH" "$hash" |
      docker build --quiet --tag "$REF" - >/dev/null
    docker rmi "$REF-import" >/dev/null
  fi
  if [ -n "$old" ]; then "$engine" rmi "$old" >/dev/null 2>&1 || true; fi
}

main() {
  local force=0 name hash engine want=() todo=() pids=() i rc=0 t0=$SECONDS
  for a in "$@"; do
    case "$a" in
      --force) force=1 ;;
      nginx|postgres|redis|python) want+=("$a") ;;
      -h|--help) sed -n '2,17p' "$SELF"; exit 0 ;;
      *) die "unknown argument: $a" ;;
    esac
  done
  [ "${#want[@]}" -gt 0 ] || want=("${ALL_IMAGES[@]}")
  command -v mmdebstrap >/dev/null || die "mmdebstrap missing (apt-get install mmdebstrap)"
  mkdir -p "$SSE_CACHE_DIR/logs"
  exec 9> "$SSE_CACHE_DIR/build.lock"
  flock 9   # one build at a time per cache dir
  for engine in "${ENGINES[@]}"; do
    case "$engine" in
      podman|docker) "$engine" version >/dev/null 2>&1 || die "$engine does not answer (docker: start test/e2e/engine/dockerd.sh)" ;;
      *) die "SSE_IMAGE_ENGINES: unknown engine $engine" ;;
    esac
  done
  declare -A hashes=() stale=()
  for name in "${want[@]}"; do
    hash="$(recipe_hash "$name")"; hashes[$name]=$hash
    "${name}_recipe"
    stale[$name]=""
    for engine in "${ENGINES[@]}"; do
      if [ "$force" = 0 ] && [ "$(image_hash "$engine" "$REF")" = "$hash" ]; then
        log "$engine: $REF up to date ($hash)"
      else
        stale[$name]+=" $engine"
      fi
    done
    if [ -n "${stale[$name]}" ]; then
      [ "$force" = 1 ] && rm -f "$SSE_CACHE_DIR/tarballs/$name-$hash.tar"
      todo+=("$name")
    fi
  done
  # root filesystems in parallel (each has its own .deb cache), imports in sequence
  for name in "${todo[@]}"; do
    log "building $name rootfs (log: $SSE_CACHE_DIR/logs/$name.log)"
    ( build_rootfs "$name" "${hashes[$name]}" 2>&1 |
        while IFS= read -r l; do printf '%(%T)T %s\n' -1 "$l"; done > "$SSE_CACHE_DIR/logs/$name.log" ) &
    pids+=($!)
  done
  for i in "${!todo[@]}"; do
    name="${todo[$i]}"
    if wait "${pids[$i]}"; then
      for engine in ${stale[$name]}; do
        import_image "$engine" "$name" "${hashes[$name]}"
        "${name}_recipe"; log "$engine: imported $REF (${hashes[$name]})"
      done
      # keep only the current tarball of this image
      find "$SSE_CACHE_DIR/tarballs" -name "$name-*.tar*" ! -name "$name-${hashes[$name]}.tar" -delete
    else
      rc=1; log "FAILED: $name; last lines of its log:"; tail -n 20 "$SSE_CACHE_DIR/logs/$name.log" >&2
    fi
  done
  log "done in $((SECONDS - t0))s"
  return "$rc"
}

if [ "${1:-}" = __hook ]; then  # called back by mmdebstrap: __hook essential|customize NAME ROOT
  "${3}_recipe"
  [ "$2" = essential ] && common_essential "$4"
  "${3}_${2}" "$4"
  [ "$2" = customize ] && common_cleanup "$4"
  exit 0
fi
main "$@"
