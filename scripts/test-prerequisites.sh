#!/usr/bin/env bash
# Installs the Debian packages the test suite runs as oracles: nginx (nginx -t), Django 3.2 and
# the backend's client libraries (manage.py check --deploy), the third-party scanners (testssl.sh,
# bandit, shellcheck, yamllint), and the two container engines that
# boot the generated stacks (Docker Engine with docker-compose, and podman), plus wrk for
# `npm run bench`. Idempotent; uses sudo when not root. Starts nothing: the tests start their own
# dockerd in private paths (test/e2e/engine/dockerd.sh) and stop it when they end.
set -euo pipefail

packages=(
  nginx-light            # nginx -t on every generated nginx.conf
  python3-django         # manage.py check --deploy on the generated backend (Django 3.2)
  python3-psycopg2       # the backend's PostgreSQL driver, imported by Django's postgresql backend
  python3-redis          # the backend's Redis client, imported by the health view
  util-linux             # unshare (nginx -t with a private /etc/hosts), flock (one test run at a time)
  iproute2               # ip: the e2e dockerd's own bridge, and loopback in nginx's test namespace
  curl                   # requests through nginx in its test namespace (test/oracles/nginx.test.ts)
  openssl                # openssl verify on the self-signed certificate
  git                    # git check-ignore on the generated .gitignore
  tmux                   # the prompts, answered in a real terminal
  # The end-to-end tests boot generated stacks on Docker Engine with docker-compose, and one in
  # rootful podman (test/e2e/engine/README.md):
  docker.io docker-compose
  podman runc conmon netavark aardvark-dns catatonit iptables
  mmdebstrap debian-archive-keyring   # build the stand-in images from Debian packages
  wrk                    # npm run bench: the load generator (the tests do not use it)
  # Third-party scanners that judge what we generate and ship (README.md, "Security: what outside scanners say"):
  testssl.sh             # TLS of the running stacks (its command is testssl)
  bandit                 # the generated Django backend
  shellcheck             # every shell script we ship, and the healthchecks we generate
  yamllint               # compose.yaml
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "test prerequisites: all installed"
  exit 0
fi

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
# policy-rc.d: docker.io's maintainer scripts would start the machine's own dockerd where an init
# system runs; the tests never use it (only their private one), so nothing is started here.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod 0755 "$policy"
  trap '"${sudo[@]}" rm -f "$policy"' EXIT
fi
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "test prerequisites: installed ${missing[*]}"
