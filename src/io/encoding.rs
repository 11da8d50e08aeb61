//! The text encoding of a shapefile's `.dbf` when nothing declares it.
//!
//! With no `.cpg` beside it, no code page in the DBF header (byte 29) and no
//! `SHAPE_ENCODING`, GDAL decodes a `.dbf` as ISO-8859-1. Korean shapefiles
//! without `.cpg` are common, and their CP949 names then come out as
//! mojibake, beyond recovery once written. So the bytes are looked at: text
//! that is valid UTF-8 is read as UTF-8, text that is valid CP949 and mostly
//! Hangul syllables is read as CP949, and anything else is read as
//! ISO-8859-1 (right for the many European shapefiles without `.cpg`, and
//! byte for byte, so nothing becomes U+FFFD), with a warning. (GDAL 3.6
//! itself passes undeclared bytes through, and what is not UTF-8 is lost.)

use std::path::{Path, PathBuf};

/// What the bytes of an undeclared `.dbf` say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbfText {
    /// A `.cpg`, the header's code page or `SHAPE_ENCODING` says it; or the
    /// file is no shapefile, or unreadable (reading it reports that).
    Declared,
    /// ASCII only: every encoding reads it alike.
    Ascii,
    /// Undeclared and detected: read with this GDAL `ENCODING` open option.
    Detected(&'static str),
    /// Undeclared, non-ASCII, neither UTF-8 nor CP949: read as ISO-8859-1.
    Unknown,
}

/// Looks at the `.dbf` of the shapefile at `path`.
pub fn dbf_text(path: &Path) -> DbfText {
    let is_shp = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("shp"));
    if !is_shp || std::env::var_os("SHAPE_ENCODING").is_some() || sidecar(path, "cpg").is_some() {
        return DbfText::Declared;
    }
    // The first records tell: a multi-gigabyte .dbf is not read whole.
    let Some(dbf) = sidecar(path, "dbf").and_then(|p| read_prefix(&p, SAMPLE_BYTES)) else {
        return DbfText::Declared;
    };
    if dbf.len() < 32 || dbf[29] != 0 {
        return DbfText::Declared;
    }
    let header = usize::from(u16::from_le_bytes([dbf[8], dbf[9]]));
    let record = usize::from(u16::from_le_bytes([dbf[10], dbf[11]])).max(1);
    let Some(records) = dbf.get(header..) else {
        return DbfText::Declared;
    };
    // Whole records only: the sample's end may split a character.
    let records = &records[..records.len() / record * record];
    if records.is_ascii() {
        DbfText::Ascii
    } else if std::str::from_utf8(records).is_ok() {
        DbfText::Detected("UTF-8")
    } else if looks_cp949(records) {
        DbfText::Detected("CP949")
    } else {
        DbfText::Unknown
    }
}

/// The warning for text GDAL will read as ISO-8859-1 without being told.
pub fn unknown_warning(path: &Path) -> Option<String> {
    (dbf_text(path) == DbfText::Unknown).then(|| unknown_message(path))
}

/// The words of that warning (the reader logs them when it opens the file).
pub fn unknown_message(path: &Path) -> String {
    format!(
        "{}: the .dbf holds non-ASCII text that is neither UTF-8 nor CP949 and no .cpg gives its encoding: read as ISO-8859-1; if names come out wrong, write the encoding into {} or set SHAPE_ENCODING",
        path.display(),
        path.with_extension("cpg").display()
    )
}

/// How much of a `.dbf` is looked at (its header and first records).
const SAMPLE_BYTES: u64 = 4 << 20;

fn read_prefix(path: &Path, n: u64) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(n)
        .read_to_end(&mut buf)
        .ok()?;
    Some(buf)
}

fn sidecar(path: &Path, ext: &str) -> Option<PathBuf> {
    [ext.to_ascii_lowercase(), ext.to_ascii_uppercase()]
        .iter()
        .map(|e| path.with_extension(e))
        .find(|p| p.exists())
}

/// Every byte pair well-formed CP949 (lead 0x81–0xFE; trail 0x41–0x5A,
/// 0x61–0x7A or 0x81–0xFE), and at least half of the pairs Hangul syllables
/// of KS X 1001 (lead 0xB0–0xC8, trail 0xA1–0xFE): Latin-1 text such as
/// "Zürich" can pass the first test by chance, hardly the second.
fn looks_cp949(b: &[u8]) -> bool {
    let (mut pairs, mut hangul) = (0usize, 0usize);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x80 {
            i += 1;
            continue;
        }
        let Some(&t) = b.get(i + 1) else {
            return false;
        };
        let lead_ok = (0x81..=0xFE).contains(&c);
        let trail_ok = matches!(t, 0x41..=0x5A | 0x61..=0x7A | 0x81..=0xFE);
        if !lead_ok || !trail_ok {
            return false;
        }
        pairs += 1;
        hangul += usize::from((0xB0..=0xC8).contains(&c) && (0xA1..=0xFE).contains(&t));
        i += 2;
    }
    pairs > 0 && hangul * 2 >= pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hangul_in_cp949_is_told_from_latin_1() {
        // "공덕동" in CP949.
        assert!(looks_cp949(&[
            0xB0, 0xF8, 0xB4, 0xF6, 0xB5, 0xBF, b' ', b'1'
        ]));
        // "Zürich" and "Köln" in ISO-8859-1.
        assert!(!looks_cp949(b"Z\xfcrich K\xf6ln"));
        assert!(!looks_cp949(b"caf\xe9"));
    }
}
