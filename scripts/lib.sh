# Shared steps of ./run, ./test and .ci/run. Sourced, not executed.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

find_python() {
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  die "Python 3.11 is required (apt-get install python3.11 python3.11-venv, or pyenv install 3.11)."
}

# ensure_venv REQUIREMENTS_FILE: create .venv and install the pinned requirements (skipped when
# the requirement files have not changed since the last install).
ensure_venv() {
  local req="$1" stamp
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating virtualenv in .venv"
    "$(find_python)" -m venv "$VENV" || die "could not create .venv (apt-get install python3.11-venv)"
  fi
  stamp="$VENV/.installed-$(cat "$ROOT"/requirements*.txt | sha256sum | cut -c1-16)-$(basename "$req")"
  if [ ! -f "$stamp" ]; then
    say "installing $req"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
    "$VENV/bin/python" -m pip install --quiet -r "$ROOT/$req"
    touch "$stamp"
  fi
}

# redis_answers URL: true when a Redis server answers PING at the URL's host and port.
redis_answers() {
  local url="${1:-redis://127.0.0.1:6379/0}" hostport host port reply
  hostport="${url#*://}"; hostport="${hostport#*@}"; hostport="${hostport%%/*}"
  host="${hostport%%:*}"; port="${hostport##*:}"; [ "$port" = "$host" ] && port=6379
  reply=$(timeout 2 bash -c "exec 3<>/dev/tcp/$host/$port && printf 'PING\r\n' >&3 && head -c 5 <&3" 2>/dev/null) || return 1
  [[ "$reply" == "+PONG"* ]]
}

# ensure_redis: make sure a Redis answers at REDIS_URL; start (or install, as root) a local one.
ensure_redis() {
  local url="${REDIS_URL:-redis://127.0.0.1:6379/0}" port
  redis_answers "$url" && return 0
  case "$url" in
    redis://127.0.0.1*|redis://localhost*) ;;
    *) die "Redis does not answer at $url; start it or point REDIS_URL at one that does." ;;
  esac
  if ! command -v redis-server >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      say "installing redis-server with apt-get"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null ||
        { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; } ||
        die "could not install redis-server"
    else
      die "Redis is not running and not installed: run 'sudo apt-get install redis-server' (or set REDIS_URL)."
    fi
  fi
  port="${url#*://}"; port="${port%%/*}"; port="${port##*:}"; [[ "$port" =~ ^[0-9]+$ ]] || port=6379
  say "starting a local Redis on port $port"
  mkdir -p "$ROOT/var"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
    --dir "$ROOT/var" --logfile "$ROOT/var/redis.log" >/dev/null
  for _ in $(seq 1 50); do redis_answers "$url" && return 0; sleep 0.1; done
  die "Redis did not start (see var/redis.log)"
}

# ensure_postgres: start the machine's PostgreSQL cluster if it does not answer (CI).
ensure_postgres() {
  if ! timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/5432' 2>/dev/null; then
    say "starting PostgreSQL"
    if command -v pg_ctlcluster >/dev/null 2>&1; then
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    fi
    for _ in $(seq 1 50); do
      timeout 1 bash -c 'exec 3<>/dev/tcp/127.0.0.1/5432' 2>/dev/null && return 0; sleep 0.2
    done
    die "PostgreSQL does not answer on 127.0.0.1:5432"
  fi
}

# ensure_chromium: Debian's Chromium for the real-browser tests (never `playwright install`).
ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian's chromium for the browser tests"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } ||
      say "chromium could not be installed: browser tests will be skipped"
  else
    say "no /usr/bin/chromium (sudo apt-get install chromium): browser tests will be skipped"
  fi
}
