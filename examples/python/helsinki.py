"""Neighborhoods of central Helsinki from GeoDataFrames: a start for notebooks.

    bash .ci/python.sh                      # builds `import dongne` into target/py-venv
    target/py-venv/bin/python examples/python/helsinki.py

Loads the bundled OpenStreetMap sample (data/helsinki_center.osm.pbf) with
geopandas, as you would your own layers, draws the neighborhoods, writes
them as GeoParquet and plots them to out/helsinki.png.
"""

import pathlib
import warnings

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import dongne  # noqa: E402

repo = pathlib.Path(__file__).resolve().parents[2]
pbf = repo / "data" / "helsinki_center.osm.pbf"
out = repo / "out"
out.mkdir(exist_ok=True)

# Layers as a data scientist has them: GeoDataFrames, any CRS (here lon/lat).
# The extract was cut from a larger one: rings cut at its edge are dropped.
polygons = gpd.read_file(pbf, layer="multipolygons", on_invalid="ignore")
polygons = polygons[polygons.geometry.notna()]
lines = gpd.read_file(pbf, layer="lines")
buildings = polygons[polygons.building.notna()][["osm_id", "building", "geometry"]]
parks = polygons[polygons.leisure.isin(["park", "garden"])][["osm_id", "geometry"]]
roads = lines[lines.highway.isin(["motorway", "trunk", "primary", "secondary"])][["highway", "geometry"]]
rail = lines[lines.railway.isin(["rail", "light_rail"])][["railway", "geometry"]]
water = polygons[polygons.natural.eq("water")][["geometry"]]
print(f"{len(buildings)} buildings, {len(roads)} main roads, {len(rail)} rail lines, {len(parks)} parks")

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    nbhd = dongne.generate(
        buildings=buildings,
        roads={"data": roads, "class_field": "highway"},
        rail={"data": rail, "class_field": "railway"},
        parks=parks,
        water=water,
        crs="EPSG:3067",  # ETRS-TM35FIN; default: the UTM zone of the data
        eps=40,
        min_buildings=5,
    )
for w in caught:
    print("dongne warning:", w.message)

print(nbhd.groupby("kind").agg(features=("nbhd_id", "size"), area_km2=("area_m2", lambda a: a.sum() / 1e6)))
nbhd.to_parquet(out / "helsinki.parquet")

ax = nbhd[nbhd.kind == "neighborhood"].plot(column="nbhd_id", cmap="tab20", edgecolor="white", linewidth=0.8, figsize=(8, 10))
nbhd[nbhd.kind != "neighborhood"].plot(ax=ax, color="#9ecae1", edgecolor="white", linewidth=0.8)
buildings.to_crs(nbhd.crs).plot(ax=ax, color="black", markersize=1, linewidth=0)
ax.set_axis_off()
ax.set_title(f"dongne: {int((nbhd.kind == 'neighborhood').sum())} neighborhoods of central Helsinki")
plt.savefig(out / "helsinki.png", dpi=100, bbox_inches="tight")
print("wrote", out / "helsinki.parquet", "and", out / "helsinki.png")
