//! `dongne locate`: which neighborhood is this point in?
//!
//! ```text
//! dongne locate nbhd.gpkg --lon 127.0862 --lat 37.5133
//! dongne locate nbhd.gpkg --points customers.csv -o customers_nbhd.csv
//! dongne locate nbhd.gpkg:neighborhoods --points stores.gpkg:stores
//! dongne locate nbhd.gpkg --points sites.csv --points-crs EPSG:5179
//! ```
//!
//! Points are lon/lat (WGS 84) unless a point layer declares its CRS or
//! `--points-crs` says otherwise; they are reprojected into the CRS of the
//! neighborhood layer. A CSV needs a header with `lon`,`lat` (or `lng`,
//! `longitude`, `latitude`) or `x`,`y` columns, and may have an `id` column.
//!
//! Output: CSV (to stdout, or `-o FILE`) with one row per point, in input
//! order: `id`, the coordinates as given, `nbhd_id`, `kind`, `admin_code`,
//! `admin_name`, `status`. `status` is `inside`, `edge` (on a boundary: of
//! the features holding it, the smallest `nbhd_id` is given) or `outside`
//! (in no feature; the other columns are empty).

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use super::{LogArgs, NeighborhoodsArg};
use dongne::error::{Error, Result};
use dongne::io::config::LayerConfig;
use dongne::io::reproject;
use dongne::products::locate::{self, Index, NeighborhoodLayer, Points};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub neighborhoods: NeighborhoodsArg,
    /// Which level of the layer (`dongne generate --levels`): 1 is the neighborhoods as drawn.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub level: u32,
    /// Longitude of one point (WGS 84), with --lat.
    #[arg(
        long,
        requires = "lat",
        conflicts_with = "points",
        allow_negative_numbers = true
    )]
    pub lon: Option<f64>,
    /// Latitude of one point (WGS 84), with --lon.
    #[arg(long, requires = "lon", allow_negative_numbers = true)]
    pub lat: Option<f64>,
    /// Points: a CSV with lon,lat (or x,y) columns, or any GDAL point layer.
    #[arg(long, value_name = "FILE.csv | PATH[:LAYER]")]
    pub points: Option<LayerConfig>,
    /// CRS of the points when they are not lon/lat: a CSV's x,y columns, or a
    /// layer that declares no CRS.
    #[arg(long, value_name = "EPSG:NNNN")]
    pub points_crs: Option<String>,
    /// Write the CSV here instead of to stdout.
    #[arg(short, long, value_name = "FILE.csv")]
    pub output: Option<PathBuf>,
}

pub fn run(a: &Args, log: &LogArgs) -> Result<()> {
    let started = Instant::now();
    let layer = locate::read_neighborhoods(a.neighborhoods.layer()?)?.at_level(a.level)?;
    let pts = match (&a.points, a.lon, a.lat) {
        (Some(spec), _, _) => {
            let is_csv = spec.layer.is_none()
                && spec
                    .path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
            if is_csv {
                locate::read_csv_points(&spec.path)?
            } else {
                locate::read_layer_points(spec)?
            }
        }
        (None, Some(lon), Some(lat))
            if a.points_crs.is_none() && locate::lonlat_out_of_range(lon, lat).is_some() =>
        {
            let e = locate::lonlat_out_of_range(lon, lat).unwrap_or_default();
            return Err(Error::input(format!("--lon {lon} --lat {lat}: {e}"))
                .hint("--lon and --lat take WGS 84 degrees"));
        }
        (None, Some(lon), Some(lat)) => Points {
            ids: vec!["1".into()],
            xs: vec![lon],
            ys: vec![lat],
            axis_names: ("lon".into(), "lat".into()),
            crs_wkt: None,
        },
        _ => {
            return Err(
                Error::input("no points: give --lon and --lat, or --points FILE")
                    .hint("run `dongne locate --help` for the options"),
            )
        }
    };
    let points_srs = match (&a.points_crs, &pts.crs_wkt) {
        (Some(s), _) => Some(reproject::assumed_srs(s)?),
        (None, Some(wkt)) => Some(
            gdal::spatial_ref::SpatialRef::from_wkt(wkt)
                .map_err(|e| Error::internal(format!("cannot rebuild the points' CRS: {e}")))?,
        ),
        (None, None) => None,
    };
    let (xs, ys) = locate::points_in(&pts, points_srs.as_ref(), &layer)?;
    let index = Index::new(&layer.geoms);
    let t = Instant::now();
    let found: Vec<Option<locate::Found>> = xs
        .iter()
        .zip(&ys)
        .map(|(&x, &y)| index.locate(x, y))
        .collect();
    let lookup_s = t.elapsed().as_secs_f64();

    let mut out: Vec<u8> = Vec::new();
    write_csv(&mut out, &pts, &found, &layer)
        .map_err(|e| Error::internal(format!("cannot format the CSV: {e}")))?;
    super::emit(&out, a.output.as_deref())?;
    if !log.quiet {
        let outside = found.iter().filter(|f| f.is_none()).count();
        let edge = found.iter().flatten().filter(|f| f.on_edge).count();
        tracing::info!(
            "located {} points in {} features ({} outside, {} on an edge): lookup {:.3} s, {:.2} s in all",
            found.len(),
            layer.info.len(),
            outside,
            edge,
            lookup_s,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The output rows, in input order.
pub fn write_csv(
    w: impl Write,
    pts: &Points,
    found: &[Option<locate::Found>],
    layer: &NeighborhoodLayer,
) -> std::result::Result<(), csv::Error> {
    let mut c = csv::Writer::from_writer(w);
    c.write_record([
        "id",
        pts.axis_names.0.as_str(),
        pts.axis_names.1.as_str(),
        "nbhd_id",
        "kind",
        "admin_code",
        "admin_name",
        "status",
    ])?;
    let mut bx = ryu_like::Buf::default();
    let mut by = ryu_like::Buf::default();
    for (i, f) in found.iter().enumerate() {
        let (x, y) = (bx.fmt(pts.xs[i]), by.fmt(pts.ys[i]));
        match f {
            Some(f) => {
                let info = &layer.info[f.feature];
                c.write_record([
                    pts.ids[i].as_str(),
                    x,
                    y,
                    &info.nbhd_id,
                    &info.kind,
                    &info.admin_code,
                    &info.admin_name,
                    if f.on_edge { "edge" } else { "inside" },
                ])?;
            }
            None => c.write_record([pts.ids[i].as_str(), x, y, "", "", "", "", "outside"])?,
        }
    }
    c.flush()?;
    Ok(())
}

/// Shortest round-trip formatting of coordinates without an allocation per
/// value (`{}` of an f64 is already the shortest round-trip form).
mod ryu_like {
    use std::fmt::Write;

    #[derive(Default)]
    pub struct Buf(String);

    impl Buf {
        pub fn fmt(&mut self, v: f64) -> &str {
            self.0.clear();
            let _ = write!(self.0, "{v}");
            &self.0
        }
    }
}
