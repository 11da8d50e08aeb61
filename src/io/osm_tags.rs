//! OSM tags as GDAL's OSM driver gives them: as fields, or in `other_tags`
//! as an HSTORE string (`"tunnel"=>"yes","layer"=>"-1"`), parsed here; and
//! what the tags say of a feature (a tunnel, a building, water…). Used by the
//! layer reader ([`crate::io::read`]) and the OSM preset ([`crate::io::osm`]).

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::BTreeMap;

use gdal::vector::Feature;

use crate::model::NameTier;

/// `natural=*` values taken as mountains besides woods: land nobody lives on
/// and few walk across (alpine scrub and heath, rock, scree, ice). Scrub in a
/// city is mostly a vacant lot, and `min_mountain_area` drops the small ones.
/// Grassland, meadows and wetlands are left out: they are walked or farmed.
pub const MOUNTAIN_NATURAL: [&str; 7] = [
    "wood",
    "scrub",
    "heath",
    "bare_rock",
    "scree",
    "glacier",
    "fell",
];

/// `leisure=*` values taken as parks. `nature_reserve` is left out: it is a
/// legal protection boundary, not a land cover, and in the Liechtenstein
/// extract a 4.5 km² reserve holds farmland and farms; its woods and water
/// are mapped under their own tags anyway.
pub const PARK_LEISURE: [&str; 1] = ["park"];

/// Tags of an admin unit tried for its code, in order, when `admin_code` is
/// not given; the OSM id (`r123` for a relation, `w123` for a way) is the
/// last resort. Liechtenstein's municipalities carry `ISO3166-2` (`LI-01`…).
pub const ADMIN_CODE_TAGS: [&str; 2] = ["ref", "ISO3166-2"];

/// The key/value pairs of an `other_tags` HSTORE string, in order. GDAL
/// escapes `"` and `\` with a backslash; commas and `=>` inside quotes are
/// data. Parsing stops at the first malformed pair.
pub struct OtherTags<'a> {
    rest: &'a str,
}

impl<'a> OtherTags<'a> {
    pub fn new(s: &'a str) -> OtherTags<'a> {
        OtherTags { rest: s }
    }

    /// One quoted string at the start of `rest`; borrowed unless it holds
    /// escapes.
    fn quoted(&mut self) -> Option<Cow<'a, str>> {
        let s = self.rest.trim_start().strip_prefix('"')?;
        let mut owned: Option<String> = None;
        let mut chars = s.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.rest = &s[i + 1..];
                    return Some(match owned {
                        Some(o) => Cow::Owned(o),
                        None => Cow::Borrowed(&s[..i]),
                    });
                }
                '\\' => {
                    let o = owned.get_or_insert_with(|| s[..i].to_string());
                    let (_, escaped) = chars.next()?;
                    o.push(escaped);
                }
                _ => {
                    if let Some(o) = owned.as_mut() {
                        o.push(c);
                    }
                }
            }
        }
        None
    }
}

impl<'a> Iterator for OtherTags<'a> {
    type Item = (Cow<'a, str>, Cow<'a, str>);

    fn next(&mut self) -> Option<Self::Item> {
        let key = self.quoted()?;
        self.rest = self.rest.trim_start().strip_prefix("=>")?;
        let value = self.quoted()?;
        let after = self.rest.trim_start();
        self.rest = after.strip_prefix(',').unwrap_or(after);
        Some((key, value))
    }
}

/// All pairs of an `other_tags` string.
pub fn parse_other_tags(s: &str) -> Vec<(String, String)> {
    OtherTags::new(s)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The value of `key` in an `other_tags` string.
pub fn other_tag(s: &str, key: &str) -> Option<String> {
    OtherTags::new(s)
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// Reads OSM tags of features of one layer, whether the driver made the key
/// a field or left it in `other_tags`.
pub struct TagReader {
    fields: BTreeMap<String, usize>,
    other_tags: Option<usize>,
}

impl TagReader {
    pub fn new(field_names: &[String]) -> TagReader {
        let fields: BTreeMap<String, usize> = field_names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        let other_tags = fields.get("other_tags").copied();
        TagReader { fields, other_tags }
    }

    pub fn tags<'f>(&'f self, feature: &'f Feature<'f>) -> FeatureTags<'f> {
        FeatureTags {
            reader: self,
            feature,
            other: OnceCell::new(),
        }
    }
}

/// The tags of one feature; `other_tags` is fetched at most once.
pub struct FeatureTags<'f> {
    reader: &'f TagReader,
    feature: &'f Feature<'f>,
    other: OnceCell<Option<String>>,
}

impl FeatureTags<'_> {
    /// The tag's value; an empty value counts as absent, because the OSM
    /// driver leaves fields of absent tags unset and GDAL reads those as "".
    pub fn get(&self, key: &str) -> Option<String> {
        if let Some(&i) = self.reader.fields.get(key) {
            return self
                .feature
                .field_as_string(i)
                .ok()
                .flatten()
                .filter(|v| !v.is_empty());
        }
        let other = self.other.get_or_init(|| {
            self.reader
                .other_tags
                .and_then(|i| self.feature.field_as_string(i).ok().flatten())
        });
        other.as_deref().and_then(|s| other_tag(s, key))
    }

    pub(crate) fn is(&self, key: &str, value: &str) -> bool {
        self.get(key).is_some_and(|v| v == value)
    }

    pub(crate) fn is_any(&self, key: &str, values: &[&str]) -> bool {
        self.get(key).is_some_and(|v| values.contains(&v.as_str()))
    }
}

