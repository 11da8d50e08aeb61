"""dongne: hyperlocal neighborhood boundaries, from Python.

    import geopandas as gpd, dongne
    buildings = gpd.read_file("buildings.gpkg")
    admin = gpd.read_file("dong.shp")
    nbhd = dongne.generate(buildings=buildings, admin=admin,
                           admin_code="ADM_CD", admin_name="ADM_NM", eps=40)
    nbhd.plot(column="kind")

The method runs in Rust (the same code as the ``dongne`` command), with the
GIL released. Layers cross in memory as GeoParquet (WKB geometries, the CRS
as PROJJSON); nothing is written to disk. Parameters are named as the flags
of ``dongne generate`` (``eps``, ``min_buildings``, ``min_area``,
``walk_minutes``, ``fill_barriers``, ``open_distance``, ``fill_open``,
``culvert_length``, ``snap_distance``, …); see docs/parameters.md.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import warnings
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import geopandas as gpd
import pandas as pd

from . import _dongne
from ._dongne import DongneError, __version__

__all__ = ["generate", "locate", "evaluate", "graph", "weights", "DongneError", "__version__"]

Layer = Union[gpd.GeoDataFrame, str, os.PathLike, Mapping[str, Any]]

# Roles that take one layer, and roles that take one or several.
_SINGLE = ("buildings", "admin", "landuse")
_MULTI = ("roads", "water", "rail", "mountains", "parks")
_counter = itertools.count()


class _Layers:
    """GeoDataFrames put into /vsimem/ as GeoParquet; paths passed through."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.names: dict[str, str] = {}
        self.call = f"/vsimem/dongne-py/{os.getpid()}-{next(_counter)}"

    def spec(self, role: str, layer: Layer, n: int = 0) -> dict:
        if isinstance(layer, Mapping):
            # {"data": gdf_or_path, "class_field": …, "where": …}: the keys of
            # a layer table in the config file.
            options = dict(layer)
            if "data" not in options:
                raise TypeError(f"{role}: a layer given as a dict needs 'data' (a GeoDataFrame or a path)")
            spec = self.spec(role, options.pop("data"), n)
            spec.update(options)
            return spec
        if isinstance(layer, gpd.GeoDataFrame):
            if layer.crs is None:
                raise DongneError(
                    f"{role}: the GeoDataFrame has no CRS\n"
                    "  hint: set it first, e.g. gdf.set_crs('EPSG:4326')"
                )
            buf = io.BytesIO()
            # The index would become a column; the reader keeps what it needs.
            layer.to_parquet(buf, index=False)
            path = f"{self.call}/{role}{n if n else ''}.parquet"
            self.files[path] = buf.getvalue()
            self.names[path] = f"{role} GeoDataFrame" + (f" #{n + 1}" if n else "")
            return {"path": path}
        if isinstance(layer, (str, os.PathLike)):
            return {"path": os.fspath(layer)}
        raise TypeError(f"{role}: expected a GeoDataFrame or a path, got {type(layer).__name__}")

    def error(self, e: Exception) -> DongneError:
        """The error with in-memory file names replaced by the layer's role."""
        msg = str(e)
        for path, name in self.names.items():
            msg = msg.replace(path, name)
        return DongneError(msg)


def _settings(
    layers: _Layers, given: Mapping[str, Any], fields: Mapping[str, Any], params: Mapping[str, Any]
) -> dict:
    cfg: dict = {}
    for role in _SINGLE:
        if given.get(role) is not None:
            cfg[role] = layers.spec(role, given[role])
    for role in _MULTI:
        v = given.get(role)
        if v is None:
            continue
        many: Sequence[Layer] = v if isinstance(v, (list, tuple)) else [v]
        cfg[role] = [layers.spec(role, layer, i) for i, layer in enumerate(many)]
    for k, v in fields.items():
        if v is not None:
            cfg[k] = v
    if params:
        cfg["params"] = dict(params)
    return cfg


