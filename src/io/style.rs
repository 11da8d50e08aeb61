//! The default QGIS style a GeoPackage output carries, so the layer opens
//! in QGIS categorised and labelled instead of as one grey mass.
//!
//! QGIS (and GDAL, which keeps the table in step when layers are renamed
//! or deleted) reads a layer's default style from a `layer_styles` table
//! in the GeoPackage: one row per style, with the QML, an SLD for other
//! tools, and `useAsDefault`. The style written here:
//!
//! - a categorised renderer on `kind`: `neighborhood`, `water`, `park`,
//!   `mountain`, `open`, each with the colours of `dongne preview`;
//! - neighborhoods filled per feature through a data-defined colour: the
//!   same neighbour-distinct colouring as the preview
//!   ([`crate::io::palette::colour_classes`]), looked up by feature id (`$id`,
//!   the GeoPackage FID, 1 for the first feature written); past
//!   [`MAX_LISTED`] features, a hue from the feature id instead;
//! - labels: the name of each neighborhood and hamlet (its `nbhd_id` when
//!   it has none), with a white halo. The admin unit's name is left out:
//!   a second line under every neighborhood doubles the clutter, and the
//!   unit is one click away in the attribute table.
//!
//! Everything in the row is a function of the features, and `update_time`
//! is fixed, so the output stays byte-identical from run to run.

use gdal::vector::{
    Feature, FieldDefn, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType,
};
use gdal::Dataset;

use crate::io::palette::{colour_classes, hex, kind_colour, KINDS, PALETTE};
use crate::model::{FeatureKind, Neighborhood};

/// Name of the style row.
pub const STYLE_NAME: &str = "dongne";
/// Description of the style row.
pub const DESCRIPTION: &str = "dongne default: categorised by kind, neighbours in different colours, labelled with the name (else nbhd_id)";
/// Fixed `update_time`, as the writers fix every other date.
pub const UPDATE_TIME: &str = "2000-01-01T00:00:00Z";
/// Largest layer whose per-feature colour classes are listed in the style
/// (two characters a feature: 200 KB of QML at this size).
pub const MAX_LISTED: usize = 100_000;

/// The QGIS expression of the labels.
pub const LABEL_EXPRESSION: &str =
    r#"CASE WHEN "kind" IN ('neighborhood','hamlet') THEN coalesce("name", "nbhd_id") END"#;

/// Writes the `layer_styles` table with the default style of `layer`
/// (already written; `qml` its [`qml`]) into an open GeoPackage.
pub fn write_gpkg_style(ds: &mut Dataset, layer: &str, qml: &str) -> gdal::errors::Result<()> {
    let geom_column = ds
        .layer_by_name(layer)?
        .defn()
        .geom_fields()
        .next()
        .map(|g| g.name())
        .unwrap_or_else(|| "geom".to_string());
    let sld = sld(layer);
    let styles = ds.create_layer(LayerOptions {
        name: "layer_styles",
        srs: None,
        ty: OGRwkbGeometryType::wkbNone,
        options: Some(&["FID=id"]),
    })?;
    // The columns QGIS creates for the table, in its order.
    let text = |name: &str, width: i32| -> gdal::errors::Result<()> {
        let f = FieldDefn::new(name, OGRFieldType::OFTString)?;
        if width > 0 {
            f.set_width(width);
        }
        f.add_to_layer(&styles)
    };
    text("f_table_catalog", 256)?;
    text("f_table_schema", 256)?;
    text("f_table_name", 256)?;
    text("f_geometry_column", 256)?;
    text("styleName", 30)?;
    text("styleQML", 0)?;
    text("styleSLD", 0)?;
    FieldDefn::new("useAsDefault", OGRFieldType::OFTInteger)?.add_to_layer(&styles)?;
    text("description", 0)?;
    text("owner", 30)?;
    text("ui", 30)?;
    FieldDefn::new("update_time", OGRFieldType::OFTDateTime)?.add_to_layer(&styles)?;
    let mut f = Feature::new(styles.defn())?;
    f.set_field_string(0, "")?;
    f.set_field_string(1, "")?;
    f.set_field_string(2, layer)?;
    f.set_field_string(3, &geom_column)?;
    f.set_field_string(4, STYLE_NAME)?;
    f.set_field_string(5, qml)?;
    f.set_field_string(6, &sld)?;
    f.set_field_integer(7, 1)?;
    f.set_field_string(8, DESCRIPTION)?;
    f.set_field_string(9, "")?;
    f.set_field_null(10)?;
    f.set_field_string(11, UPDATE_TIME)?;
    f.create(&styles)?;
    Ok(())
}

fn rgb(c: (u8, u8, u8)) -> String {
    format!("{},{},{},255", c.0, c.1, c.2)
}

/// Text escaped for XML (QML here, SVG in the preview).
pub fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\n', "&#xa;")
}

/// The QGIS expression giving each neighborhood its fill colour.
pub fn fill_expression(features: &[Neighborhood]) -> String {
    if features.len() > MAX_LISTED {
        return "color_hsl(($id * 137) % 360, 60, 80)".to_string();
    }
    let geoms: Vec<_> = features.iter().map(|f| &f.geom).collect();
    let is_nb: Vec<bool> = features
        .iter()
        .map(|f| f.kind == FeatureKind::Neighborhood)
        .collect();
    let classes = colour_classes(&geoms, &is_nb);
    let palette: Vec<String> = PALETTE.iter().map(|c| format!("'{}'", hex(*c))).collect();
    let list: Vec<String> = classes.iter().map(|c| c.to_string()).collect();
    format!(
        "array_get(array({}), array_get(array({}), $id - 1))",
        palette.join(","),
        list.join(",")
    )
}

