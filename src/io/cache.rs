//! A folder of results keyed by their inputs (`generate --cache DIR`).
//!
//! An entry is stored under the SHA-256 of everything its result depends on
//! (the caller feeds a [`KeyHasher`]), so a changed input is a new key and
//! never a stale hit. Each file carries a header with dongne's version and
//! the SHA-256 of its payload: an entry that was cut short, edited, or
//! written by another version is detected, removed and recomputed, never
//! trusted. Entries are written to a temporary name and renamed, so a run
//! killed mid-write leaves no half entry. After a full run, entries this
//! run did not use are removed ([`Cache::finish`]), so the folder holds one
//! run's worth.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// What every entry file starts with.
const MAGIC: &[u8] = b"dongne-cache 1\n";
/// Extension of entry files.
const EXT: &str = "unit";

/// A key: the SHA-256 of a result's inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key(pub [u8; 32]);

impl Key {
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Feeds the inputs of a result, in a fixed order, into SHA-256. Numbers go
/// in as their bits, text with its length, so no two inputs feed the same
/// bytes.
pub struct KeyHasher(Sha256);

impl Default for KeyHasher {
    fn default() -> Self {
        let mut h = KeyHasher(Sha256::new());
        h.str(env!("CARGO_PKG_VERSION"));
        h
    }
}

impl KeyHasher {
    pub fn f64(&mut self, v: f64) {
        self.0.update(v.to_bits().to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.0.update(v.to_le_bytes());
    }
    pub fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.update(s.as_bytes());
    }
    pub fn finish(self) -> Key {
        Key(self.0.finalize().into())
    }
}

/// What [`Cache::finish`] reports, for the summary.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct CacheStats {
    pub dir: String,
    /// Units whose result was read from the cache.
    pub reused: usize,
    /// Units computed (and stored).
    pub computed: usize,
    /// Entries found damaged or from another version, and recomputed.
    pub rejected: usize,
    /// Entries of earlier runs that this run did not use, removed.
    pub removed: usize,
    pub entries: usize,
    pub bytes: u64,
}

/// An open cache folder.
pub struct Cache {
    dir: PathBuf,
    used: Mutex<HashSet<Key>>,
    reused: AtomicUsize,
    computed: AtomicUsize,
    rejected: AtomicUsize,
}

impl Cache {
    /// Opens (creating it if needed) the cache folder.
    pub fn open(dir: &Path) -> Result<Cache> {
        fs::create_dir_all(dir).map_err(|e| {
            Error::output(format!("cannot create the cache folder: {e}"))
                .file(dir.display().to_string())
                .hint("give --cache a folder this user may write")
        })?;
        let probe = dir.join(format!(".probe-{}", std::process::id()));
        fs::write(&probe, b"").map_err(|e| {
            Error::output(format!("cannot write in the cache folder: {e}"))
                .file(dir.display().to_string())
                .hint("give --cache a folder this user may write")
        })?;
        let _ = fs::remove_file(probe);
        Ok(Cache {
            dir: dir.to_path_buf(),
            used: Mutex::new(HashSet::new()),
            reused: AtomicUsize::new(0),
            computed: AtomicUsize::new(0),
            rejected: AtomicUsize::new(0),
        })
    }

    fn path(&self, key: &Key) -> PathBuf {
        let hex = key.hex();
        self.dir.join(&hex[..2]).join(format!("{hex}.{EXT}"))
    }

