//! Visiting the coordinates of a geometry in a fixed order, so that they can
//! be gathered into flat buffers, transformed in one call and written back.

use super::*;

/// Anything whose coordinates can be visited in a fixed order: the two visits
/// must agree, because coordinates are gathered into flat buffers, transformed
/// in one call and written back by position.
pub trait Coords {
    fn visit(&self, f: &mut impl FnMut(Coord<f64>));
    fn visit_mut(&mut self, f: &mut impl FnMut(&mut Coord<f64>));
}

impl Coords for Coord<f64> {
    fn visit(&self, f: &mut impl FnMut(Coord<f64>)) {
        f(*self)
    }
    fn visit_mut(&mut self, f: &mut impl FnMut(&mut Coord<f64>)) {
        f(self)
    }
}

impl Coords for Point<f64> {
    fn visit(&self, f: &mut impl FnMut(Coord<f64>)) {
        f(self.0)
    }
    fn visit_mut(&mut self, f: &mut impl FnMut(&mut Coord<f64>)) {
        f(&mut self.0)
    }
}

impl Coords for LineString<f64> {
    fn visit(&self, f: &mut impl FnMut(Coord<f64>)) {
        self.0.iter().for_each(|c| f(*c))
    }
    fn visit_mut(&mut self, f: &mut impl FnMut(&mut Coord<f64>)) {
        self.0.iter_mut().for_each(f)
    }
}

impl Coords for Polygon<f64> {
    fn visit(&self, f: &mut impl FnMut(Coord<f64>)) {
        self.exterior().visit(f);
        self.interiors().iter().for_each(|r| r.visit(f));
    }
    fn visit_mut(&mut self, f: &mut impl FnMut(&mut Coord<f64>)) {
        self.exterior_mut(|r| r.visit_mut(f));
        self.interiors_mut(|rs| rs.iter_mut().for_each(|r| r.visit_mut(f)));
    }
}

macro_rules! coords_of_collection {
    ($t:ty) => {
        impl Coords for $t {
            fn visit(&self, f: &mut impl FnMut(Coord<f64>)) {
                self.0.iter().for_each(|g| g.visit(f))
            }
            fn visit_mut(&mut self, f: &mut impl FnMut(&mut Coord<f64>)) {
                self.0.iter_mut().for_each(|g| g.visit_mut(f))
            }
        }
    };
}
coords_of_collection!(MultiPoint<f64>);
coords_of_collection!(MultiLineString<f64>);
coords_of_collection!(MultiPolygon<f64>);

impl Coords for Geometry<f64> {
    fn visit(&self, f: &mut impl FnMut(Coord<f64>)) {
        match self {
            Geometry::Point(g) => g.visit(f),
            Geometry::Line(l) => {
                f(l.start);
                f(l.end)
            }
            Geometry::LineString(g) => g.visit(f),
            Geometry::Polygon(g) => g.visit(f),
            Geometry::MultiPoint(g) => g.visit(f),
            Geometry::MultiLineString(g) => g.visit(f),
            Geometry::MultiPolygon(g) => g.visit(f),
            Geometry::GeometryCollection(gc) => gc.0.iter().for_each(|g| g.visit(f)),
            Geometry::Rect(r) => {
                f(r.min());
                f(r.max())
            }
            Geometry::Triangle(t) => t.to_array().iter().for_each(|c| f(*c)),
        }
    }
    fn visit_mut(&mut self, f: &mut impl FnMut(&mut Coord<f64>)) {
        match self {
            Geometry::Point(g) => g.visit_mut(f),
            Geometry::Line(l) => {
                f(&mut l.start);
                f(&mut l.end)
            }
            Geometry::LineString(g) => g.visit_mut(f),
            Geometry::Polygon(g) => g.visit_mut(f),
            Geometry::MultiPoint(g) => g.visit_mut(f),
            Geometry::MultiLineString(g) => g.visit_mut(f),
            Geometry::MultiPolygon(g) => g.visit_mut(f),
            Geometry::GeometryCollection(gc) => gc.0.iter_mut().for_each(|g| g.visit_mut(f)),
            // A rectangle stays a rectangle only under an affine map: make it a
            // polygon so that its corners are transformed honestly.
            Geometry::Rect(r) => {
                let mut p = r.to_polygon();
                p.visit_mut(f);
                *self = Geometry::Polygon(p);
            }
            Geometry::Triangle(t) => {
                let mut p = t.to_polygon();
                p.visit_mut(f);
                *self = Geometry::Polygon(p);
            }
        }
    }
}
