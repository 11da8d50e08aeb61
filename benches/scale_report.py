#!/usr/bin/env python3
"""Parses one run of benches/scale.sh (time -v output, --summary JSON and the
--log-format json log) into one JSON line, prints it as a table row, and
prints time(4m)/time(1m) per kind. Standard library only.

    scale_report.py row KIND SIZE RUN_DIR INPUT_DIR [--threads N] [--label L]
    scale_report.py print-last results.jsonl
    scale_report.py ratios results.jsonl
"""
import json
import os
import sys
import time

# Stages in pipeline order. read/reproject/write are wall seconds from the
# log; the pipeline stages are CPU seconds summed over threads (the summary's
# run.stage_seconds), plus the pipeline's wall seconds.
COLS = ["read", "reproject", "frame", "barriers", "enclosures", "clustering",
        "tessellation", "size_rules", "dissolve", "write"]


def parse_time(path):
    out = {}
    for line in open(path):
        line = line.strip()
        if line.startswith("Elapsed (wall clock) time"):
            v = line.rsplit(" ", 1)[1]
            parts = [float(p) for p in v.split(":")]
            s = 0.0
            for p in parts:
                s = s * 60 + p
            out["seconds"] = s
        elif line.startswith("Maximum resident set size"):
            out["peak_rss_mib"] = int(line.rsplit(" ", 1)[1]) / 1024
        elif line.startswith("User time"):
            out["user_s"] = float(line.rsplit(" ", 1)[1])
        elif line.startswith("System time"):
            out["sys_s"] = float(line.rsplit(" ", 1)[1])
    return out


def row(kind, size, run, inp, threads, label):
    r = {"kind": kind, "size": size, "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
         "threads": threads or os.cpu_count(), "label": label or ""}
    r.update(parse_time(os.path.join(run, "time.txt")))
    s = json.load(open(os.path.join(run, "summary.json")))
    rep = s["run"]
    r["buildings"] = rep["buildings"]
    r["admin_units"] = rep["admin_units"]
    r["neighborhoods"] = rep["neighborhoods"]
    r["features"] = rep["neighborhoods"] + rep["barrier_features"]
    r["seconds_total"] = s["seconds_total"]
    stages = {k: v for k, v in rep["stage_seconds"]}
    for k, v in (rep.get("wall_seconds") or []):
        stages["wall_" + k] = v
    for line in open(os.path.join(run, "log.jsonl")):
        try:
            e = json.loads(line)
        except ValueError:
            continue
        st, sec = e.get("stage"), e.get("seconds")
        if sec is None:
            continue
        if st == "read" and e.get("what") == "total":
            stages["read_total"] = sec
        elif st == "write":
            stages["write"] = sec
        elif st in ("reproject", "validate"):
            stages[st] = sec
    if "read_total" in stages:
        stages["read"] = stages["read_total"] - stages.get("reproject", 0) - stages.get("validate", 0)
    r["stages"] = stages
    m = os.path.join(inp, "manifest.json")
    if os.path.exists(m):
        r["input"] = json.load(open(m))
    print(json.dumps(r))


def fmt(r):
    st = r["stages"]
    cells = " ".join(f"{c}={st[c]:.2f}" for c in COLS if c in st)
    extra = ""
    if "validate" in st:
        extra += f" validate={st['validate']:.2f}"
    if "wall_units" in st:
        extra += f" | wall: units={st['wall_units']:.2f}"
        for k in ("frame", "between_units", "assemble"):
            if "wall_" + k in st:
                extra += f" {k}={st['wall_' + k]:.2f}"
    cpu = r.get("user_s", 0) + r.get("sys_s", 0)
    label = f"[{r['label']}] " if r.get("label") else ""
    return (f"{label}{r['kind']:>5} {r['size']:>5} buildings={r['buildings']:>8} "
            f"wall={r['seconds']:.1f}s cpu={cpu:.1f}s peak_rss={r['peak_rss_mib']:.0f}MiB "
            f"features={r['features']} threads={r['threads']}\n      {cells}{extra}")


def last(path):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    print(fmt(rows[-1]))


def ratios(path):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    best = {}
    for r in rows:
        k = (r.get("label", ""), r["kind"], r["size"], r["threads"])
        if k not in best or r["seconds"] < best[k]["seconds"]:
            best[k] = r
    for (label, kind, size, th), r in sorted(best.items()):
        if size != "4m":
            continue
        one = best.get((label, kind, "1m", th))
        if one:
            tag = f"[{label}] " if label else ""
            cpu = lambda x: x.get("user_s", 0) + x.get("sys_s", 0)
            print(f"{tag}{kind}: time(4m)/time(1m) = {r['seconds']:.1f}/{one['seconds']:.1f} = "
                  f"{r['seconds'] / one['seconds']:.2f} (best runs, {th} threads); "
                  f"CPU seconds of those runs {cpu(r):.1f}/{cpu(one):.1f} = "
                  f"{cpu(r) / max(cpu(one), 1e-9):.2f}")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "row":
        th = label = None
        if "--threads" in sys.argv:
            th = int(sys.argv[sys.argv.index("--threads") + 1])
        if "--label" in sys.argv:
            label = sys.argv[sys.argv.index("--label") + 1]
        row(*sys.argv[2:6], th, label)
    elif cmd == "print-last":
        last(sys.argv[2])
    elif cmd == "ratios":
        ratios(sys.argv[2])
