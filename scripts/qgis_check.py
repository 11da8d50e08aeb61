#!/usr/bin/env python3
"""Checks that a dongne GeoPackage opens in QGIS with its default style.

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 scripts/qgis_check.py out/jamsil.gpkg
    ... scripts/qgis_check.py out/jamsil.gpkg --render /tmp/jamsil_qgis.png

Runs QGIS headless (Debian: apt-get install qgis python3-qgis; the system
Python, not a virtualenv's, sees the `qgis` module). Opens the
`neighborhoods` layer as a user would, through the OGR provider, which
loads the default style from the `layer_styles` table, and asserts:

- the layer is valid and every feature is there;
- the renderer is the categorised one on `kind`, with the neighborhood,
  hamlet, water, park, mountain and open categories (io::palette::KINDS),
  and the neighborhood fill has its
  data-defined colour;
- labels are enabled, and each neighborhood and hamlet is labelled with
  its name, else its nbhd_id.

With --render, also draws the layer to a PNG through QGIS's own renderer,
to look at. Prints one line per check; exits non-zero on the first failure.
"""

import argparse
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProperty,
    QgsSymbolLayer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    # Straight out: QGIS's teardown from Python can crash (exit code 139).
    os._exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gpkg")
    ap.add_argument("--layer", default="neighborhoods")
    ap.add_argument("--render", metavar="PNG")
    args = ap.parse_args()

    QgsApplication.setPrefixPath(os.environ.get("QGIS_PREFIX_PATH", "/usr"), True)
    app = QgsApplication([], False)
    app.initQgis()
    layer = QgsVectorLayer(f"{args.gpkg}|layername={args.layer}", args.layer, "ogr")
    if not layer.isValid():
        fail(f"{args.gpkg}: layer '{args.layer}' does not open in QGIS")
    from qgis.core import Qgis

    print(f"ok: layer valid in QGIS {Qgis.QGIS_VERSION}: {layer.featureCount()} features")

    r = layer.renderer()
    if r is None or r.type() != "categorizedSymbol":
        fail(f"default style not loaded: renderer is {r.type() if r else None}")
    if r.classAttribute() != "kind":
        fail(f"categorised on {r.classAttribute()!r}, expected 'kind'")
    # Keep the list: a category's symbol dies with it.
    categories = r.categories()
    values = [c.value() for c in categories]
    if values != ["neighborhood", "hamlet", "water", "park", "mountain", "open"]:
        fail(f"categories {values}")
    sym = categories[0].symbol()
    prop = sym.symbolLayer(0).dataDefinedProperties().property(QgsSymbolLayer.PropertyFillColor)
    if not prop or not prop.isActive() or prop.propertyType() != QgsProperty.ExpressionBasedProperty:
        fail("the neighborhood fill has no data-defined colour")
    print(f"ok: renderer categorizedSymbol on kind, categories {values}, data-defined neighborhood fill")

    if not layer.labelsEnabled() or layer.labeling() is None:
        fail("labels are not enabled")
    settings = layer.labeling().settings()
    if not settings.isExpression or "nbhd_id" not in settings.fieldName:
        fail(f"label expression {settings.fieldName!r}")
    print(f"ok: labels enabled: {settings.fieldName}")

    # Every neighborhood gets one of the palette's colours.
    from qgis.core import QgsExpression, QgsExpressionContext, QgsExpressionContextUtils

    expr = QgsExpression(prop.expressionString())
    ctx = QgsExpressionContext()
    ctx.appendScopes(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
    coloured = 0
    for f in layer.getFeatures():
        if f["kind"] != "neighborhood":
            continue
        ctx.setFeature(f)
        v = expr.evaluate(ctx)
        if expr.hasEvalError() or not QColor(str(v)).isValid():
            fail(f"feature {f.id()}: fill colour {v!r} ({expr.evalErrorString()})")
        coloured += 1
    print(f"ok: {coloured} neighborhoods each get a palette colour")

    # Each neighborhood and hamlet is labelled with its name, else its id.
    label = QgsExpression(settings.fieldName)
    labelled = 0
    for f in layer.getFeatures():
        if f["kind"] not in ("neighborhood", "hamlet"):
            continue
        ctx.setFeature(f)
        text = label.evaluate(ctx)
        want = f["name"] or f["nbhd_id"]
        if label.hasEvalError() or str(text) != str(want):
            fail(f"feature {f.id()}: label {text!r}, expected {want!r} ({label.evalErrorString()})")
        labelled += 1
    print(f"ok: {labelled} neighborhoods and hamlets labelled with their name or id")

    if args.render:
        ms = QgsMapSettings()
        ms.setLayers([layer])
        ms.setDestinationCrs(layer.crs())
        ms.setExtent(layer.extent())
        ms.setOutputSize(QSize(900, 700))
        ms.setBackgroundColor(QColor(255, 255, 255))
        job = QgsMapRendererParallelJob(ms)
        job.start()
        job.waitForFinished()
        job.renderedImage().save(args.render, "PNG")
        print(f"ok: rendered to {args.render}")
    print("QGIS check passed", flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
