#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds berth's bundled default image, busybox:latest, from Debian's busybox-static, with no
# network access beyond apt. Deterministic: the same busybox-static package gives the same bytes.
#
#   contrib/images/build-busybox.sh OUTDIR
#
# Writes:
#   OUTDIR/rootfs/        the root file system (busybox + `busybox --install -s` symlinks)
#   OUTDIR/oci/           OCI image layout, ref "latest" (gzip layer; push with skopeo)
#   OUTDIR/busybox.tar    `docker save` archive of busybox:latest (berth load -i / docker load)
#   OUTDIR/DIGESTS        manifest, config (image id) and layer digests
#
# SOURCE_DATE_EPOCH (default 0) sets every timestamp. Needs root only to apt-get install
# busybox-static when it is missing.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$1"
py="${PYTHON:-python3}"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-0}"
export PYTHONDONTWRITEBYTECODE=1

bb=""
for c in /bin/busybox /usr/bin/busybox; do
    if [[ -x "$c" ]] && dpkg -S "$c" 2>/dev/null | grep -q '^busybox-static:'; then
        bb="$c"
        break
    fi
done
if [[ -z "$bb" ]]; then
    echo "build-busybox: installing busybox-static" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static \
        >/dev/null || {
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends busybox-static >/dev/null
    }
    bb=/bin/busybox
fi
# A dynamically linked busybox (Debian's "busybox" package) would not run in the image.
if ! file -b "$bb" 2>/dev/null | grep -q 'statically linked' &&
    ldd "$bb" >/dev/null 2>&1; then
    echo "build-busybox: $bb is not statically linked" >&2
    exit 1
fi
version="$(dpkg-query -W -f='${Version}' busybox-static)"

mkdir -p "$out"
out="$(cd "$out" && pwd)"
rootfs="$out/rootfs"
rm -rf "$rootfs" "$out/oci" "$out/busybox.tar" "$out/DIGESTS"
umask 022

# --- root file system --------------------------------------------------------------------------
mkdir -p "$rootfs"
for d in bin sbin usr usr/bin usr/sbin etc home var var/spool var/spool/mail var/www dev proc sys; do
    mkdir -m 0755 "$rootfs/$d"
done
mkdir -m 0700 "$rootfs/root"
mkdir -m 1777 "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"
install -m 0755 "$bb" "$rootfs/bin/busybox"

# What `busybox --install -s` does: one absolute symlink per applet at its configured location.
"$bb" --list-full | LC_ALL=C sort | while IFS= read -r applet; do
    [[ -n "$applet" && "$applet" != bin/busybox ]] || continue
    mkdir -p "$rootfs/$(dirname "$applet")"
    ln -s /bin/busybox "$rootfs/$applet"
done

cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/home:/bin/false
EOF
cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
EOF
chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group"

# --- image -------------------------------------------------------------------------------------
"$py" "$here/mkimage.py" --layer-dir "$rootfs" \
    --comment "busybox-static $version (Debian), busybox --install -s" \
    --cmd '["sh"]' --env "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --arch amd64 --os linux \
    --layout "$out/oci" --tag latest \
    --docker-archive "$out/busybox.tar" --repo-tag busybox:latest --print-digests \
    >"$out/DIGESTS"
"$py" - "$out/oci" >>"$out/DIGESTS" <<'EOF'
import json, os, sys
lay = sys.argv[1]
idx = json.load(open(os.path.join(lay, "index.json")))
m = json.load(open(os.path.join(lay, "blobs/sha256", idx["manifests"][0]["digest"][7:])))
c = json.load(open(os.path.join(lay, "blobs/sha256", m["config"]["digest"][7:])))
for l, d in zip(m["layers"], c["rootfs"]["diff_ids"]):
    print("layer", l["digest"], "diff_id", d)
EOF
echo "build-busybox: busybox $version -> $out ($(wc -l <"$out/DIGESTS") digests)" >&2
cat "$out/DIGESTS"
