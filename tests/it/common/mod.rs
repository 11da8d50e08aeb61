//! Helpers shared by the test modules.

use std::path::PathBuf;

/// The repository (the crate's manifest folder).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared real-data folder: `$DONGNE_SHARED_DATA`, by default
/// `../shared/data` beside the repository. Panics when it is not there: a
/// test that needs it must fail, not pass without running.
pub fn shared() -> PathBuf {
    let p = std::env::var_os("DONGNE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/data"));
    assert!(
        p.is_dir(),
        "real data not found at {} (set DONGNE_SHARED_DATA)",
        p.display()
    );
    p
}

/// A file of the shared data set; panics, naming it, when it is missing.
pub fn shared_file(rel: &str) -> PathBuf {
    let p = shared().join(rel);
    assert!(
        p.exists(),
        "{} not found (set DONGNE_SHARED_DATA to the shared data folder)",
        p.display()
    );
    p
}
