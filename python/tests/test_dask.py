"""examples/dask: shards as tasks on a real Dask cluster (LocalCluster:
a scheduler and worker processes), merged, equal to the single run."""

import importlib.util
import os

import pytest
from dask.distributed import Client, LocalCluster


def load_example(repo):
    spec = importlib.util.spec_from_file_location("dongne_dask", repo / "examples" / "dask" / "dongne_dask.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_liechtenstein_on_a_local_cluster_equals_the_single_run(repo, shared, cli, dongne_bin, tmp_path):
    cfg = str(repo / "examples" / "liechtenstein.toml")
    cli("generate", "--config", cfg, "-o", tmp_path / "single.gpkg")
    mod = load_example(repo)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster:
        assert len(cluster.workers) == 2
        mod.run(cfg, 4, str(tmp_path / "parts"), str(tmp_path / "merged.gpkg"),
                scheduler=cluster.scheduler_address, dongne=str(dongne_bin))
    assert sorted(os.listdir(tmp_path / "parts")) == [f"part-{k}-of-4.dpart" for k in range(1, 5)]
    assert (tmp_path / "merged.gpkg").read_bytes() == (tmp_path / "single.gpkg").read_bytes()


def test_a_failing_shard_reruns_alone_then_fails_with_its_message(repo, dongne_bin, tmp_path):
    mod = load_example(repo)
    bad = tmp_path / "bad.toml"
    bad.write_text('admin = { path = "missing.geojson" }\nbuildings = { path = "missing.geojson" }\n')
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True) as cluster, Client(cluster) as client:
        f = client.submit(mod.run_shard, str(dongne_bin), str(bad), 1, 2, str(tmp_path), retries=1, pure=False)
        with pytest.raises(RuntimeError, match=r'shard 1/2 failed \(exit 2\): .*"message":"file not found","file":"[^"]*missing.geojson"'):
            f.result()
