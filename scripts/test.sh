#!/usr/bin/env bash
# Runs Sentinel's whole test suite on a fresh machine. Installs what the tests need first
# (Debian's `prometheus`, which the tests start themselves on a free loopback port with a
# temporary data directory; curl, which drives the ping API the way cron scripts do), then
# runs every unit and integration test.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if ((${#missing[@]})); then
    echo "installing test dependencies: ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    # The package would start its own service where an init system runs; ours starts it per test.
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cargo test --locked "$@"
