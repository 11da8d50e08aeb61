//! Atomic replacement: every output is written under a temporary name beside
//! its target, synced, then renamed over it; a killed run's temporary files
//! are removed by the next run.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use super::{Pending, Staged};
use crate::error::{Error, Result};

/// Test hook, read in every build: with `DONGNE_TEST_PAUSE_BEFORE_RENAME_MS`
/// set, the run sleeps that long once every temporary file is complete and
/// before any is renamed, so that a test can kill it (SIGKILL) at exactly the
/// moment that matters and show the old target intact. A build flag would not
/// do: the tests run the release binary (`cargo test --release`), the same one
/// that ships. Unset (always, in production) it costs one environment lookup
/// per run; set by mistake it only slows the run down. Documented in
/// docs/operations.md.
pub(super) fn test_pause_before_rename() {
    let ms = std::env::var("DONGNE_TEST_PAUSE_BEFORE_RENAME_MS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(ms) = ms {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

/// What every temporary file name starts with, after the target's stem.
const TMP_TAG: &str = "dongne-tmp-";

/// Tells this process apart from an earlier one that had the same pid (a
/// container restarted, pids reused): its start time in nanoseconds, hex.
fn process_token() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!("{nanos:x}")
    })
}

/// Whether a process with this pid runs on this machine. Without `/proc`
/// (not Linux) it cannot tell and says yes, so nothing is removed.
fn pid_alive(pid: u32) -> bool {
    let proc_dir = Path::new("/proc");
    if !proc_dir.join("self").exists() {
        return true;
    }
    proc_dir.join(pid.to_string()).exists()
}

/// Removes temporary files that an earlier run, now dead, left beside
/// `path` (same folder, same stem): `.{stem}.dongne-tmp-{pid}-{token}-…`
/// whose pid runs no process here, or is this process's pid with another
/// start token (a killed run in an earlier container). Files of a live
/// process are kept: it may be writing them.
fn remove_stale_temp_files(dir: &Path, stem: &str) {
    let lead = format!(".{stem}.{TMP_TAG}");
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let me = std::process::id();
    for e in entries.filter_map(|e| e.ok()) {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(&lead)) else {
            continue;
        };
        let mut parts = rest.splitn(3, '-');
        let Some(pid) = parts.next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let token = parts.next().unwrap_or("");
        let stale = if pid == me {
            token != process_token()
        } else {
            !pid_alive(pid)
        };
        if stale && fs::remove_file(e.path()).is_ok() {
            tracing::info!(file = %e.path().display(), "removed a temporary file left by a killed run");
        }
    }
}

/// The target and its temporary twin in the same folder (a rename is only
/// atomic within one file system).
pub(super) struct Target {
    pub(super) path: PathBuf,
    dir: PathBuf,
    /// `.{stem}.dongne-tmp-{pid}-{token}-{n}.`: every temporary file starts
    /// so (a shapefile is several files).
    prefix: String,
    pub(super) tmp: PathBuf,
    /// A shapefile: several files share the temporary prefix.
    multi_file: bool,
}

