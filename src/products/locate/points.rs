//! Points to look up: one lon/lat, a CSV, or any GDAL point layer.

use super::*;

/// Points to look up, with the id each keeps in the output.
#[derive(Debug, Clone, Default)]
pub struct Points {
    /// From the CSV's `id` column, the layer's FID, or the row number.
    pub ids: Vec<String>,
    /// As given (lon/lat or the layer's coordinates).
    pub xs: Vec<f64>,
    pub ys: Vec<f64>,
    /// Names of the coordinate columns in the output: `lon`/`lat` for
    /// geographic input, `x`/`y` otherwise.
    pub axis_names: (String, String),
    /// The CRS of the points (WKT); `None`: WGS 84 lon/lat.
    pub crs_wkt: Option<String>,
}

pub(super) const LON_NAMES: [&str; 5] = ["lon", "lng", "long", "longitude", "x"];
pub(super) const LAT_NAMES: [&str; 3] = ["lat", "latitude", "y"];

/// What is wrong with a lon/lat pair in degrees, if anything.
pub fn lonlat_out_of_range(lon: f64, lat: f64) -> Option<String> {
    if !(-180.0..=180.0).contains(&lon) {
        Some(format!("longitude {lon} is outside -180..180"))
    } else if !(-90.0..=90.0).contains(&lat) {
        Some(format!("latitude {lat} is outside -90..90"))
    } else {
        None
    }
}

/// Reads points from a CSV file with a header: columns `lon`,`lat` (also
/// `lng`, `longitude`, `latitude`) or `x`,`y`, any case, and an optional `id`.
pub fn read_csv_points(path: &Path) -> Result<Points> {
    let file = path.display().to_string();
    if !path.exists() {
        return Err(Error::input("file not found")
            .file(file)
            .hint("check the path given to --points"));
    }
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| Error::input(format!("cannot read CSV: {e}")).file(file.clone()))?;
    let headers = rdr
        .headers()
        .map_err(|e| Error::input(format!("cannot read the CSV header: {e}")).file(file.clone()))?
        .clone();
    let find = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| headers.iter().position(|h| h.eq_ignore_ascii_case(n)))
    };
    let (Some(xi), Some(yi)) = (find(&LON_NAMES), find(&LAT_NAMES)) else {
        return Err(Error::input(format!(
            "no coordinate columns; the header has: {}",
            headers.iter().collect::<Vec<_>>().join(", ")
        ))
        .file(file)
        .hint("name the columns lon,lat (WGS 84) or x,y (with --points-crs)"));
    };
    let id_col = find(&["id"]);
    let axis = (headers[xi].to_lowercase(), headers[yi].to_lowercase());
    let mut pts = Points {
        axis_names: axis,
        ..Default::default()
    };
    for (row, rec) in rdr.records().enumerate() {
        // Row 1 is the header: data rows start at line 2.
        let line = row as i64 + 2;
        let rec = rec.map_err(|e| {
            Error::input(format!("invalid CSV: {e}"))
                .file(file.clone())
                .feature(line)
        })?;
        let num = |i: usize, what: &str| -> Result<f64> {
            let s = rec.get(i).unwrap_or("");
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    Error::input(format!("line {line}: {what} '{s}' is not a number"))
                        .file(file.clone())
                        .hint("every row needs finite numbers in the coordinate columns")
                })
        };
        let (x, y) = (num(xi, &headers[xi])?, num(yi, &headers[yi])?);
        // lon/lat columns hold degrees: 95° north is a typo, not a point
        // outside every neighborhood.
        if pts.axis_names.0 != "x" {
            if let Some(e) = lonlat_out_of_range(x, y) {
                return Err(Error::input(format!("line {line}: {e}"))
                    .file(file.clone())
                    .hint("lon/lat columns hold WGS 84 degrees; for projected x,y name the columns x,y and give --points-crs"));
            }
        }
        pts.xs.push(x);
        pts.ys.push(y);
        pts.ids.push(match id_col {
            Some(c) => rec.get(c).unwrap_or("").to_string(),
            None => (row + 1).to_string(),
        });
    }
    Ok(pts)
}

/// Reads points from any GDAL point layer; ids are the FIDs. The layer's CRS
/// is kept (lon/lat when it declares none).
pub fn read_layer_points(spec: &LayerConfig) -> Result<Points> {
    let mut opened = read::open_layer(spec)?;
    let crs_wkt = opened.crs_wkt()?;
    let geographic = opened.srs.as_ref().is_none_or(|s| s.is_geographic());
    let source = opened.source.clone();
    let mut pts = Points {
        axis_names: if geographic {
            ("lon".into(), "lat".into())
        } else {
            ("x".into(), "y".into())
        },
        crs_wkt,
        ..Default::default()
    };
    gdal_errors::take_gdal_errors();
    for (position, f) in opened.layer.features().enumerate() {
        let fid = read::feature_id(&f, position);
        let err = |msg: String| source.error(msg).feature(fid);
        let Some(g) = f.geometry() else {
            return Err(err("feature without geometry".into())
                .hint("every feature of --points needs a point"));
        };
        let name = read::geometry_type_name(g);
        if name != "Point" || g.point_count() == 0 {
            return Err(err(format!("geometry is a {name}, expected a point"))
                .hint("give a point layer, or a CSV with lon,lat columns"));
        }
        let (x, y, _) = g.get_point(0);
        if !(x.is_finite() && y.is_finite()) {
            return Err(err("non-finite coordinate (NaN or infinite)".into()));
        }
        pts.xs.push(x);
        pts.ys.push(y);
        pts.ids.push(fid.to_string());
    }
    gdal_errors::check_read_errors(&source)?;
    Ok(pts)
}

/// The points' coordinates in the layer's CRS (`points_srs`: the points'
/// CRS; `None` for WGS 84 lon/lat).
pub fn points_in(
    pts: &Points,
    points_srs: Option<&SpatialRef>,
    layer: &NeighborhoodLayer,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let (mut xs, mut ys) = (pts.xs.clone(), pts.ys.clone());
    let Some(to) = layer.spatial_ref()? else {
        // A layer without a CRS: the points are taken to be in its
        // coordinates, as GIS tools do.
        return Ok((xs, ys));
    };
    let from = match points_srs {
        Some(s) => s.clone(),
        None => reproject::lonlat_srs()?,
    };
    let tr = Transformer::new(&from, &to)?;
    tr.transform_xy(&mut xs, &mut ys, |i| i64::try_from(i + 1).ok())
        .map_err(|e| {
            let hint = "check that the points are lon/lat in degrees (or give --points-crs)";
            if e.hint.is_none() {
                e.hint(hint)
            } else {
                e
            }
        })?;
    Ok((xs, ys))
}
