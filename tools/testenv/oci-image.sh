#!/usr/bin/env bash
# Writes a single-layer OCI image layout tarball without a container daemon, for
# `ctr images import`:
#
#   oci-image.sh OUT.tar REPOSITORY ENTRYPOINT FILE...
#
# The layer holds each FILE at the root of the image (mode 0755, owner 0:0); ENTRYPOINT is
# the path of the program to run (e.g. /pause). The same inputs give the same bytes: tar with
# sorted names, mtime 0, numeric owner 0 and no atime/ctime, `gzip -n`, JSON written here in a
# fixed order. The tag is the start of the manifest's digest, so a changed image never hides
# behind an old name; the full reference (REPOSITORY:TAG) is printed on stdout.
set -euo pipefail

[ $# -ge 4 ] || { echo "usage: oci-image.sh OUT.tar REPOSITORY ENTRYPOINT FILE..." >&2; exit 2; }
out="$1" repo="$2" entrypoint="$3"
shift 3
case "$repo" in *[!a-z0-9./_-]*) echo "oci-image.sh: repository '$repo': only a-z 0-9 . / _ -" >&2; exit 2 ;; esac
case "$entrypoint" in /*) ;; *) echo "oci-image.sh: entrypoint '$entrypoint' must be an absolute path" >&2; exit 2 ;; esac

umask 022
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs" "$work/oci/blobs/sha256"
chmod 0755 "$work/rootfs" "$work/oci"
for f in "$@"; do
  [ -f "$f" ] || { echo "oci-image.sh: $f: no such file" >&2; exit 1; }
  install -m 0755 "$f" "$work/rootfs/$(basename "$f")"
done

det_tar() { # det_tar DIR OUT: a tarball of DIR's contents whose bytes depend only on them
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -C "$1" -cf "$2" .
}
sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
blob() { # blob FILE: moves FILE into the layout under its digest, prints the digest
  local d; d="$(sha "$1")"
  mv "$1" "$work/oci/blobs/sha256/$d"
  echo "$d"
}

det_tar "$work/rootfs" "$work/layer.tar"
diff_id="$(sha "$work/layer.tar")"
gzip -n -9 "$work/layer.tar"
layer_size="$(size "$work/layer.tar.gz")"
layer="$(blob "$work/layer.tar.gz")"

printf '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":{"Env":["PATH=/"],"Entrypoint":["%s"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "$entrypoint" "$diff_id" >"$work/config.json"
config_size="$(size "$work/config.json")"
config="$(blob "$work/config.json")"

printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
  "$config" "$config_size" "$layer" "$layer_size" >"$work/manifest.json"
manifest_size="$(size "$work/manifest.json")"
manifest="$(blob "$work/manifest.json")"

tag="${manifest:0:12}"
ref="$repo:$tag"
# containerd names the imported image after io.containerd.image.name; the OCI ref name is
# the tag, for other tools reading the layout.
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
  "$manifest" "$manifest_size" "$ref" "$tag" >"$work/oci/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$work/oci/oci-layout"
det_tar "$work/oci" "$work/image.tar"
mv -f "$work/image.tar" "$out"
echo "$ref"
