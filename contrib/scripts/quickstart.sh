#!/usr/bin/env bash
# From a fresh Debian 12 machine to a running berthd: install dependencies, build, install,
# start berthd (through systemd where systemd is running, directly otherwise) and run the demo.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
contrib/scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
cmake --install build --prefix /usr/local >/dev/null
getent group berth >/dev/null || groupadd --system berth

if [[ -d /run/systemd/system ]]; then
    systemctl daemon-reload
    systemctl enable --now berthd.socket berthd.service
else
    if ! curl -sf --unix-socket /run/berth.sock http://berth/_ping >/dev/null 2>&1; then
        nohup /usr/local/bin/berthd >>/var/log/berthd.log 2>&1 &
        echo "berthd started directly (no systemd here), pid $!, log /var/log/berthd.log"
    fi
fi
for _ in $(seq 1 50); do
    curl -sf --unix-socket /run/berth.sock http://berth/_ping >/dev/null 2>&1 && break
    sleep 0.1
done

# The bundled default image: busybox built from Debian's busybox-static (no network needed).
contrib/images/build-busybox.sh build/images >/dev/null
/usr/local/bin/berth load -i build/images/busybox.tar

# The demo: the berth CLI, and the unmodified docker CLI, talking to berthd.
/usr/local/bin/berth version
/usr/local/bin/berth images
/usr/local/bin/berth rm -f berth-demo >/dev/null 2>&1 || true
/usr/local/bin/berth run -d --name berth-demo busybox sh -c 'echo Hello from a berth container'
/usr/local/bin/berth wait berth-demo >/dev/null
/usr/local/bin/berth logs berth-demo
if command -v docker >/dev/null; then
    DOCKER_HOST=unix:///run/berth.sock docker ps -a
fi
/usr/local/bin/berth rm berth-demo >/dev/null
