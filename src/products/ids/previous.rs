//! Yesterday's layer read back: its features, ids and CRS, from a file or a
//! PostGIS table.

use super::*;

/// One feature of the previous run, in the working CRS.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviousFeature {
    pub id: String,
    pub admin_code: String,
    /// `neighborhood`, `water`, `park`, `mountain`.
    pub kind: String,
    /// `None` when unnamed (barrier features), or when the layer has no
    /// `name` field.
    pub name: Option<String>,
    pub geom: MultiPolygon<f64>,
}

impl Coords for PreviousFeature {
    fn visit(&self, f: &mut impl FnMut(Coord<f64>)) {
        self.geom.visit(f)
    }
    fn visit_mut(&mut self, f: &mut impl FnMut(&mut Coord<f64>)) {
        self.geom.visit_mut(f)
    }
}

/// The previous run's output, as [`carry_over`] reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Previous {
    /// The file, as given (for the report).
    pub path: String,
    pub features: Vec<PreviousFeature>,
    /// Whether the layer has a `name` field: one written before features
    /// had names reports no renames.
    pub has_names: bool,
    /// Ids no longer current, `(nbhd_id, admin_code)`, that must never be
    /// given again (a history store knows them; a layer does not).
    pub retired: Vec<(String, String)>,
}

/// What [`inspect`] finds in a previous output, for `dongne check`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviousInfo {
    pub file: String,
    pub layer: String,
    pub driver: String,
    pub crs: String,
    pub features: usize,
}

impl Previous {
    /// Reads a file dongne wrote (any of its formats: the `neighborhoods`
    /// layer of a GeoPackage or FlatGeobuf, else the only layer) and brings it
    /// into the working CRS.
    ///
    /// `table` names the table when `path` is a PostGIS connection string.
    pub fn read(path: &Path, table: Option<&TableName>, crs: &WorkingCrs) -> Result<Previous> {
        let raw = read_raw(path, table)?;
        let mut feats: Vec<(i64, PreviousFeature)> = raw.features;
        let file = raw.source.file.clone();
        let t = Transformer::to_working(&raw.srs, crs)?.with_source(raw.source);
        t.transform_all(&mut feats, |(fid, _)| Some(*fid))?;
        Ok(Previous {
            path: file,
            features: feats.into_iter().map(|(_, f)| f).collect(),
            has_names: raw.has_names,
            retired: Vec::new(),
        })
    }

    /// Today's features as tomorrow's previous run (tests, and callers that
    /// keep the last run in memory).
    pub fn from_features(path: impl Into<String>, features: &[Neighborhood]) -> Previous {
        Previous {
            path: path.into(),
            features: features
                .iter()
                .filter(|f| f.level == 1)
                .map(|f| PreviousFeature {
                    id: f.id.clone(),
                    admin_code: f.admin_code.clone(),
                    kind: f.kind.as_str().to_string(),
                    name: f.name.as_ref().and_then(|n| non_empty(&n.name)),
                    geom: f.geom.clone(),
                })
                .collect(),
            has_names: true,
            retired: Vec::new(),
        }
    }
}

/// Opens a previous output and checks it as [`Previous::read`] would,
/// without a working CRS.
pub fn inspect(path: &Path, table: Option<&TableName>) -> Result<PreviousInfo> {
    let raw = read_raw(path, table)?;
    Ok(PreviousInfo {
        file: raw.source.file,
        layer: raw.source.layer,
        driver: raw.driver,
        crs: reproject::srs_label(&raw.srs),
        features: raw.features.len(),
    })
}

impl Coords for (i64, PreviousFeature) {
    fn visit(&self, f: &mut impl FnMut(Coord<f64>)) {
        self.1.visit(f)
    }
    fn visit_mut(&mut self, f: &mut impl FnMut(&mut Coord<f64>)) {
        self.1.visit_mut(f)
    }
}

pub(super) struct RawPrevious {
    source: Source,
    driver: String,
    srs: gdal::spatial_ref::SpatialRef,
    /// With their FIDs, in the layer's CRS.
    features: Vec<(i64, PreviousFeature)>,
    has_names: bool,
}

/// What every error about `--previous` suggests.
pub(super) const PREVIOUS_HINT: &str = "--previous takes a file written by dongne generate (yesterday's -o); leave --previous out on the first run";

/// Opens the previous output, only to fail early (before the inputs are
/// read) when it is missing or not a vector file.
pub fn check_openable(path: &Path, table: Option<&TableName>) -> Result<()> {
    open_previous(path, table).map(|_| ())
}

