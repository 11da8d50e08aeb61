#!/usr/bin/env bash
# End-to-end scale bench (issue #4): generates the scale inputs (cached) and
# runs `dongne generate` on each under /usr/bin/time -v, then prints seconds,
# CPU seconds, peak RSS and per-stage seconds, and time(4m)/time(1m).
#
#   benches/scale.sh                          # tiled:100k tiled:1m korea:1m korea:4m korea:7m
#   benches/scale.sh korea:1m korea:4m        # chosen sets (KIND:SIZE)
#   RUNS=3 benches/scale.sh tiled:1m          # best of 3 (the machine may be shared)
#   THREADS=1 benches/scale.sh tiled:100k     # RAYON_NUM_THREADS for dongne
#   LABEL=before DONGNE_BIN=/path/to/old/dongne benches/scale.sh korea:1m
#                                             # another binary, kept apart in the ratios
#
# Inputs go to $SCALE_DIR (default target/scale/KIND-SIZE), each run's output,
# summary and JSON log to target/scale/runs/KIND-SIZE/. One JSON line per run
# is appended to target/scale/results.jsonl. Needs /usr/bin/time (Debian:
# apt-get install time) and python3 (standard library only).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
SCALE_DIR=${SCALE_DIR:-$TARGET/scale}
DONGNE=${DONGNE_BIN:-$TARGET/release/dongne}
GEN=${GEN_BIN:-$TARGET/release/examples/gen_scale}
RUNS=${RUNS:-1}
SETS=("$@")
[ ${#SETS[@]} -eq 0 ] && SETS=(tiled:100k tiled:1m korea:1m korea:4m korea:7m)

[ -x /usr/bin/time ] || { echo "needs /usr/bin/time: apt-get install time" >&2; exit 1; }
if [ -z "${SKIP_BUILD:-}" ]; then
  (cd "$REPO" && cargo build --release --bin dongne --example gen_scale) >&2
fi

mkdir -p "$SCALE_DIR/runs"
for set in "${SETS[@]}"; do
  kind=${set%%:*}
  size=${set##*:}
  dir="$SCALE_DIR/$kind-$size"
  if [ ! -f "$dir/dongne.toml" ]; then
    echo "generating $kind $size → $dir" >&2
    extra=()
    [ "$kind" = tiled ] && [ "$size" = 100k ] && extra=(--squares 10)
    "$GEN" --kind "$kind" --size "$size" --out "$dir" "${extra[@]}" >&2
  fi
  run="$SCALE_DIR/runs/$kind-$size"
  mkdir -p "$run"
  for r in $(seq 1 "$RUNS"); do
    env ${THREADS:+RAYON_NUM_THREADS=$THREADS} /usr/bin/time -v -o "$run/time.txt" \
      "$DONGNE" generate --config "$dir/dongne.toml" -o "$run/out.gpkg" \
      --summary "$run/summary.json" --log-format json 2> "$run/log.jsonl" || {
      echo "dongne failed on $set; see $run/log.jsonl" >&2
      tail -5 "$run/log.jsonl" >&2
      exit 1
    }
    python3 "$REPO/benches/scale_report.py" row "$kind" "$size" "$run" "$dir" \
      ${THREADS:+--threads $THREADS} ${LABEL:+--label $LABEL} >> "$SCALE_DIR/results.jsonl"
    python3 "$REPO/benches/scale_report.py" print-last "$SCALE_DIR/results.jsonl"
  done
done
python3 "$REPO/benches/scale_report.py" ratios "$SCALE_DIR/results.jsonl"
