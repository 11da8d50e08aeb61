#!/usr/bin/env python3
"""dongne against momepy, side by side, on the same input (issue #4).

    python3 -m venv target/bench-venv
    target/bench-venv/bin/pip install momepy pyogrio
    target/bench-venv/bin/python benches/momepy_compare.py            # li and 100k
    target/bench-venv/bin/python benches/momepy_compare.py --sets li --jobs 2

Sets (made by examples/gen_scale.rs, cached under target/scale/):

* ``li``: Liechtenstein, its 14,035 building footprints from the OSM extract
  (`gen_scale --kind tiled --copies 1 --footprints`);
* ``100k``: the tiled set of 100,000 buildings, each a 10 m square around its
  point (`gen_scale --kind tiled --size 100k --squares 10`).

Both tools get the same files: the footprints, the admin units, and the same
barriers (roads, rail and water lines after dongne's width rules; water,
forest and park areas after its area thresholds, as written by the
generator). momepy: ``momepy.enclosures(primary_barriers=lines + area
outlines, limit=admin units, clip=True)`` then
``momepy.enclosed_tessellation(footprints, enclosures, n_jobs=JOBS)``, timed
in memory (its reading is timed apart and not counted). dongne: ``dongne
generate`` with RAYON_NUM_THREADS=JOBS, timed end to end as a process
(reading, all stages, writing the GeoPackage) and, as momepy is, the method in
memory (the summary's ``pipeline`` step); the median of ``--runs`` runs (7).

They do not compute the same thing: momepy makes one cell per building, dongne
one polygon per hot spot (cells are never made: regions come from the
label-changing Voronoi edges), plus clustering, size rules and the admin
frame. The comparison is the one a user makes: the reference open-source
path to barrier-bounded tessellation versus dongne, on the same data.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ensure_set(name, scale_dir, gen):
    if name == "li":
        d = os.path.join(scale_dir, "tiled-li")
        args = ["--kind", "tiled", "--copies", "1", "--footprints"]
        bfile = "buildings_footprints.fgb"
    elif name == "100k":
        d = os.path.join(scale_dir, "tiled-100k")
        args = ["--kind", "tiled", "--size", "100k", "--squares", "10"]
        bfile = "buildings_squares.fgb"
    else:
        sys.exit(f"unknown set {name} (li, 100k)")
    if not os.path.exists(os.path.join(d, bfile)):
        print(f"generating {name} → {d}", file=sys.stderr)
        subprocess.run([gen] + args + ["--out", d], check=True)
    return d, bfile


def run_dongne(dongne, d, bfile, jobs, run_dir, runs):
    os.makedirs(run_dir, exist_ok=True)
    toml = open(os.path.join(d, "dongne.toml")).read()
    toml = toml.replace('path = "buildings.fgb"', f'path = "{os.path.join(d, bfile)}"')
    for f in ("admin.fgb", "roads.fgb", "rail.fgb", "water_lines.fgb", "water_areas.fgb",
              "mountains.fgb", "parks.fgb"):
        toml = toml.replace(f'path = "{f}"', f'path = "{os.path.join(d, f)}"')
    cfg = os.path.join(run_dir, "dongne.toml")
    open(cfg, "w").write(toml)
    out = os.path.join(run_dir, "dongne.gpkg")
    env = dict(os.environ, RAYON_NUM_THREADS=str(jobs))
    # A process of a quarter second varies by a tenth from run to run (page
    # faults, scheduling): the median of `runs`, with the range beside it.
    ends, mems = [], []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([dongne, "generate", "-q", "--config", cfg, "-o", out,
                        "--summary", os.path.join(run_dir, "summary.json")], check=True, env=env)
        ends.append(time.perf_counter() - t)
        s = json.load(open(os.path.join(run_dir, "summary.json")))
        # The method in memory, as momepy is timed: the summary's `pipeline`
        # step (after reading, before ids and writing).
        mems.append({x["step"]: x["seconds"] for x in s["steps"]}["pipeline"])
    return ends, mems, s["run"]["neighborhoods"], s["run"]["buildings"]


def run_momepy(d, bfile, jobs, run_dir):
    import geopandas as gpd
    import momepy
    import pandas as pd
    import shapely

    t = time.perf_counter()
    read = lambda f: gpd.read_file(os.path.join(d, f), engine="pyogrio")
    buildings = read(bfile)
    admin = read("admin.fgb")
    lines = [read(f) for f in ("roads.fgb", "rail.fgb", "water_lines.fgb")]
    areas = [read(f) for f in ("water_areas.fgb", "mountains.fgb", "parks.fgb")]
    crs = admin.crs
    line_geoms = pd.concat([l.geometry for l in lines], ignore_index=True)
    outlines = pd.concat([a.geometry.boundary for a in areas], ignore_index=True).explode(
        ignore_index=True)
    barriers = gpd.GeoSeries(pd.concat([line_geoms, outlines], ignore_index=True), crs=crs)
    buildings = buildings[["geometry"]].reset_index(drop=True)
    load_s = time.perf_counter() - t

    t = time.perf_counter()
    enc = momepy.enclosures(barriers, limit=admin.geometry, clip=True)
    enc_s = time.perf_counter() - t

    note = ""
    t = time.perf_counter()
    try:
        tess = momepy.enclosed_tessellation(buildings, enc, n_jobs=jobs)
    except Exception as e:  # noqa: BLE001 - momepy's own failure, reported
        # On the squares of the tiled set, shapely.coverage_simplify (the
        # last step, simplify=True) fails on some cell ("One of the Geometry
        # inputs is of incorrect geometry type"). The same call without that
        # step is timed instead: less work for momepy, so the ratio is, if
        # anything, in momepy's favour.
        note = f"simplify=True failed ({type(e).__name__}: {e}); timed with simplify=False"
        t = time.perf_counter()
        tess = momepy.enclosed_tessellation(buildings, enc, n_jobs=jobs, simplify=False)
    tess_s = time.perf_counter() - t
    os.makedirs(run_dir, exist_ok=True)
    return load_s, enc_s, tess_s, len(enc), len(tess), len(buildings), note


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default="li,100k")
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
    ap.add_argument("--scale-dir", default=os.path.join(target, "scale"))
    ap.add_argument("--dongne", default=os.path.join(target, "release", "dongne"))
    ap.add_argument("--gen", default=os.path.join(target, "release", "examples", "gen_scale"))
    ap.add_argument("--skip-momepy", action="store_true")
    ap.add_argument("--runs", type=int, default=7, help="dongne runs (the median is compared)")
    a = ap.parse_args()
    for p in (a.dongne, a.gen):
        if not os.path.exists(p):
            sys.exit(f"{p} missing: cargo build --release --bin dongne --example gen_scale")
    results = []
    for name in a.sets.split(","):
        d, bfile = ensure_set(name, a.scale_dir, a.gen)
        run_dir = os.path.join(a.scale_dir, "runs", f"momepy-{name}")
        ends, mems, dn_n, dn_b = run_dongne(a.dongne, d, bfile, a.jobs, run_dir, a.runs)
        dn_s, dn_mem = statistics.median(ends), statistics.median(mems)
        print(f"[{name}] dongne: {dn_s:.3f} s end to end ({min(ends):.3f}–{max(ends):.3f}), "
              f"{dn_mem:.3f} s the method in memory ({min(mems):.3f}–{max(mems):.3f}); median "
              f"of {a.runs} runs, {dn_b} buildings → {dn_n} neighborhoods ({a.jobs} threads)",
              flush=True)
        row = {"set": name, "jobs": a.jobs, "dongne_s": dn_s, "dongne_pipeline_s": dn_mem,
               "dongne_buildings": dn_b, "dongne_neighborhoods": dn_n,
               "dongne_runs_s": ends, "dongne_pipeline_runs_s": mems}
        if not a.skip_momepy:
            load_s, enc_s, tess_s, n_enc, n_cells, n_b, note = run_momepy(
                d, bfile, a.jobs, run_dir)
            mm = enc_s + tess_s
            if note:
                print(f"[{name}] momepy: {note}", flush=True)
            print(f"[{name}] momepy: enclosures {enc_s:.2f} s ({n_enc} enclosures), "
                  f"enclosed_tessellation {tess_s:.2f} s ({n_cells} cells of {n_b} footprints, "
                  f"n_jobs={a.jobs}); reading {load_s:.2f} s not counted", flush=True)
            print(f"[{name}] momepy / dongne = {mm:.1f} / {dn_s:.2f} = {mm / dn_s:.1f}x end to "
                  f"end; in memory both (reading and writing left out) {mm:.1f} / {dn_mem:.2f} = "
                  f"{mm / dn_mem:.1f}x; momepy enclosures alone / dongne = {enc_s / dn_s:.1f}x",
                  flush=True)
            row.update(momepy_load_s=load_s, momepy_enclosures_s=enc_s,
                       momepy_tessellation_s=tess_s, momepy_enclosures=n_enc,
                       momepy_cells=n_cells, momepy_note=note, ratio=mm / dn_s,
                       ratio_in_memory=mm / dn_mem)
        results.append(row)
    with open(os.path.join(a.scale_dir, "momepy_results.jsonl"), "a") as f:
        for r in results:
            f.write(json.dumps(dict(r, when=time.strftime("%Y-%m-%dT%H:%M:%S"))) + "\n")


if __name__ == "__main__":
    main()
