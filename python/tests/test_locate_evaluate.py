"""dongne.locate and dongne.evaluate return DataFrames."""

import warnings

import geopandas as gpd
import pytest

import dongne


@pytest.fixture(scope="module")
def jamsil(repo):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return dongne.generate(config=repo / "examples" / "jamsil.toml")


def test_locate_agrees_with_a_spatial_join(jamsil):
    # Points well inside features, in lon/lat (another CRS than the layer's).
    pts = gpd.GeoDataFrame(
        {"name": [f"p{i}" for i in range(len(jamsil))]},
        geometry=jamsil.geometry.representative_point().values,
        crs=jamsil.crs,
        index=range(100, 100 + len(jamsil)),
    ).to_crs("EPSG:4326")
    far = gpd.GeoDataFrame({"name": ["far"]}, geometry=gpd.points_from_xy([0.0], [0.0]), crs="EPSG:4326", index=[999])
    found = dongne.locate(jamsil, gpd.pd.concat([pts, far]))
    assert list(found.columns) == ["nbhd_id", "kind", "admin_code", "admin_name", "status"]
    assert list(found.index) == list(range(100, 100 + len(jamsil))) + [999]
    inside = found.iloc[:-1]
    assert (inside.status == "inside").all()
    assert list(inside.nbhd_id) == list(jamsil.nbhd_id)
    assert list(inside.kind) == list(jamsil.kind)
    assert found.loc[999, "status"] == "outside"
    assert gpd.pd.isna(found.loc[999, "nbhd_id"])


def test_evaluate_compares_with_h3_and_admin_units(repo, jamsil, cli, tmp_path):
    cfg = repo / "examples" / "jamsil.toml"
    df = dongne.evaluate(jamsil, config=cfg)
    assert list(df.partition[:1]) == ["dongne"]
    assert df.partition.str.startswith("H3 r").any()
    assert "units_in_pieces" in df.columns and "footprints_cut" in df.columns
    # The same figures as the CLI's CSV on the same layer.
    jamsil.to_parquet(tmp_path / "n.parquet")
    cli("evaluate", tmp_path / "n.parquet", "--config", cfg, "--csv", tmp_path / "e.csv")
    cli_df = gpd.pd.read_csv(tmp_path / "e.csv")
    gpd.pd.testing.assert_frame_equal(df, cli_df)
