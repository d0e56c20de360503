//! Helpers for the unit tests of every module.

use std::fs;
use std::path::PathBuf;

/// A fresh, empty folder under the temp dir, unique to this process and `name`.
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("recall-core-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}
