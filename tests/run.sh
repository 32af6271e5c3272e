#!/usr/bin/env bash
# The whole test suite: a Release build with -Werror, its unit tests (ctest) and end-to-end tests
# (bats), then the same under AddressSanitizer + UndefinedBehaviorSanitizer, and a format check.
# Run as root from anywhere; exits non-zero on the first failing stage.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc)

stage() { printf '\n==== %s ====\n' "$*"; }

stage "format check"
bad=$(git ls-files '*.c' '*.h' | xargs clang-format --dry-run -Werror 2>&1 | grep -c 'error:' || true)
if [[ "$bad" != 0 ]]; then
    git ls-files '*.c' '*.h' | xargs clang-format --dry-run -Werror || true
    echo "clang-format: $bad places differ; run clang-format -i on them" >&2
    exit 1
fi

stage "release build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DBERTH_WERROR=ON >/dev/null
cmake --build build -j"$jobs"

stage "test fixtures (busybox image, registries' content)"
tests/fixtures/build.sh build/fixtures

stage "unit tests (release)"
ctest --test-dir build --output-on-failure -j"$jobs"

stage "e2e tests (release)"
BERTH_BIN="$top/build/bin" tests/e2e/run.sh

stage "sanitizer build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DBERTH_SANITIZE=ON -DBERTH_WERROR=ON >/dev/null
cmake --build build-asan -j"$jobs"

stage "unit tests (asan+ubsan)"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs"

stage "e2e tests (asan+ubsan)"
BERTH_BIN="$top/build-asan/bin" tests/e2e/run.sh

stage "fuzz targets (clang, 20 s each)"
if command -v clang >/dev/null; then
    cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DBERTH_TESTS=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
    cmake --build build-fuzz -j"$jobs" --target fuzz_manifest fuzz_tar fuzz_dns
    fuzzwork=$(mktemp -d)
    trap 'rm -rf "$fuzzwork"' EXIT
    cp -r tests/fuzz/corpus/manifest "$fuzzwork/manifest"
    build-fuzz/bin/fuzz_manifest -max_total_time=20 -print_final_stats=0 "$fuzzwork/manifest" 2>"$fuzzwork/manifest.log" ||
        { tail -40 "$fuzzwork/manifest.log"; exit 1; }
    mkdir -p "$fuzzwork/tar"
    (cd "$fuzzwork" && "$top/build-fuzz/bin/fuzz_tar" -max_total_time=20 "$fuzzwork/tar" 2>"$fuzzwork/tar.log") ||
        { tail -40 "$fuzzwork/tar.log"; exit 1; }
    mkdir -p "$fuzzwork/dns"
    build-fuzz/bin/fuzz_dns -max_total_time=20 -print_final_stats=0 "$fuzzwork/dns" 2>"$fuzzwork/dns.log" ||
        { tail -40 "$fuzzwork/dns.log"; exit 1; }
    echo "fuzz targets ran clean"
else
    echo "clang not installed: fuzz targets skipped"
fi

stage "all tests passed"
