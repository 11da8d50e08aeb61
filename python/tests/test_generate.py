"""dongne.generate against the CLI on the same inputs: same features,
fields, ids and CRS; GeoDataFrames in memory; errors as DongneError."""

import warnings

import geopandas as gpd
import pandas as pd
import pytest

import dongne


def assert_same_layer(py: gpd.GeoDataFrame, gpkg) -> None:
    """The Python result equals the CLI's GeoPackage: fields, values, ids,
    geometries (exactly) and CRS."""
    cli = gpd.read_file(gpkg, layer="neighborhoods")
    assert list(py.columns) == list(cli.columns)
    assert len(py) == len(cli) > 0
    # A column with no value at all (parent_id without levels) has no type
    # to read from a GeoPackage: pandas makes it object, Parquet keeps text.
    for c in cli.columns:
        if c != "geometry" and cli[c].isna().all() and py[c].isna().all():
            cli[c] = cli[c].astype(py[c].dtype)
    pd.testing.assert_frame_equal(
        pd.DataFrame(py.drop(columns="geometry")), pd.DataFrame(cli.drop(columns="geometry"))
    )
    assert py.geometry.geom_equals_exact(cli.geometry, 0).all()
    assert py.crs == cli.crs
    assert py.nbhd_id.is_unique


@pytest.mark.parametrize("example", ["jamsil", "liechtenstein"])
def test_config_run_equals_the_cli(repo, shared, cli, tmp_path, example):
    cfg = repo / "examples" / f"{example}.toml"
    cli("generate", "--config", cfg, "-o", tmp_path / "cli.gpkg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        py = dongne.generate(config=cfg)
    assert_same_layer(py, tmp_path / "cli.gpkg")


def test_geodataframes_equal_the_files(repo, shared, cli, tmp_path):
    """Admin units and river handed over as GeoDataFrames (in memory) give
    what the CLI draws from the files they were read from."""
    cfg = repo / "examples" / "jamsil.toml"
    admin_file = shared / "seoul" / "seoul_jamsil_hangjeongdong.geojson"
    water_file = shared / "seoul" / "seoul_jamsil_hangang.geojson"
    cli("generate", "--config", cfg, "--admin", admin_file, "--water", water_file, "-o", tmp_path / "cli.gpkg")
    admin = gpd.read_file(admin_file)
    water = gpd.read_file(water_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        py = dongne.generate(config=cfg, admin=admin, water=[water])
    assert_same_layer(py, tmp_path / "cli.gpkg")
    assert py.crs.to_epsg() == 5179
    assert set(py.kind) == {"neighborhood", "open", "water"}


def test_parameters_are_named_as_the_flags(repo, cli, tmp_path):
    cfg = repo / "examples" / "sample.toml"
    cli("generate", "--config", cfg, "--eps", "25", "--min-buildings", "8", "-o", tmp_path / "cli.gpkg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        py = dongne.generate(config=cfg, eps=25, min_buildings=8)
    assert_same_layer(py, tmp_path / "cli.gpkg")


def test_bad_input_raises_the_cli_message(shared):
    admin = gpd.read_file(shared / "seoul" / "seoul_jamsil_hangjeongdong.geojson")
    buildings = gpd.GeoDataFrame(geometry=admin.representative_point(), crs=admin.crs)
    with pytest.raises(dongne.DongneError) as e:
        dongne.generate(buildings=buildings, admin=admin, admin_code="ADM_CODE")
    msg = str(e.value)
    assert msg == (
        "admin GeoDataFrame (layer 'admin'): field 'ADM_CODE' (admin code) not found; "
        "the layer has: OBJECTID, adm_nm, adm_cd, adm_cd2, sgg, sido, sidonm, sggnm\n"
        "  hint: field names are those listed; check the spelling in the config or flags"
    )

    with pytest.raises(dongne.DongneError, match="buildings: the GeoDataFrame has no CRS"):
        dongne.generate(buildings=gpd.GeoDataFrame(geometry=list(buildings.geometry)), admin=admin)

    with pytest.raises(dongne.DongneError, match="unknown field `epss`"):
        dongne.generate(buildings=buildings, admin=admin, admin_code="adm_cd2", epss=3)

    with pytest.raises(dongne.DongneError, match="eps"):
        dongne.generate(buildings=buildings, admin=admin, admin_code="adm_cd2", eps=-1)


def test_warnings_of_the_run_are_python_warnings(repo, shared):
    # Three of Jamsil's 16 units: most buildings lie outside them.
    admin = gpd.read_file(shared / "seoul" / "seoul_jamsil_hangjeongdong.geojson").iloc[:3]
    with pytest.warns(RuntimeWarning, match=r"^\d+ of 1357 buildings lie outside every admin unit"):
        out = dongne.generate(config=repo / "examples" / "jamsil.toml", admin=admin)
    assert set(out.admin_code) == set(admin.adm_cd2)