impl Target {
    pub(super) fn prepare(path: &Path, multi_file: bool) -> Result<Target> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let shown = path.display().to_string();
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            let what = if dir.exists() {
                "is not a folder"
            } else {
                "does not exist"
            };
            return Err(
                Error::output(format!("output folder {} {what}", dir.display()))
                    .file(shown)
                    .hint(format!(
                        "create it first (mkdir -p {}) or choose another output",
                        dir.display()
                    )),
            );
        }
        if path.is_dir() {
            return Err(Error::output("output path is a folder")
                .file(shown)
                .hint("give a file name, e.g. out/neighborhoods.gpkg"));
        }
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("output");
        let ext = path.extension().and_then(|s| s.to_str()).unwrap_or("");
        remove_stale_temp_files(&dir, stem);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let prefix = format!(
            ".{stem}.{TMP_TAG}{}-{}-{n}.",
            std::process::id(),
            process_token()
        );
        let tmp = dir.join(format!("{prefix}{ext}"));
        // Fails early, with the OS's reason, when the folder is not writable.
        let probe = OpenOptions::new().write(true).create_new(true).open(&tmp);
        if let Err(e) = probe {
            return Err(
                Error::output(format!("cannot write in {}: {e}", dir.display()))
                    .file(shown)
                    .hint("check the folder's permissions, or choose another output"),
            );
        }
        let _ = fs::remove_file(&tmp);
        Ok(Target {
            path: path.to_path_buf(),
            dir,
            prefix,
            tmp,
            multi_file,
        })
    }

    /// Writes `bytes` as the temporary file, synced.
    pub(super) fn write_bytes(&self, bytes: &[u8]) -> Result<()> {
        use std::io::Write;
        File::create(&self.tmp)
            .and_then(|mut f| {
                f.write_all(bytes)?;
                f.sync_all()
            })
            .map_err(|e| output_error(&self.path, e))
    }

    /// The temporary files present, sorted, with the extension each gives
    /// the target (`shp`, `dbf`, …).
    fn temp_files(&self) -> Vec<(PathBuf, String)> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out: Vec<(PathBuf, String)> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_str()?.to_string();
                let ext = name.strip_prefix(&self.prefix)?.to_string();
                Some((e.path(), ext))
            })
            .collect();
        out.sort();
        out
    }

    /// Syncs and renames the temporary file(s) over the target. For a
    /// shapefile the `.shp` goes last, so that a reader finding the new
    /// `.shp` also finds the new sidecars.
    fn commit_files(&self) -> Result<()> {
        let mut files = if self.multi_file {
            self.temp_files()
        } else {
            vec![(self.tmp.clone(), String::new())]
        };
        files.sort_by_key(|(_, ext)| ext.eq_ignore_ascii_case("shp"));
        for (tmp, _) in &files {
            File::open(tmp)
                .and_then(|f| f.sync_all())
                .map_err(|e| self.io_error("cannot sync", tmp, e))?;
        }
        if self.multi_file {
            self.remove_stale_indexes();
        }
        for (tmp, ext) in &files {
            let dest = if ext.is_empty() {
                self.path.clone()
            } else {
                self.path.with_extension(ext)
            };
            fs::rename(tmp, &dest).map_err(|e| self.io_error("cannot rename", tmp, e))?;
        }
        // The renames themselves are durable only once the folder is synced.
        if let Ok(d) = File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Spatial indexes of an older shapefile would describe the wrong shapes.
    fn remove_stale_indexes(&self) {
        for ext in ["qix", "sbn", "sbx"] {
            let _ = fs::remove_file(self.path.with_extension(ext));
        }
    }

    /// Stages a successful write; removes every temporary file otherwise.
    pub(super) fn staged(self, written: Result<()>) -> Result<Staged> {
        match written {
            Ok(()) => Ok(Staged::new(Box::new(self))),
            Err(e) => {
                self.remove_files();
                Err(e)
            }
        }
    }

    fn remove_files(&self) {
        for (tmp, _) in self.temp_files() {
            let _ = fs::remove_file(tmp);
        }
    }

    fn io_error(&self, what: &str, tmp: &Path, e: std::io::Error) -> Error {
        Error::output(format!("{what} {}: {e}", tmp.display()))
            .file(self.path.display().to_string())
            .hint("check free disk space and the folder's permissions")
    }
}

pub(super) fn output_error(path: &Path, e: std::io::Error) -> Error {
    Error::output(format!("cannot write: {e}"))
        .file(path.display().to_string())
        .hint("check free disk space and the folder's permissions")
}

impl Pending for Target {
    fn commit(&self) -> Result<()> {
        self.commit_files()
    }

    fn cleanup(&self) {
        self.remove_files()
    }
}
