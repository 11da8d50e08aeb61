#!/usr/bin/env bash
# Behaviour unchanged: every examples/*.toml gives byte-identical output with
# two dongne binaries (e.g. one built from main before a refactor, one after).
#
#   scripts/same_output.sh OLD_DONGNE NEW_DONGNE
#
# Compares GeoJSON for every example and a GeoPackage for jamsil.toml.
# Exit status 0 when every output is the same.
set -uo pipefail
old=$(realpath "$1") new=$(realpath "$2")
cd "$(dirname "$0")/../examples"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for cfg in *.toml; do
  for ext in geojson gpkg; do
    [ "$ext" = gpkg ] && [ "$cfg" != jamsil.toml ] && continue
    a="$tmp/old-${cfg%.toml}.$ext" b="$tmp/new-${cfg%.toml}.$ext"
    if ! "$old" generate --config "$cfg" -o "$a" -q || ! "$new" generate --config "$cfg" -o "$b" -q; then
      echo "FAILED to run: $cfg"; status=1; continue
    fi
    if cmp -s "$a" "$b"; then echo "same: $cfg ($ext)"; else echo "DIFFERENT: $cfg ($ext)"; status=1; fi
  done
done
exit $status