    /// The payload stored under `key`, checked; `None` when there is none
    /// or it does not check out (the file is then removed).
    pub fn get(&self, key: &Key) -> Option<Vec<u8>> {
        let path = self.path(key);
        let bytes = fs::read(&path).ok()?;
        self.used.lock().ok()?.insert(*key);
        match unseal(MAGIC, &bytes) {
            Ok(p) => {
                self.reused.fetch_add(1, Ordering::Relaxed);
                Some(p.to_vec())
            }
            Err(_) => {
                tracing::warn!(file = %path.display(), "cache entry damaged or from another dongne version: recomputed");
                self.rejected.fetch_add(1, Ordering::Relaxed);
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    /// Stores a payload under `key` (temporary file, then rename).
    pub fn put(&self, key: &Key, data: &[u8]) -> Result<()> {
        self.computed.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut u) = self.used.lock() {
            u.insert(*key);
        }
        let path = self.path(key);
        let dir = path.parent().unwrap_or(&self.dir);
        let fail = |e: std::io::Error| {
            Error::output(format!("cannot write a cache entry: {e}"))
                .file(path.display().to_string())
                .hint("check free disk space; or run without --cache")
        };
        fs::create_dir_all(dir).map_err(fail)?;
        let tmp = dir.join(format!(".{}.{}.tmp", key.hex(), std::process::id()));
        fs::write(&tmp, seal(MAGIC, data)).map_err(fail)?;
        fs::rename(&tmp, &path).map_err(fail)
    }

    /// Removes the entries this run did not use (after a run over every
    /// unit) and counts what is left.
    pub fn finish(&self, prune: bool) -> CacheStats {
        let used = self.used.lock().map(|u| u.clone()).unwrap_or_default();
        let mut stats = CacheStats {
            dir: self.dir.display().to_string(),
            reused: self.reused.load(Ordering::Relaxed),
            computed: self.computed.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            ..Default::default()
        };
        let Ok(subdirs) = fs::read_dir(&self.dir) else {
            return stats;
        };
        for sub in subdirs.filter_map(|e| e.ok()).filter(|e| e.path().is_dir()) {
            let Ok(files) = fs::read_dir(sub.path()) else {
                continue;
            };
            for f in files.filter_map(|e| e.ok()) {
                let p = f.path();
                let key = p
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .filter(|_| p.extension().is_some_and(|e| e == EXT))
                    .and_then(parse_hex);
                match key {
                    Some(k) if prune && !used.contains(&k) && fs::remove_file(&p).is_ok() => {
                        stats.removed += 1;
                    }
                    Some(k) if prune && !used.contains(&k) => {}
                    Some(_) => {
                        stats.entries += 1;
                        stats.bytes += f.metadata().map(|m| m.len()).unwrap_or(0);
                    }
                    None => {}
                }
            }
        }
        stats
    }
}

/// Why [`unseal`] refused a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsealed {
    /// It does not start with the expected header.
    NotOurs,
    /// Written by another dongne version (given).
    OtherVersion(String),
    /// Cut short or changed since it was written.
    Damaged,
}

/// `data` behind a header that [`unseal`] checks: `magic`, dongne's
/// version, the SHA-256 of `data`. Cache entries and shard part files are
/// written so.
pub fn seal(magic: &[u8], data: &[u8]) -> Vec<u8> {
    let version = env!("CARGO_PKG_VERSION").as_bytes();
    let sum: [u8; 32] = Sha256::digest(data).into();
    let mut out = Vec::with_capacity(magic.len() + 4 + version.len() + 32 + data.len());
    out.extend_from_slice(magic);
    out.extend_from_slice(&(version.len() as u32).to_le_bytes());
    out.extend_from_slice(version);
    out.extend_from_slice(&sum);
    out.extend_from_slice(data);
    out
}

/// The data of a [`seal`]ed file, when its header, version and checksum
/// hold.
pub fn unseal<'a>(magic: &[u8], bytes: &'a [u8]) -> std::result::Result<&'a [u8], Unsealed> {
    let rest = bytes.strip_prefix(magic).ok_or(Unsealed::NotOurs)?;
    let n = rest
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
        .ok_or(Unsealed::Damaged)? as usize;
    let version = rest.get(4..4 + n).ok_or(Unsealed::Damaged)?;
    if version != env!("CARGO_PKG_VERSION").as_bytes() {
        return Err(Unsealed::OtherVersion(
            String::from_utf8_lossy(version).into_owned(),
        ));
    }
    let sum = rest.get(4 + n..4 + n + 32).ok_or(Unsealed::Damaged)?;
    let data = rest.get(4 + n + 32..).ok_or(Unsealed::Damaged)?;
    let actual: [u8; 32] = Sha256::digest(data).into();
    if actual != sum {
        return Err(Unsealed::Damaged);
    }
    Ok(data)
}

fn parse_hex(s: &str) -> Option<Key> {
    if s.len() != 64 {
        return None;
    }
    let mut k = [0u8; 32];
    for (i, b) in k.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(Key(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_damage_is_caught() {
        let d = tempfile::tempdir().unwrap();
        let c = Cache::open(d.path()).unwrap();
        let mut h = KeyHasher::default();
        h.str("unit 1");
        h.f64(1.5);
        let k = h.finish();
        assert_eq!(c.get(&k), None);
        c.put(&k, b"result").unwrap();
        assert_eq!(c.get(&k).as_deref(), Some(&b"result"[..]));
        // One byte of the payload changed: rejected, removed, recomputed.
        let p = c.path(&k);
        let mut bytes = fs::read(&p).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        fs::write(&p, bytes).unwrap();
        assert_eq!(c.get(&k), None);
        assert!(!p.exists());
        let s = c.finish(true);
        assert_eq!((s.reused, s.computed, s.rejected, s.entries), (1, 1, 1, 0));
    }
}
