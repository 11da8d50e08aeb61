#!/usr/bin/env bash
# The nightly neighborhood job, end to end:
#
#   1. dongne check      every input layer (and yesterday's output) is readable
#                        and fit; otherwise stop before anything is computed;
#   2. dongne generate   today's neighborhoods, ids carried over from
#                        yesterday's file (--previous), with the change report
#                        (--changes) and the run's figures (--summary);
#   3. archive           dated copies of the three files.
#
# Usage:   examples/daily/daily.sh
#
# Settings (environment, all optional):
#   DONGNE            the binary                  [dongne on PATH, else target/release/dongne]
#   DONGNE_CONFIG     the run's config            [examples/daily/daily.toml]
#   DONGNE_OUT        where the files go          [out/daily]
#   DONGNE_LOG_FORMAT text or json (json for log collectors)  [json]
#   RUN_DATE          the date the archive is filed under     [today, UTC]
#   KEEP_DAYS         archive folders older than this are removed; 0 keeps all [0]
#
# Layout of $DONGNE_OUT:
#   neighborhoods.gpkg           the current layer (replaced atomically)
#   changes.json, summary.json   the current run's report and figures
#   check.txt                    the last check's report
#   archive/YYYY-MM-DD/          the same three files, as each day left them
#
# Exit status: dongne's own when it fails (2: input to fix, see the message;
# 3: output not writable), 75 when another run holds the lock, 0 otherwise.
# A failed or killed run leaves yesterday's files as they were, so the next
# run simply starts again from them.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

if [ -n "${DONGNE:-}" ]; then
    dongne="$DONGNE"
elif command -v dongne >/dev/null 2>&1; then
    dongne="$(command -v dongne)"
else
    dongne="$repo/target/release/dongne"
fi
config="${DONGNE_CONFIG:-$here/daily.toml}"
out="${DONGNE_OUT:-$repo/out/daily}"
log_format="${DONGNE_LOG_FORMAT:-json}"
run_date="${RUN_DATE:-$(date -u +%F)}"
keep_days="${KEEP_DAYS:-0}"

if [ ! -x "$dongne" ]; then
    echo "daily: dongne not found at $dongne (build it: cargo build --release, or set DONGNE)" >&2
    exit 2
fi
case "$run_date" in
    [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]) ;;
    *) echo "daily: RUN_DATE must be YYYY-MM-DD, not '$run_date'" >&2; exit 2 ;;
esac

mkdir -p "$out/archive"
current="$out/neighborhoods.gpkg"
changes="$out/changes.json"
summary="$out/summary.json"

# One run at a time: a scheduler that starts a run while the last one still
# works would have both write the same files.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$out/.daily.lock"
    if ! flock -n 9; then
        echo "daily: another run holds $out/.daily.lock; not starting" >&2
        exit 75
    fi
fi

previous=()
check_previous=()
if [ -f "$current" ]; then
    previous=(--previous "$current" --changes "$changes")
    check_previous=(--previous "$current")
else
    echo "daily: no $current yet: first run, every id is new" >&2
    # A report from an earlier series would not describe this run.
    rm -f "$changes"
fi

echo "daily: check ($run_date)" >&2
# The full report is kept beside the outputs; on a problem it goes to the
# log too, and the job stops with check's exit status (2).
status=0
"$dongne" -q check --config "$config" -o "$current" "${check_previous[@]}" \
    >"$out/check.txt" || status=$?
if [ "$status" -ne 0 ]; then
    cat "$out/check.txt" >&2
    echo "daily: check failed (exit $status); yesterday's files are untouched" >&2
    exit "$status"
fi

echo "daily: generate" >&2
# The previous output is read before the new one replaces it: the same path
# can be both.
"$dongne" --log-format "$log_format" generate --config "$config" -o "$current" \
    "${previous[@]}" --summary "$summary"

# Dated copies: copied under a temporary name and renamed, so an archive file
# is never half-written either.
day="$out/archive/$run_date"
mkdir -p "$day"
for f in "$current" "$changes" "$summary"; do
    [ -f "$f" ] || continue
    name="$(basename "$f")"
    cp "$f" "$day/.$name.tmp"
    mv -f "$day/.$name.tmp" "$day/$name"
done

if [ "$keep_days" -gt 0 ]; then
    # Only folders named like a date, directly under archive/.
    find "$out/archive" -mindepth 1 -maxdepth 1 -type d \
        -name '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' -mtime +"$keep_days" \
        -exec rm -r -- {} +
fi

if [ ${#previous[@]} -gt 0 ]; then
    echo "daily: done: $current, changes in $changes; archived in $day" >&2
else
    echo "daily: done: $current (first run: no change report); archived in $day" >&2
fi
