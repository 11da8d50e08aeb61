"""Run dongne's shards as Dask tasks and merge them.

    python examples/dask/dongne_dask.py --config country.toml --shards 16 \
        --scheduler tcp://scheduler:8786 --parts /shared/parts -o nbhd.gpkg \
        [--previous nbhd.gpkg --changes changes.json]

Without --scheduler, a LocalCluster (one worker process per core) runs the
shards on this machine. Each task runs `dongne generate --shard K/N` (the
`dongne` binary and the inputs must be reachable from every worker, e.g. on
a shared volume; --parts too). A task that fails is retried alone
(`retries`); the merge runs once every part is written, on the client.
The merged layer is byte-identical to one `dongne generate` of the same
inputs (docs/scale.md).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional, Sequence


def run_shard(dongne: str, config: str, k: int, n: int, parts: str, extra: Sequence[str] = ()) -> str:
    """One shard, as a Dask task: writes parts/part-K-of-N.dpart, returns its path."""
    out = os.path.join(parts, f"part-{k}-of-{n}.dpart")
    cmd = [dongne, "-q", "--log-format", "json", "generate", "--config", config,
           "--shard", f"{k}/{n}", "-o", out, *extra]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        # The message names the file, layer and feature at fault.
        raise RuntimeError(f"shard {k}/{n} failed (exit {r.returncode}): {r.stderr.strip()}")
    return out


def merge(dongne: str, part_files: Sequence[str], output: str, extra: Sequence[str] = ()) -> None:
    cmd = [dongne, "merge", *part_files, "-o", output, *extra]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"merge failed (exit {r.returncode}): {r.stderr.strip()}")
    sys.stderr.write(r.stderr)


def run(config: str, shards: int, parts: str, output: str, scheduler: Optional[str] = None,
        dongne: Optional[str] = None, retries: int = 2, generate_args: Sequence[str] = (),
        merge_args: Sequence[str] = ()) -> None:
    from dask.distributed import Client, LocalCluster

    dongne = dongne or shutil.which("dongne") or str(Path(__file__).resolve().parents[2] / "target/release/dongne")
    Path(parts).mkdir(parents=True, exist_ok=True)
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True)
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        futures = [
            client.submit(run_shard, dongne, config, k, shards, parts, list(generate_args),
                          key=f"dongne-shard-{k}-of-{shards}", retries=retries, pure=False)
            for k in range(1, shards + 1)
        ]
        part_files = client.gather(futures)
        merge(dongne, part_files, output, merge_args)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def main(argv: Optional[Sequence[str]] = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True)
    p.add_argument("--shards", type=int, required=True)
    p.add_argument("--parts", required=True, help="folder for the part files, reachable from every worker")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--scheduler", help="Dask scheduler address; default: a LocalCluster")
    p.add_argument("--dongne", help="path of the dongne binary on the workers")
    p.add_argument("--previous")
    p.add_argument("--changes")
    a = p.parse_args(argv)
    merge_args = []
    if a.previous:
        merge_args += ["--previous", a.previous]
    if a.changes:
        merge_args += ["--changes", a.changes]
    run(a.config, a.shards, a.parts, a.output, a.scheduler, a.dongne, merge_args=merge_args)


if __name__ == "__main__":
    main()