/// A way that passes under the ground it crosses: `tunnel=*` other than `no`
/// (culverts included) or `covered=yes`.
pub fn is_tunnel(t: &FeatureTags) -> bool {
    t.get("tunnel").is_some_and(|v| v != "no") || t.is("covered", "yes")
}

pub(crate) fn is_building(t: &FeatureTags) -> bool {
    t.get("building").is_some_and(|v| v != "no")
}

pub(crate) fn is_water_area(t: &FeatureTags) -> bool {
    (t.is("natural", "water")
        || t.is("waterway", "riverbank")
        || t.is_any("landuse", &["reservoir", "basin"]))
        && !t.is("covered", "yes")
}

pub(crate) fn is_mountain(t: &FeatureTags) -> bool {
    t.is("landuse", "forest") || t.is_any("natural", &MOUNTAIN_NATURAL)
}

pub(crate) fn is_park(t: &FeatureTags) -> bool {
    t.is_any("leisure", &PARK_LEISURE)
}

/// What an OSM feature's name names, as a name source (method step 8):
/// its tier in the cascade, its rank (Nominatim's address ranks) and the
/// tag that says so. `frame_level`: the `admin_level` of the units used as
/// the frame; only finer admin units name neighborhoods. `None`: no name,
/// or nothing a neighborhood is called after (a shop, a road).
pub(crate) fn name_source(
    t: &FeatureTags,
    frame_level: Option<u32>,
) -> Option<(NameTier, u8, String)> {
    t.get("name").filter(|n| !n.trim().is_empty())?;
    if let Some(place) = t.get("place") {
        let (tier, rank) = match place.as_str() {
            "city" => (NameTier::Town, 16),
            "town" | "municipality" | "borough" => (NameTier::Town, 18),
            "village" => (NameTier::Place, 19),
            "suburb" | "hamlet" => (NameTier::Place, 20),
            "quarter" | "neighbourhood" | "isolated_dwelling" | "farm" | "allotments" => {
                (NameTier::Place, 22)
            }
            "locality" | "city_block" | "plot" | "square" => (NameTier::Place, 25),
            _ => return None,
        };
        return Some((tier, rank, format!("place={place}")));
    }
    if t.is("boundary", "administrative") {
        let level = t.get("admin_level")?.trim().parse::<u32>().ok()?;
        return (level > frame_level.unwrap_or(8)).then(|| {
            (
                NameTier::Admin,
                (2 * level).min(30) as u8,
                format!("admin_level={level}"),
            )
        });
    }
    if t.is("landuse", "residential") {
        return Some((NameTier::Complex, 24, "landuse=residential".into()));
    }
    if is_building(t) {
        // One building or a complex of them: the naming stage decides, by
        // how many share the complex name.
        return Some((NameTier::Complex, 24, "building".into()));
    }
    if t.is_any("railway", &["station", "halt"])
        || t.is("public_transport", "station")
        || t.is("station", "subway")
    {
        return Some((NameTier::Station, 26, "station".into()));
    }
    // A named crossing (방이사거리): Koreans name places by the nearest
    // 사거리 as by the nearest 역.
    if t.is("junction", "yes") {
        return Some((NameTier::Station, 26, "junction".into()));
    }
    None
}

/// A name's Latin form: `name:en`, else `name:ko-Latn`.
pub(crate) fn latin_name(t: &FeatureTags) -> Option<String> {
    t.get("name:en")
        .or_else(|| t.get("name:ko-Latn"))
        .filter(|n| !n.trim().is_empty())
}

/// `r<id>` for a relation, `w<id>` for a closed way.
pub(crate) fn osm_ref(t: &FeatureTags, fid: i64) -> String {
    match (t.get("osm_id"), t.get("osm_way_id")) {
        (Some(id), _) => format!("r{id}"),
        (None, Some(id)) => format!("w{id}"),
        _ => fid.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_tags_with_quotes_commas_and_arrows() {
        let s = r#""tunnel"=>"yes","name"=>"A, \"B\" => C","path"=>"c:\\x","layer"=>"-1""#;
        assert_eq!(
            parse_other_tags(s),
            vec![
                ("tunnel".to_string(), "yes".to_string()),
                ("name".to_string(), r#"A, "B" => C"#.to_string()),
                ("path".to_string(), r"c:\x".to_string()),
                ("layer".to_string(), "-1".to_string()),
            ]
        );
        assert_eq!(other_tag(s, "layer").as_deref(), Some("-1"));
        assert_eq!(other_tag(s, "covered"), None);
        // A key that is a suffix of another is told apart.
        let s = r#""name:ko"=>"상도터널","name"=>"Sangdo""#;
        assert_eq!(other_tag(s, "name").as_deref(), Some("Sangdo"));
    }

    #[test]
    fn malformed_other_tags_stop_without_panic() {
        assert_eq!(parse_other_tags(""), vec![]);
        assert_eq!(
            parse_other_tags(r#""a"=>"1","b"=>"unterminated"#),
            vec![("a".to_string(), "1".to_string())]
        );
        // A trailing backslash escapes nothing.
        assert_eq!(parse_other_tags(r#""a"=>"x\"#), vec![]);
        assert_eq!(parse_other_tags(r#""a" "1""#), vec![]);
        assert_eq!(
            parse_other_tags(r#" "a" => "1" , "b"=>"2""#),
            vec![
                ("a".to_string(), "1".to_string()),
                ("b".to_string(), "2".to_string())
            ]
        );
    }
}
