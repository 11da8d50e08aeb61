#!/usr/bin/env bash
# Incremental reruns (issue 12): a full run, the same with --cache (filling
# it), a rerun with nothing changed, and a rerun with ~1% of the admin units
# changed (one building removed in each of units/100 places); prints seconds,
# the ratios to the full run, units reused/computed and where the rest of
# the time goes (read, pipeline, write), from each run's --summary.
#
#   benches/rerun.sh                 # tiled:1m
#   benches/rerun.sh korea:7m        # any set of benches/scale.sh (generated if missing)
#
# Outputs go to target/scale/rerun/KIND-SIZE/. Needs python3 (standard library).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
DONGNE=${DONGNE_BIN:-$TARGET/release/dongne}
SET=${1:-tiled:1m}
kind=${SET%%:*}
size=${SET##*:}
dir="$TARGET/scale/$kind-$size"
if [ -z "${SKIP_BUILD:-}" ]; then
  (cd "$REPO" && cargo build --release --bin dongne --example gen_scale) >&2
fi
if [ ! -f "$dir/dongne.toml" ]; then
  "$TARGET/release/examples/gen_scale" --kind "$kind" --size "$size" --out "$dir" >&2
fi
work="$TARGET/scale/rerun/$kind-$size"
rm -rf "$work" && mkdir -p "$work"

# The changed inputs: the same config with a buildings layer that lacks one
# building in each of units/100 places spread over the file.
read -r bfile apath alayer < <(python3 - "$dir/dongne.toml" <<'PY'
import sys, tomllib
c = tomllib.load(open(sys.argv[1], "rb"))
print(c["buildings"]["path"], c["admin"]["path"], c["admin"].get("layer", ""))
PY
)
case "$apath" in /*) ;; *) apath="$dir/$apath" ;; esac
units=$(ogrinfo -ro -so "$apath" ${alayer:+"$alayer"} -al 2>/dev/null | awk -F': ' '/Feature Count/ {print $2; exit}')
nb=$(ogrinfo -ro -so -al "$dir/$bfile" | awk -F': ' '/Feature Count/ {print $2; exit}')
k=$(( (units + 99) / 100 ))
fids=$(python3 -c "print(','.join(str(i * ($nb // $k) + 7) for i in range($k)))")
# No spatial index: the features keep their order (an index would reorder
# them, and a unit whose buildings come in another order is recomputed).
ogr2ogr -f FlatGeobuf -lco SPATIAL_INDEX=NO "$work/buildings-changed.fgb" "$dir/$bfile" -where "FID NOT IN ($fids)" >&2
sed "s#^path = \"$bfile\"#path = \"$work/buildings-changed.fgb\"#" "$dir/dongne.toml" > "$dir/dongne-changed.toml"

run() { # name, config, extra args...
  local name=$1 cfg=$2; shift 2
  local t0 t1
  t0=$(date +%s.%N)
  "$DONGNE" -q generate --config "$cfg" -o "$work/$name.gpkg" --summary "$work/$name.json" "$@"
  t1=$(date +%s.%N)
  echo "$name $(python3 -c "print(f'{$t1 - $t0:.2f}')")" >> "$work/times.txt"
}
run full "$dir/dongne.toml"
run cache_fill "$dir/dongne.toml" --cache "$work/cache"
run rerun_same "$dir/dongne.toml" --cache "$work/cache"
run rerun_1pct "$dir/dongne-changed.toml" --cache "$work/cache"
run full_1pct "$dir/dongne-changed.toml"
cmp -s "$work/full.gpkg" "$work/rerun_same.gpkg" && same=yes || same=NO
cmp -s "$work/full_1pct.gpkg" "$work/rerun_1pct.gpkg" && same1=yes || same1=NO

python3 - "$work" "$SET" "$units" "$nb" "$k" "$same" "$same1" <<'PY'
import json, sys, pathlib
work, set_, units, nb, k, same, same1 = sys.argv[1:]
w = pathlib.Path(work)
times = dict(l.split() for l in (w / "times.txt").read_text().splitlines())
full = float(times["full"])
print(f"set {set_}: {int(nb):,} buildings, {units} admin units; changed: {k} buildings in distinct places")
print(f"{'run':<12} {'seconds':>8} {'ratio':>6} {'reused':>7} {'computed':>8}  read / pipeline / write (s)   cache MB")
for name in ["full", "cache_fill", "rerun_same", "rerun_1pct", "full_1pct"]:
    s = json.loads((w / f"{name}.json").read_text())
    steps = {x["step"]: x["seconds"] for x in s["steps"]}
    c = s.get("cache") or {}
    t = float(times[name])
    print(f"{name:<12} {t:>8.2f} {t / full:>6.2f} {c.get('reused', '-'):>7} {c.get('computed', '-'):>8}  "
          f"{steps.get('read', 0):5.2f} / {steps.get('pipeline', 0):5.2f} / {steps.get('write', 0):5.2f}"
          f"   {c.get('bytes', 0) / 1e6:8.1f}")
print(f"rerun_same byte-identical to full: {same}; rerun_1pct byte-identical to full_1pct: {same1}")
PY
