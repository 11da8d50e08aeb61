//! The geometry kernel: shapes as plain rings, point in polygon, the
//! fixed-grid overlay and coverage operations (node, dissolve, adjacency).
//! Depends on nothing of dongne's but [`crate::error`].

pub mod coverage;
pub mod overlay;
