//! GDAL's error messages, captured per thread and shortened for people.
//! The bottom of [`crate::io`]: reading, writing and PostGIS all use it.

use std::cell::RefCell;
use std::sync::Once;

use gdal::errors::CplErrType;

use crate::error::Result;
use crate::model::Source;

thread_local! {
    /// GDAL failures raised on this thread since the last `take_gdal_errors`.
    static GDAL_ERRORS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Routes GDAL's messages to `tracing` instead of stderr, and keeps failures
/// per thread so that a read that fails half-way (a truncated file) is an
/// error, not silently fewer features. Idempotent.
pub fn capture_gdal_errors() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        gdal::config::set_error_handler(|class, num, msg| match class {
            CplErrType::Failure | CplErrType::Fatal => {
                tracing::debug!(target: "gdal", code = num, "{msg}");
                GDAL_ERRORS.with(|e| e.borrow_mut().push(msg.to_string()));
            }
            CplErrType::Warning => tracing::debug!(target: "gdal", code = num, "warning: {msg}"),
            _ => tracing::trace!(target: "gdal", "{msg}"),
        });
    });
}

/// Why a GDAL call failed: the messages GDAL raised on the way (most
/// specific first), or the binding's own error when there were none.
pub fn gdal_reason(e: gdal::errors::GdalError) -> String {
    // SQLite (GeoPackage) messages quote the whole statement, kilobytes of
    // SQL; what matters is the end ("database or disk is full"). The first
    // few failures say it; the rest follow from them.
    const SHOWN: usize = 3;
    let mut msgs: Vec<String> = take_gdal_errors().into_iter().map(without_sql).collect();
    msgs.dedup();
    match msgs.len() {
        0 => e.to_string(),
        n if n > SHOWN => format!(
            "{} (and {} more GDAL messages)",
            msgs[..SHOWN].join("; "),
            n - SHOWN
        ),
        _ => msgs.join("; "),
    }
}

/// `sqlite3_exec(<statement>) failed: why` → `sqlite3_exec(…) failed: why`.
fn without_sql(m: String) -> String {
    match (
        m.starts_with("sqlite3_"),
        m.find('('),
        m.rfind(") failed: "),
    ) {
        (true, Some(open), Some(close)) if open < close => {
            format!("{}(…){}", &m[..open], &m[close + 1..])
        }
        _ => m,
    }
}

/// The GDAL failures of this thread since the last call.
pub fn take_gdal_errors() -> Vec<String> {
    GDAL_ERRORS.with(|e| std::mem::take(&mut *e.borrow_mut()))
}

/// A failure GDAL raised while the features of `source` were read (a
/// truncated file stops early but otherwise looks like a shorter one). Call
/// [`take_gdal_errors`] before the first feature. Every reader of a layer
/// ends with this, so a damaged file is reported in the same words whatever
/// read it.
pub fn check_read_errors(source: &Source) -> Result<()> {
    match take_gdal_errors().into_iter().next() {
        Some(msg) => Err(read_error(source, &msg)),
        None => Ok(()),
    }
}

/// The error of a GDAL failure while `source` was read.
pub fn read_error(source: &Source, msg: &str) -> crate::error::Error {
    source
        .error(format!("read error: {msg}"))
        .hint("the file may be truncated or damaged; check it with ogrinfo -al -so")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_statements_are_left_out_of_messages() {
        let m = "sqlite3_exec(INSERT INTO gpkg_contents (table_name) VALUES ('n')) failed: database or disk is full";
        assert_eq!(
            without_sql(m.into()),
            "sqlite3_exec(…) failed: database or disk is full"
        );
        assert_eq!(
            without_sql("not recognized (x)".into()),
            "not recognized (x)"
        );
    }
}
