"""GeoParquet: `-o out.parquet` read back by geopandas and DuckDB's spatial
extension; GeoParquet written by geopandas and DuckDB read as input."""

import json
import pathlib

import duckdb
import numpy as np
import shapely
import geopandas as gpd
import pyarrow.parquet as pq
import pytest


def spatial_duckdb() -> duckdb.DuckDBPyConnection:
    """DuckDB with its spatial extension, from the PyPI package that carries
    it (the machine reaches PyPI, not extensions.duckdb.org)."""
    import duckdb_extension_spatial

    ext = next(pathlib.Path(duckdb_extension_spatial.__file__).parent.glob("extensions/*/spatial.duckdb_extension"))
    con = duckdb.connect()
    con.sql(f"LOAD '{ext}'")
    return con


@pytest.fixture(scope="module")
def jamsil_outputs(repo, cli, tmp_path_factory):
    d = tmp_path_factory.mktemp("jamsil")
    cfg = repo / "examples" / "jamsil.toml"
    cli("generate", "--config", cfg, "-o", d / "n.parquet")
    cli("generate", "--config", cfg, "-o", d / "n.gpkg")
    return d


def test_geoparquet_metadata(jamsil_outputs):
    meta = pq.read_metadata(jamsil_outputs / "n.parquet")
    geo = json.loads(meta.metadata[b"geo"])
    assert geo["version"] == "1.1.0"
    assert geo["primary_column"] == "geometry"
    col = geo["columns"]["geometry"]
    assert col["encoding"] == "WKB"
    assert col["geometry_types"] == ["MultiPolygon"]
    assert col["crs"]["id"] == {"authority": "EPSG", "code": 5179}
    assert col["covering"]["bbox"]["xmin"] == ["bbox", "xmin"]
    assert len(col["bbox"]) == 4
    names = pq.read_schema(jamsil_outputs / "n.parquet").names
    assert names == ["nbhd_id", "kind", "admin_code", "admin_name", "name", "name_en", "name_source",
                     "area_m2", "perimeter_m", "buildings", "compactness", "bounded_by", "level", "parent_id", "geometry",
                     "bbox"]


def test_geopandas_reads_what_the_gpkg_holds(jamsil_outputs):
    pq_gdf = gpd.read_parquet(jamsil_outputs / "n.parquet")
    gpkg = gpd.read_file(jamsil_outputs / "n.gpkg", layer="neighborhoods")
    assert list(pq_gdf.nbhd_id) == list(gpkg.nbhd_id)
    assert list(pq_gdf.area_m2) == list(gpkg.area_m2)
    # Names: the same in both, on every neighborhood, none twice in a unit
    # (invariant 12); barrier features have none.
    assert list(pq_gdf.name.fillna("")) == list(gpkg.name.fillna(""))
    nb = pq_gdf[pq_gdf.kind == "neighborhood"]
    assert nb.name.notna().all() and (nb.name.str.len() > 0).all()
    assert not nb.duplicated(["admin_code", "name"]).any()
    assert pq_gdf[pq_gdf.kind != "neighborhood"].name.isna().all()
    # Valid as GEOS judges it (invariant 1), through shapely.
    assert shapely.is_valid(np.asarray(gpkg.geometry.array)).all()
    assert shapely.equals_exact(np.asarray(pq_gdf.geometry.array), np.asarray(gpkg.geometry.array), 0).all()
    # The same CRS: the PROJJSON carries EPSG:5179, the GeoPackage's code.
    assert pq_gdf.crs.to_json_dict()["id"] == {"authority": "EPSG", "code": 5179}
    assert gpkg.crs.to_epsg() == 5179
    # The bbox column matches each geometry's bounds.
    raw = pq.read_table(jamsil_outputs / "n.parquet").to_pandas()
    b = pq_gdf.geometry.bounds
    assert (raw["bbox"].map(lambda r: r["xmin"]) == b.minx).all()
    assert (raw["bbox"].map(lambda r: r["ymax"]) == b.maxy).all()


def test_duckdb_spatial_reads_it(jamsil_outputs):
    con = spatial_duckdb()
    f = jamsil_outputs / "n.parquet"
    rows = con.sql(
        f"SELECT nbhd_id, ST_GeometryType(geometry)::VARCHAR, abs(ST_Area(geometry) - area_m2) < 0.01 "
        f"FROM read_parquet('{f}') ORDER BY nbhd_id"
    ).fetchall()
    gpkg = gpd.read_file(jamsil_outputs / "n.gpkg", layer="neighborhoods")
    assert [r[0] for r in rows] == sorted(gpkg.nbhd_id)
    assert all(r[1] == "MULTIPOLYGON" and r[2] for r in rows)
    # The bbox covering column filters without touching the geometries.
    xmid = float(gpkg.total_bounds[[0, 2]].mean())
    n = con.sql(f"SELECT count(*) FROM read_parquet('{f}') WHERE bbox.xmin > {xmid}").fetchone()[0]
    assert n == int((gpkg.geometry.bounds.minx > xmid).sum()) > 0


def test_geoparquet_inputs_give_the_same_output(repo, shared, cli, tmp_path):
    """Admin units as GeoParquet from geopandas, and the river as GeoParquet
    from DuckDB, give the bytes the GeoJSON files give."""
    cfg = repo / "examples" / "jamsil.toml"
    admin = shared / "seoul" / "seoul_jamsil_hangjeongdong.geojson"
    water = shared / "seoul" / "seoul_jamsil_hangang.geojson"
    gpd.read_file(admin).to_parquet(tmp_path / "admin.parquet")
    con = spatial_duckdb()
    con.sql(f"COPY (SELECT * FROM ST_Read('{water}')) TO '{tmp_path / 'water.parquet'}' (FORMAT parquet)")
    assert b"geo" in pq.read_metadata(tmp_path / "water.parquet").metadata
    cli("generate", "--config", cfg, "--admin", admin, "--water", water, "-o", tmp_path / "files.geojson")
    cli("generate", "--config", cfg, "--admin", tmp_path / "admin.parquet", "--water", tmp_path / "water.parquet",
        "-o", tmp_path / "parquet.geojson")
    a = (tmp_path / "files.geojson").read_bytes()
    b = (tmp_path / "parquet.geojson").read_bytes()
    assert len(a) > 10_000 and a == b


def test_a_file_that_is_not_geoparquet_is_named(repo, cli, dongne_bin, tmp_path):
    import subprocess

    import pyarrow as pa

    pq.write_table(pa.table({"a": [1, 2]}), tmp_path / "plain.parquet")
    r = subprocess.run([str(dongne_bin), "generate", "--config", str(repo / "examples" / "jamsil.toml"),
                        "--admin", str(tmp_path / "plain.parquet"), "-o", str(tmp_path / "x.gpkg")],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert f"error: {tmp_path / 'plain.parquet'}: not a GeoParquet file: it has no 'geo' metadata\n" in r.stderr
    assert not (tmp_path / "x.gpkg").exists()
