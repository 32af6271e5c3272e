#!/usr/bin/env bash
# Installs what berth needs to build, run, test and benchmark on Debian 12.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(
    build-essential cmake pkg-config git clang-format
    libuv1-dev libhttp-parser-dev libjansson-dev libcurl4-openssl-dev libarchive-dev libssl-dev
    libcmocka-dev bats
    curl python3 python3-docker socat util-linux iproute2 systemd
    busybox-static docker-registry skopeo openssl jq clang zstd umoci iptables
)
if [[ "${BERTH_BENCH:-0}" == 1 ]]; then
    packages+=(docker.io)
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
command -v docker >/dev/null || { echo "install-deps: the docker CLI is required for the e2e tests" >&2; exit 1; }