fn fill_symbol(name: usize, colour: (u8, u8, u8), expression: Option<&str>) -> String {
    let ddp = match expression {
        Some(e) => format!(
            r#"<data_defined_properties><Option type="Map"><Option type="QString" name="name" value=""/><Option type="Map" name="properties"><Option type="Map" name="fillColor"><Option type="bool" name="active" value="true"/><Option type="QString" name="expression" value="{}"/><Option type="int" name="type" value="3"/></Option></Option><Option type="QString" name="type" value="collection"/></Option></data_defined_properties>"#,
            xml(e)
        ),
        None => String::new(),
    };
    format!(
        r#"<symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0"><layer class="SimpleFill" enabled="1" locked="0" pass="0"><prop k="color" v="{}"/><prop k="joinstyle" v="round"/><prop k="offset" v="0,0"/><prop k="offset_unit" v="MM"/><prop k="outline_color" v="90,90,90,255"/><prop k="outline_style" v="solid"/><prop k="outline_width" v="0.26"/><prop k="outline_width_unit" v="MM"/><prop k="style" v="solid"/>{ddp}</layer></symbol>"#,
        rgb(colour)
    )
}

/// The QML document of the default style.
pub fn qml(features: &[Neighborhood]) -> String {
    let expr = fill_expression(features);
    let mut cats = String::new();
    let mut symbols = String::new();
    for (i, (value, label)) in KINDS.iter().enumerate() {
        cats.push_str(&format!(
            r#"<category render="true" symbol="{i}" value="{value}" label="{label}"/>"#
        ));
        let (colour, e) = if i == 0 {
            (PALETTE[0], Some(expr.as_str()))
        } else {
            (kind_colour(value), None)
        };
        symbols.push_str(&fill_symbol(i, colour, e));
    }
    let label = xml(LABEL_EXPRESSION);
    format!(
        r#"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.0" labelsEnabled="1" styleCategories="Symbology|Labeling">
<renderer-v2 type="categorizedSymbol" attr="kind" symbollevels="0" enableorderby="0" forceraster="0">
<categories>{cats}</categories>
<symbols>{symbols}</symbols>
<source-symbol>{source}</source-symbol>
<rotation/><sizescale/>
</renderer-v2>
<labeling type="simple">
<settings calloutType="simple">
<text-style fieldName="{label}" isExpression="1" fontFamily="Sans Serif" fontSize="8" fontSizeUnit="Point" textColor="30,30,30,255" textOpacity="1" fontWeight="50" fontItalic="0" namedStyle="Regular" multilineHeight="1" allowHtml="0">
<text-buffer bufferDraw="1" bufferSize="0.7" bufferSizeUnits="MM" bufferColor="255,255,255,255" bufferOpacity="0.8" bufferJoinStyle="128" bufferNoFill="1"/>
</text-style>
<text-format wrapChar="" multilineAlign="1" autoWrapLength="0" useMaxLineLengthForAutoWrap="1" plussign="0" reverseDirectionSymbol="0" leftDirectionSymbol="&lt;" rightDirectionSymbol="&gt;" formatNumbers="0" decimals="3" addDirectionSymbol="0" placeDirectionSymbol="0"/>
<placement placement="1" centroidInside="1" centroidWhole="0" fitInPolygonOnly="0" dist="0" distUnits="MM" offsetType="0" quadOffset="4" priority="5" overrunDistance="0" overrunDistanceUnit="MM"/>
<rendering obstacle="1" obstacleType="1" obstacleFactor="1" displayAll="0" limitNumLabels="0" maxNumLabels="2000" minFeatureSize="0" mergeLines="0" labelPerPart="0" upsidedownLabels="0" scaleVisibility="0" drawLabels="1" fontLimitPixelSize="0" zIndex="0"/>
</settings>
</labeling>
<layerGeometryType>2</layerGeometryType>
</qgis>
"#,
        source = fill_symbol(0, (200, 200, 200), None),
    )
}

/// A plain SLD (one rule per kind) for tools that read SLD, not QML.
pub fn sld(layer: &str) -> String {
    let mut rules = String::new();
    for (value, label) in KINDS {
        let c = if value == "neighborhood" {
            PALETTE[0]
        } else {
            kind_colour(value)
        };
        rules.push_str(&format!(
            r##"<se:Rule><se:Name>{value}</se:Name><se:Description><se:Title>{label}</se:Title></se:Description><ogc:Filter xmlns:ogc="http://www.opengis.net/ogc"><ogc:PropertyIsEqualTo><ogc:PropertyName>kind</ogc:PropertyName><ogc:Literal>{value}</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter><se:PolygonSymbolizer><se:Fill><se:SvgParameter name="fill">{}</se:SvgParameter></se:Fill><se:Stroke><se:SvgParameter name="stroke">#5a5a5a</se:SvgParameter><se:SvgParameter name="stroke-width">1</se:SvgParameter></se:Stroke></se:PolygonSymbolizer></se:Rule>"##,
            hex(c)
        ));
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<StyledLayerDescriptor xmlns="http://www.opengis.net/sld" xmlns:se="http://www.opengis.net/se" xmlns:ogc="http://www.opengis.net/ogc" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="1.1.0" xsi:schemaLocation="http://www.opengis.net/sld http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd"><NamedLayer><se:Name>{layer}</se:Name><UserStyle><se:Name>{layer}</se:Name><se:FeatureTypeStyle>{rules}</se:FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>
"#
    )
}