def _config(layers: _Layers, args: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    """The run's settings as JSON, from the layer and field arguments of
    generate or evaluate."""
    given = {role: args[role] for role in _SINGLE + _MULTI}
    fields = {k: args[k] for k in ("admin_code", "admin_name", "crs")}
    return json.dumps(_settings(layers, given, fields, params))


def _read(parquet: bytes) -> gpd.GeoDataFrame:
    gdf = gpd.read_parquet(io.BytesIO(parquet))
    # The CRS is GDAL's PROJJSON of an EPSG code; PROJ versions name some
    # datums differently (Korea 2000 / KGD2002), so pyproj would not match
    # it to its code. Set it by the code it carries, as the GeoPackage does.
    ident = gdf.crs.to_json_dict().get("id", {}) if gdf.crs is not None else {}
    if ident.get("authority") == "EPSG":
        gdf = gdf.set_crs(epsg=int(ident["code"]), allow_override=True)
    return gdf


def generate(
    buildings: Optional[Layer] = None,
    admin: Optional[Layer] = None,
    roads: Union[Layer, Iterable[Layer], None] = None,
    water: Union[Layer, Iterable[Layer], None] = None,
    rail: Union[Layer, Iterable[Layer], None] = None,
    mountains: Union[Layer, Iterable[Layer], None] = None,
    parks: Union[Layer, Iterable[Layer], None] = None,
    landuse: Optional[Layer] = None,
    admin_code: Optional[str] = None,
    admin_name: Optional[str] = None,
    crs: Optional[str] = None,
    config: Optional[Union[str, os.PathLike]] = None,
    levels: Optional[Sequence[float]] = None,
    hard_barriers: Optional[Sequence[str]] = None,
    neighbours: bool = False,
    **params: Any,
) -> Union[gpd.GeoDataFrame, tuple[gpd.GeoDataFrame, pd.DataFrame]]:
    """Draws the neighborhoods.

    Each layer is a GeoDataFrame, a path GDAL opens (``"file.gpkg"``), or a
    dict of ``data`` (either) and the keys of a layer in the config file
    (``layer``, ``where``, ``class_field``, ``width_field``,
    ``tunnel_field``); the barrier roles also a list of them. ``admin_code``/``admin_name`` name
    the admin units' fields; ``crs`` the working CRS (default: the UTM zone
    of the data). ``config`` is a dongne TOML file; layers and parameters
    given here override it. ``levels`` (walk minutes, e.g. ``[10, 20]``)
    adds coarser levels that nest exactly (``level``, ``parent_id``);
    ``hard_barriers`` what they never cross (default water, rail, motorway,
    trunk). Returns the features ``dongne generate`` writes (same fields, ids
    and CRS); with ``neighbours=True`` also the neighbour table as a
    DataFrame (``nbhd_id``, ``neighbour_id``, ``level``, ``shared_m``,
    ``separated_by``, ``hard_m``; see :func:`graph` and :func:`weights`).
    Warnings of the run are issued as Python warnings. Raises
    :class:`DongneError` on bad input.
    """
    layers = _Layers()
    settings = json.loads(_config(layers, locals(), params))
    if levels is not None:
        settings["levels"] = [float(m) for m in levels]
    if hard_barriers is not None:
        settings["hard_barriers"] = list(hard_barriers)
    try:
        data, run_warnings, table = _dongne.generate(
            json.dumps(settings),
            os.fspath(config) if config is not None else None,
            layers.files,
            neighbours,
        )
    except DongneError as e:
        raise layers.error(e) from None
    for w in run_warnings:
        warnings.warn(w, RuntimeWarning, stacklevel=2)
    gdf = _read(data)
    if neighbours:
        return gdf, pd.read_csv(io.StringIO(table), dtype={"nbhd_id": str, "neighbour_id": str})
    return gdf


def _level_rows(table: pd.DataFrame, level: int, across_hard: bool) -> pd.DataFrame:
    rows = table[table["level"] == level]
    if not across_hard:
        rows = rows[rows["hard_m"] == 0]
    return rows


def graph(table: pd.DataFrame, level: int = 1, across_hard: bool = True):
    """The neighbour table of one level as a ``networkx.Graph``: a node per
    neighborhood with a neighbour, an edge per pair with ``shared_m``,
    ``separated_by`` and ``hard_m``. ``across_hard=False`` leaves out the
    borders along hard barriers (the graph ``dongne range`` walks)."""
    try:
        import networkx as nx
    except ImportError:
        raise ImportError("dongne.graph needs networkx: pip install networkx") from None
    g = nx.Graph()
    for r in _level_rows(table, level, across_hard).itertuples(index=False):
        g.add_edge(
            r.nbhd_id, r.neighbour_id,
            shared_m=r.shared_m, separated_by=r.separated_by, hard_m=r.hard_m,
        )
    return g


def weights(table: pd.DataFrame, level: int = 1, across_hard: bool = True, ids=None):
    """The neighbour table of one level as PySAL spatial weights
    (``libpysal.weights.W``), weighted by the shared border in metres.
    ``ids`` (e.g. the ``nbhd_id`` column of that level) lists every
    neighborhood, those without a neighbour too (islands)."""
    try:
        from libpysal.weights import W
    except ImportError:
        raise ImportError("dongne.weights needs libpysal: pip install libpysal") from None
    rows = _level_rows(table, level, across_hard)
    neighbours: dict = {i: [] for i in (ids if ids is not None else [])}
    w: dict = {i: [] for i in neighbours}
    for r in rows.itertuples(index=False):
        neighbours.setdefault(r.nbhd_id, []).append(r.neighbour_id)
        w.setdefault(r.nbhd_id, []).append(float(r.shared_m))
    with warnings.catch_warnings():
        # Islands are expected: a hamlet among forests has no neighbour.
        warnings.simplefilter("ignore")
        return W(neighbours, w, silence_warnings=True)


def locate(neighborhoods: Layer, points: Layer) -> pd.DataFrame:
    """The neighborhood of each point, in the points' order.

    ``points`` is a GeoDataFrame of points (any CRS). Returns a DataFrame with
    the points' index and ``nbhd_id``, ``kind``, ``admin_code``,
    ``admin_name`` and ``status`` (``inside``, ``edge`` or ``outside``).
    """
    layers = _Layers()
    n = layers.spec("neighborhoods", neighborhoods)["path"]
    index = points.index if isinstance(points, gpd.GeoDataFrame) else None
    p = layers.spec("points", points)["path"]
    try:
        cols = _dongne.locate_points(n, p, layers.files)
    except DongneError as e:
        raise layers.error(e) from None
    order = ["nbhd_id", "kind", "admin_code", "admin_name", "status"]
    return pd.DataFrame({k: cols.get(k, []) for k in order}, index=index)


def evaluate(
    neighborhoods: Layer,
    buildings: Optional[Layer] = None,
    admin: Optional[Layer] = None,
    roads: Union[Layer, Iterable[Layer], None] = None,
    water: Union[Layer, Iterable[Layer], None] = None,
    rail: Union[Layer, Iterable[Layer], None] = None,
    mountains: Union[Layer, Iterable[Layer], None] = None,
    parks: Union[Layer, Iterable[Layer], None] = None,
    landuse: Optional[Layer] = None,
    admin_code: Optional[str] = None,
    admin_name: Optional[str] = None,
    crs: Optional[str] = None,
    config: Optional[Union[str, os.PathLike]] = None,
    **params: Any,
) -> pd.DataFrame:
    """Measures a neighborhood layer against H3 cells and the admin units,
    on the same inputs as :func:`generate`: one row per partition, the
    columns of ``dongne evaluate --csv``."""
    layers = _Layers()
    n = layers.spec("neighborhoods", neighborhoods)["path"]
    cfg = _config(layers, locals(), params)
    try:
        text = _dongne.evaluate_layer(
            n, cfg, os.fspath(config) if config is not None else None, layers.files
        )
    except DongneError as e:
        raise layers.error(e) from None
    return pd.read_csv(io.StringIO(text))
