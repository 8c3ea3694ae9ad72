#!/usr/bin/env bash
# Refresh the map library the app serves itself (pages never load anything from a CDN). Markers
# are clustered by the server (app/services/shop_map.py), so no clustering plugin is needed.
#
# Not part of `make run` or `make test`: the vendored files are committed. Run this only to update
# a version, then bump the checksum below to the one `npm pack` printed and review the diff.
# Only the built files a page loads are kept (plus source maps, so browser tools find them),
# together with each package's licence.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENDOR="$ROOT/static/vendor"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# name@version  sha256 of the tarball, so an update is a deliberate, reviewed change
PACKAGES=(
    "leaflet@1.9.4 84c65a256e50657896f54c33bd857b6849ebe94c817803be818bf32a3dde0b77"
)

fetch() {
    local spec=$1 sha=$2 tarball
    tarball=$(cd "$WORK" && npm pack --silent "$spec")
    echo "$sha  $WORK/$tarball" | sha256sum --check --quiet
    mkdir -p "$WORK/${spec%@*}"
    tar xzf "$WORK/$tarball" -C "$WORK/${spec%@*}"
}

copy() {
    local package=$1; shift
    local src="$WORK/$package/package" dest="$VENDOR/$package" file
    rm -rf "$dest"
    for file in "$@"; do
        install -D -m 0644 "$src/$file" "$dest/$file"
    done
}

for entry in "${PACKAGES[@]}"; do
    fetch ${entry}
done

copy leaflet LICENSE dist/leaflet.js dist/leaflet.js.map dist/leaflet.css \
    dist/images/layers.png dist/images/layers-2x.png dist/images/marker-icon.png \
    dist/images/marker-icon-2x.png dist/images/marker-shadow.png

echo "vendored into $VENDOR:" >&2
(cd "$VENDOR" && find leaflet -type f | sort) >&2
