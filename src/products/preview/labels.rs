//! Where the names go on the map: the admin units' names, then the
//! neighborhoods' and hamlets', each at a point inside its polygon and
//! dropped where it would cover a name already placed. A map of 500
//! neighborhoods at 1200 pixels cannot print every name legibly; the
//! larger features keep theirs.
//!
//! Text widths are estimated from the characters, not measured with the
//! font, so the SVG is the same on a machine without NanumGothic.

use geo::{Area, Contains, InteriorPoint, Point};
use rstar::primitives::Rectangle;
use rstar::{Envelope, RTree, AABB};

use super::*;

/// Font sizes in pixels: the admin names are the larger, as the units hold
/// the neighborhoods.
pub(super) const ADMIN_PX: f64 = 13.0;
pub(super) const FEATURE_PX: f64 = 10.5;

/// Pixels kept clear around a name: its halo (stroke 3 px, half outside).
const CLEAR_PX: f64 = 2.0;

/// How far a feature's name moves off its point to clear an admin name
/// there: the two half-heights, both halos and a pixel.
const SHIFT_PX: f64 = 0.6 * (ADMIN_PX + FEATURE_PX) + 2.0 * CLEAR_PX + 1.0;

/// One name where it is drawn: the centre of its text and the text.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Label {
    pub x: f64,
    pub y: f64,
    pub text: String,
}

/// The width of `text` at `px`, from the advances of NanumGothic's glyphs
/// (Hangul and other wide characters about one em, Latin about 0.6 em),
/// rounded up so that an estimate errs toward fewer names.
fn text_width(text: &str, px: f64) -> f64 {
    let ems: f64 = text
        .chars()
        .map(|c| match c {
            ' ' => 0.3,
            c if (c as u32) >= 0x1100 => 0.95,
            _ => 0.6,
        })
        .sum();
    ems * px
}

/// The box `text` takes centred at (x, y), halo included.
fn text_box(x: f64, y: f64, text: &str, px: f64) -> AABB<[f64; 2]> {
    let (hw, hh) = (text_width(text, px) / 2.0 + CLEAR_PX, 0.6 * px + CLEAR_PX);
    AABB::from_corners([x - hw, y - hh], [x + hw, y + hh])
}

/// The names placed so far, and the map area they must stay in.
struct Taken {
    tree: RTree<Rectangle<[f64; 2]>>,
    map: AABB<[f64; 2]>,
}

impl Taken {
    /// Takes the box if it is inside the map and clear of every name placed.
    fn take(&mut self, b: AABB<[f64; 2]>) -> bool {
        let inside = self.map.contains_envelope(&b);
        if !inside
            || self
                .tree
                .locate_in_envelope_intersecting(&b)
                .next()
                .is_some()
        {
            return false;
        }
        self.tree.insert(Rectangle::from_aabb(b));
        true
    }
}

/// The admin names and the feature names that fit, in pixels.
pub(super) fn place(l: &Layout, scene: &Scene) -> (Vec<Label>, Vec<Label>) {
    let mut taken = Taken {
        tree: RTree::new(),
        map: AABB::from_corners(
            [MARGIN, TITLE_H + MARGIN],
            [MARGIN + l.map_w, TITLE_H + MARGIN + l.map_h],
        ),
    };
    let mut admin = Vec::new();
    for (c, text) in &scene.names {
        let (x, y) = l.px(*c);
        if taken.take(text_box(x, y, text, ADMIN_PX)) {
            admin.push(Label {
                x,
                y,
                text: text.clone(),
            });
        }
    }
    let named: Vec<(usize, &str)> = scene
        .feature_names
        .iter()
        .enumerate()
        .filter(|(i, n)| !n.is_empty() && i < &scene.features.len())
        .map(|(i, n)| (i, n.as_str()))
        .collect();
    let mut by_size: Vec<(usize, &str, f64)> = named
        .into_iter()
        .map(|(i, n)| (i, n, scene.features[i].0.unsigned_area()))
        .collect();
    by_size.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
    let mut features = Vec::new();
    for (i, text, _) in by_size {
        let g = &scene.features[i].0;
        let Some(anchor) = anchor(g) else {
            continue;
        };
        let (x, y) = l.px(anchor);
        // Beside its own point, a name may sit just below or above an
        // admin name (a unit of one neighborhood has the unit's name about
        // there), as long as it stays over the feature.
        let step = SHIFT_PX;
        for dy in [0.0, step, -step] {
            let over = Coord {
                x: anchor.x,
                y: anchor.y - dy / l.scale,
            };
            if dy != 0.0 && !g.contains(&Point(over)) {
                continue;
            }
            if taken.take(text_box(x, y + dy, text, FEATURE_PX)) {
                features.push(Label {
                    x,
                    y: y + dy,
                    text: text.to_string(),
                });
                break;
            }
        }
    }
    (admin, features)
}

