#!/usr/bin/env bash
# One-command set-up on a fresh Debian/Ubuntu machine.
#   ./quickstart.sh serve [gis serve options]   set up, then run the service at http://127.0.0.1:8000
#   ./quickstart.sh test  [pytest options]      set up, then run the whole test suite
# Installs (through apt, when root) PostgreSQL + PostGIS, and for tests GDAL's command-line tools;
# creates .venv with the Python dependencies. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")"
mode=${1:-serve}
[ $# -gt 0 ] && shift

log() { printf '[quickstart] %s\n' "$*" >&2; }

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    log "missing system packages: $*"
    log "install them with: sudo apt-get install -y $*   (then run this command again)"
    exit 1
  fi
  log "apt-get install $*"
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

pg_major() { ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1; }

system_packages() {
  local missing=()
  command -v python3 >/dev/null || missing+=(python3)
  python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
  [ -n "$(pg_major)" ] && [ -x "/usr/lib/postgresql/$(pg_major)/bin/initdb" ] || missing+=(postgresql)
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
  local v; v=$(pg_major)
  [ -f "/usr/share/postgresql/$v/extension/postgis.control" ] || apt_install "postgresql-$v-postgis-3"
  if [ "$mode" = test ]; then
    command -v ogrinfo >/dev/null || apt_install gdal-bin
    # The map pages are tested in a real headless browser; CJK fonts so its screenshots show the Japanese text.
    [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || apt_install chromium chromium-driver
    [ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || apt_install fonts-noto-cjk
  fi
}

python_env() {
  python3 - <<'PY' || { log "Python 3.11 or newer is required"; exit 1; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY
  [ -x .venv/bin/python ] || python3 -m venv .venv
  local stamp=.venv/.installed
  local want; want=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing Python dependencies into .venv"
    .venv/bin/pip install -q --disable-pip-version-check --upgrade pip >/dev/null
    .venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
    echo "$want" >"$stamp"
  fi
}

system_packages
python_env
case "$mode" in
  serve) exec .venv/bin/gis serve "$@" ;;
  test) exec .venv/bin/python -m pytest "$@" ;;
  *) log "usage: ./quickstart.sh serve|test [args]"; exit 2 ;;
esac