/// The previous output's dataset, and its name for messages. A PostGIS
/// connection is opened on the one table.
pub(super) fn open_previous(path: &Path, table: Option<&TableName>) -> Result<(Dataset, String)> {
    let text = path.to_string_lossy();
    if !postgis::is_connection(&text) {
        let ds = read::open_dataset(path).map_err(|e| e.hint(PREVIOUS_HINT))?;
        return Ok((ds, text.into_owned()));
    }
    let shown = postgis::display(&text);
    let Some(table) = table else {
        return Err(Error::input("a PostGIS --previous needs --table NAME")
            .file(shown)
            .hint("add --table NAME: yesterday's neighborhoods are read from that table"));
    };
    let ds = postgis::connect(&text, false, &[table])?;
    if ds.layer_count() == 0 {
        return Err(Error::input(format!("table {table} not found"))
            .file(shown)
            .hint(PREVIOUS_HINT));
    }
    Ok((ds, shown))
}

pub(super) fn read_raw(path: &Path, table: Option<&TableName>) -> Result<RawPrevious> {
    let hint = PREVIOUS_HINT;
    let (ds, file) = open_previous(path, table)?;
    let names = read::layer_names(&ds);
    let index = names
        .iter()
        .position(|n| n == LAYER_NAME)
        .or(if names.is_empty() { None } else { Some(0) })
        .ok_or_else(|| {
            Error::input("the file has no layers")
                .file(file.clone())
                .hint(hint)
        })?;
    let mut layer = ds
        .layer(index)
        .map_err(|e| Error::input(format!("cannot open layer {index}: {e}")).file(file.clone()))?;
    let source = Source {
        file: file.clone(),
        layer: names[index].clone(),
    };
    let err = |msg: String| {
        Error::input(msg)
            .file(source.file.clone())
            .layer(source.layer.clone())
    };
    let fields: Vec<String> = layer.defn().fields().map(|f| f.name()).collect();
    let mut idx = [0usize; 3];
    for (k, name) in ID_FIELDS.iter().enumerate() {
        idx[k] = layer.defn().field_index(name).map_err(|_| {
            err(format!(
                "field '{name}' not found, so this is not a dongne output; the layer has: {}",
                fields.join(", ")
            ))
            .hint(hint)
        })?;
    }
    let name_idx = layer.defn().field_index(NAME_FIELD).ok();
    // Ids are carried over at level 1, the neighborhoods as drawn; the
    // coarser levels take theirs from it. A layer without the field (written
    // before levels) is all level 1.
    let level_idx = layer.defn().field_index("level").ok();
    let srs = layer.spatial_ref().ok_or_else(|| {
        err("no CRS: the layer does not say which coordinate reference system it is in".into())
            .hint(hint)
    })?;
    let driver = ds.driver().short_name();
    gdal_errors::take_gdal_errors();
    let mut features = Vec::new();
    let mut seen: BTreeMap<String, i64> = BTreeMap::new();
    for (i, f) in layer.features().enumerate() {
        let fid = read::feature_id(&f, i);
        if let Some(l) = level_idx {
            if f.field_as_integer(l).ok().flatten().is_some_and(|v| v != 1) {
                continue;
            }
        }
        let text = |k: usize| f.field_as_string(idx[k]).ok().flatten().unwrap_or_default();
        let id = text(0);
        if id.is_empty() {
            return Err(err("nbhd_id is empty".into()).feature(fid).hint(hint));
        }
        if let Some(first) = seen.insert(id.clone(), fid) {
            return Err(err(format!(
                "nbhd_id '{id}' appears twice (features {first} and {fid}): ids cannot be carried over"
            ))
            .feature(fid)
            .hint("give --previous the file dongne wrote, not an edited or merged copy"));
        }
        let geom = match f.geometry().filter(|g| !g.is_empty()) {
            None => MultiPolygon(vec![]),
            Some(g) => match g.to_geo() {
                Ok(Geometry::Polygon(p)) => MultiPolygon(vec![p]),
                Ok(Geometry::MultiPolygon(mp)) => mp,
                Ok(_) => {
                    return Err(err(format!(
                        "geometry is a {}, expected a polygon",
                        read::geometry_type_name(g)
                    ))
                    .feature(fid)
                    .hint(hint))
                }
                Err(e) => {
                    return Err(err(format!("unreadable geometry: {e}"))
                        .feature(fid)
                        .hint(hint))
                }
            },
        };
        let mut finite = true;
        geom.visit(&mut |c| finite &= c.x.is_finite() && c.y.is_finite());
        if !finite {
            let e = reproject::non_finite_error().feature(fid);
            return Err(e.file(source.file.clone()).layer(source.layer.clone()));
        }
        features.push((
            fid,
            PreviousFeature {
                id,
                admin_code: text(1),
                kind: text(2),
                name: name_idx
                    .and_then(|k| f.field_as_string(k).ok().flatten())
                    .and_then(|n| non_empty(&n)),
                geom,
            },
        ));
    }
    gdal_errors::check_read_errors(&source)?;
    Ok(RawPrevious {
        source,
        driver,
        srs,
        features,
        has_names: name_idx.is_some(),
    })
}
