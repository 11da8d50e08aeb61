"""Levels and the neighbour table from Python: the same layer and table as
the CLI writes, and the table as a networkx graph and PySAL weights."""

import warnings

import geopandas as gpd
import pandas as pd

import dongne


def test_levels_and_neighbours_equal_the_cli(repo, cli, tmp_path):
    cfg = repo / "examples" / "jamsil.toml"
    cli("generate", "--config", cfg, "--levels", "10,20", "--neighbours", "-o", tmp_path / "cli.gpkg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        py, table = dongne.generate(config=cfg, levels=[10, 20], neighbours=True)
    layer = gpd.read_file(tmp_path / "cli.gpkg", layer="neighborhoods")
    pd.testing.assert_frame_equal(
        pd.DataFrame(py.drop(columns="geometry")), pd.DataFrame(layer.drop(columns="geometry"))
    )
    assert sorted(py.level.unique()) == [1, 2, 3]
    # Every parent exists one level up; the top level has none.
    ids = set(zip(py.nbhd_id, py.level))
    for r in py.itertuples():
        if r.level < 3:
            assert (r.parent_id, r.level + 1) in ids, r
        else:
            assert pd.isna(r.parent_id)
    cli_table = gpd.read_file(tmp_path / "cli.gpkg", layer="neighbours")
    assert list(table.columns) == ["nbhd_id", "neighbour_id", "level", "shared_m", "separated_by", "hard_m"]
    assert len(table) == len(cli_table) > 0
    assert list(table.nbhd_id) == list(cli_table.nbhd_id)
    assert list(table.shared_m) == list(cli_table.shared_m)


def test_the_table_as_a_graph_and_as_weights(repo):
    cfg = repo / "examples" / "liechtenstein.toml"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        nbhd, table = dongne.generate(config=cfg, neighbours=True)
    level1 = table[table.level == 1]
    g = dongne.graph(table)
    assert g.number_of_edges() == len(level1) // 2
    a, b = level1.iloc[0].nbhd_id, level1.iloc[0].neighbour_id
    assert g[a][b]["shared_m"] == level1.iloc[0].shared_m
    # Without the borders along water, rail and motorways, fewer edges.
    assert dongne.graph(table, across_hard=False).number_of_edges() < g.number_of_edges()
    settled = nbhd[nbhd.kind.isin(["neighborhood", "hamlet"])].nbhd_id
    w = dongne.weights(table, ids=list(settled))
    assert w.n == len(settled)
    assert w.neighbors[a].count(b) == 1
    assert w[a][b] == level1.iloc[0].shared_m
    # Hamlets among forests have no neighbour: islands, not errors.
    assert len(w.islands) > 0