/// A point inside the feature's largest part.
pub(super) fn anchor(g: &MultiPolygon<f64>) -> Option<Coord<f64>> {
    let largest =
        g.0.iter()
            .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))?;
    Some(largest.interior_point()?.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![
            (x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1)
        ]])
    }

    fn square(x: f64, side: f64) -> MultiPolygon<f64> {
        rect(x, 0.0, x + side, side)
    }

    #[test]
    fn a_name_moves_off_an_admin_name_and_stays_inside_the_map() {
        // Two 1 km squares side by side and a 100 m one at the far right,
        // on a map about 950 px wide: 2.1 km, ~0.45 px a metre.
        let scene = Scene {
            features: vec![
                (square(0.0, 1000.0), "neighborhood".into()),
                (square(1000.0, 1000.0), "neighborhood".into()),
                (square(2000.0, 100.0), "neighborhood".into()),
            ],
            feature_names: vec![
                "잠실동".into(),
                "".into(),
                "아주 긴 이름의 작은 동네".into(),
            ],
            names: vec![(Coord { x: 500.0, y: 500.0 }, "송파구".into())],
            ..Scene::default()
        };
        let l = Layout::new(&scene, 1200).unwrap();
        let (admin, features) = place(&l, &scene);
        assert_eq!(admin.len(), 1);
        // 잠실동's point is the admin name's: it moves a line down, inside
        // its square. The unnamed square gets nothing; the small one's long
        // name would cross the map's edge.
        assert_eq!(features.len(), 1, "{features:?}");
        assert_eq!(features[0].text, "잠실동");
        assert_eq!(features[0].x, admin[0].x);
        assert!((features[0].y - admin[0].y - SHIFT_PX).abs() < 1e-9);
    }

    #[test]
    fn of_two_names_that_would_overlap_the_larger_feature_keeps_its_own() {
        // ~0.46 px a metre: two 60 m tall strips side by side, too low for
        // a name to move a line up or down, names about 125 px wide.
        let long = "가나다라마바사아자차카타";
        let scene = Scene {
            features: vec![
                (rect(600.0, 0.0, 800.0, 60.0), "neighborhood".into()),
                (rect(800.0, 0.0, 1100.0, 60.0), "neighborhood".into()),
                (rect(0.0, 1000.0, 2000.0, 2000.0), "open".into()),
            ],
            feature_names: vec![long.into(), format!("{long}2")],
            ..Scene::default()
        };
        let l = Layout::new(&scene, 1200).unwrap();
        let (admin, features) = place(&l, &scene);
        assert!(admin.is_empty());
        let texts: Vec<&str> = features.iter().map(|f| f.text.as_str()).collect();
        assert_eq!(texts, [format!("{long}2")]);
        assert_eq!(
            (features[0].x, features[0].y),
            l.px(Coord { x: 950.0, y: 30.0 })
        );
    }

    #[test]
    fn hangul_is_wider_than_latin() {
        assert_eq!(text_width("ab", 10.0), 12.0);
        assert!((text_width("잠실", 10.0) - 19.0).abs() < 1e-9);
    }
}
