#!/usr/bin/env bash
# Runs Sentinel's whole test suite on a fresh machine. Installs what the tests need first
# (Debian's `prometheus` and `prometheus-alertmanager`, which the tests start themselves on a
# free loopback port with a temporary data directory; systemd-journal-remote, which writes the
# journal files the journald tests read with the real journalctl; curl, which drives the ping API the way
# cron scripts do; poppler-utils, whose pdftotext, pdfinfo and pdftoppm read the evidence PDF
# back; node and npm, with the Telegram Bot API emulator `telegram-test-api` under
# target/), makes sure the machine's PostgreSQL, MariaDB and Redis are up, then runs every unit and
# integration test.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v journalctl >/dev/null 2>&1 || missing+=(systemd)
[ -x /lib/systemd/systemd-journal-remote ] || missing+=(systemd-journal-remote)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
if ((${#missing[@]})); then
    echo "installing test dependencies: ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    # The package would start its own service where an init system runs; ours starts it per test.
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Telegram tests start this emulator on a loopback port (they install it themselves too,
# if it is missing).
if [ ! -f target/telegram-test-api/node_modules/telegram-test-api/package.json ]; then
    echo "installing the Telegram Bot API emulator (npm telegram-test-api@4) under target/"
    npm install --silent --no-audit --no-fund --prefix target/telegram-test-api telegram-test-api@4
fi

# The SQL tests read the machine's own PostgreSQL (127.0.0.1:5432, database `test`, trust auth)
# and MariaDB (127.0.0.1:3306, root without password, database `test`); start them if stopped.
if command -v pg_ctlcluster >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
fi
if command -v mariadbd >/dev/null 2>&1 && ! mariadb-admin -uroot -h127.0.0.1 ping >/dev/null 2>&1; then
    echo "starting MariaDB"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
    for _ in $(seq 1 30); do mariadb-admin -uroot -h127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
fi
# The queue tests read the machine's Redis (127.0.0.1:6379, keys under a per-test prefix).
if command -v redis-server >/dev/null 2>&1 && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
    echo "starting Redis"
    redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --daemonize yes >/dev/null
    for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
fi

# The evidence PDF tests read their output back with poppler; here they must not skip.
export SENTINEL_REQUIRE_POPPLER=1
cargo test --locked "$@"
