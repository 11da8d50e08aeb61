#!/usr/bin/env bash
# Quick start: draws the neighborhoods of the bundled sample, central Helsinki
# (data/helsinki_center.osm.pbf, © OpenStreetMap contributors, ODbL 1.0).
#
#   ./run-sample.sh
#
# On a fresh Debian or Ubuntu machine it first installs what is missing
# (GDAL, pkg-config: .ci/install-deps.sh, with sudo when not root), then builds
# dongne in release mode and writes
#   out/sample.gpkg      GeoPackage
#   out/sample.geojson   GeoJSON
# with the settings of examples/sample.toml. Works from any directory.
set -euo pipefail

cd "$(dirname "$0")"

echo "== checking system packages"
bash .ci/install-deps.sh

echo "== building dongne (release; the first build takes a few minutes)"
cargo build --release

mkdir -p out
echo "== drawing neighborhoods: out/sample.gpkg"
cargo run --release -- generate --config examples/sample.toml -o out/sample.gpkg
echo "== drawing neighborhoods: out/sample.geojson"
cargo run --release -- generate --config examples/sample.toml -o out/sample.geojson

echo
echo "== result"
if command -v ogrinfo >/dev/null 2>&1; then
    ogrinfo -ro -so -al out/sample.gpkg | grep -E '^(Layer name|Geometry|Feature Count):' || true
fi
cat <<EOF

Neighborhoods of the sample:
  $(pwd)/out/sample.gpkg
  $(pwd)/out/sample.geojson

Open them in QGIS:
  - from a terminal:  qgis out/sample.gpkg
  - or in QGIS: Layer > Add Layer > Add Vector Layer..., choose out/sample.gpkg
    (or drag the file onto the map).
  - background map: in the Browser panel, XYZ Tiles > OpenStreetMap (drag it
    below the neighborhoods).
  - colour by kind: Layer Properties > Symbology > Categorized, value "kind"
    (neighborhoods, and parks / water kept as features of their own).

The GeoJSON opens in any GIS or web map viewer as well.
Map data © OpenStreetMap contributors, ODbL 1.0: see data/README.md.
Settings used: examples/sample.toml (every key explained there).
EOF
