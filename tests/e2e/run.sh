#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# End-to-end tests: runs bats over tests/e2e/*.bats against a real berthd.
#
#   tests/e2e/run.sh [bats args or .bats files...]
#
# BERTH_BIN selects the build under test (default: <repo>/build/bin); CI runs the suite once for
# the Release build and once for the ASan build (BERTH_BIN=<repo>/build-asan/bin).
# BERTH_E2E_TIMEOUT bounds the whole run (seconds, default 1800).
#
# The suite re-executes itself inside `unshare --net --mount --fork`: a private network namespace
# (only `lo`, so nothing the daemon does can reach the host network) and a private mount namespace
# with private propagation. Must run as root.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

if [[ "${BERTH_E2E_IN_NS:-}" != 1 ]]; then
    if [[ "$(id -u)" != 0 ]]; then
        echo "e2e: must run as root (needs unshare --net --mount)" >&2
        exit 2
    fi
    export BERTH_BIN="${BERTH_BIN:-$repo/build/bin}"
    BERTH_BIN="$(cd "$BERTH_BIN" 2>/dev/null && pwd)" || {
        echo "e2e: BERTH_BIN directory does not exist" >&2
        exit 2
    }
    for b in berthd berth; do
        if [[ ! -x "$BERTH_BIN/$b" ]]; then
            echo "e2e: $BERTH_BIN/$b is missing; build first (cmake --build build)" >&2
            exit 2
        fi
    done
    for tool in bats curl docker socat unshare setpriv systemd-socket-activate ip; do
        if ! command -v "$tool" >/dev/null; then
            echo "e2e: required tool '$tool' is not installed" >&2
            exit 2
        fi
    done
    export BERTH_E2E_IN_NS=1
    exec timeout --foreground -k 10 "${BERTH_E2E_TIMEOUT:-1800}" \
        unshare --net --mount --fork -- bash "${BASH_SOURCE[0]}" "$@"
fi

# --- inside the namespaces -------------------------------------------------------------------
mount --make-rprivate /
ip link set lo up

# Never let the host's docker/berth configuration leak into the tests.
unset DOCKER_HOST DOCKER_CONTEXT DOCKER_API_VERSION DOCKER_TLS_VERIFY DOCKER_CERT_PATH BERTH_HOST
unset NOTIFY_SOCKET LISTEN_FDS LISTEN_PID LISTEN_FDNAMES
# Sanitizer builds: a leak or an error makes the daemon exit non-zero at SIGTERM, which
# berthd_stop turns into a test failure.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=66}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=67}"
# Prefer Debian's python3 (it has python3-docker) over any pyenv shim on PATH.
if [[ -z "${BERTH_E2E_PYTHON:-}" ]]; then
    if [[ -x /usr/bin/python3 ]]; then
        BERTH_E2E_PYTHON=/usr/bin/python3
    else
        BERTH_E2E_PYTHON="$(command -v python3)"
    fi
fi
export BERTH_E2E_PYTHON

# Raise the fd limit (up to the hard limit only) so 1000-connection tests are meaningful; the
# daemon, started from bats, inherits it.
hard="$(ulimit -Hn)"
if [[ "$hard" == unlimited || "$hard" -gt 65536 ]]; then
    hard=65536
fi
ulimit -Sn "$hard"

# Short paths: unix socket paths are limited to 107 bytes.
BERTH_E2E_TMP="$(mktemp -d /tmp/berth-e2e.XXXXXX)"
export BERTH_E2E_TMP
trap 'rm -rf "$BERTH_E2E_TMP"' EXIT

if [[ $# -eq 0 ]]; then
    set -- "$here"/*.bats
fi

echo "e2e: testing $BERTH_BIN ($("$BERTH_BIN/berthd" --version 2>&1 | head -n1))"
echo "e2e: fd limit $(ulimit -n), python $BERTH_E2E_PYTHON, tmp $BERTH_E2E_TMP"

out="$BERTH_E2E_TMP/bats.tap"
set +e
# BATS_TEST_TIMEOUT: no single test may hang the suite.
BATS_TEST_TIMEOUT="${BATS_TEST_TIMEOUT:-120}" TMPDIR="$BERTH_E2E_TMP" \
    bats --tap "$@" | tee "$out"
rc="${PIPESTATUS[0]}"
set -e

total="$(grep -cE '^(not )?ok ' "$out" || true)"
failed="$(grep -cE '^not ok ' "$out" || true)"
skipped="$(grep -cE '^ok .*# skip' "$out" || true)"
echo
echo "e2e summary ($BERTH_BIN): $total tests, $failed failed, $skipped skipped"
if [[ "$failed" -gt 0 ]]; then
    grep -E '^not ok ' "$out" | sed 's/^/  /'
fi
if [[ "$rc" -ne 0 || "$failed" -gt 0 ]]; then
    exit 1
fi
exit 0
