//! Records the version of the `moka` crate that is actually linked, read from
//! Cargo.lock, so that Python can check it (`moka_py_rust._native.MOKA_VERSION`).
//! The pure backend mirrors exactly moka 0.12.16; a test fails if this ever drifts.

use std::{env, fs, path::PathBuf};

fn locked_version(lock: &str, name: &str) -> Option<String> {
    let mut in_package = false;
    for line in lock.lines() {
        let line = line.trim();
        if line == "[[package]]" {
            in_package = false;
            continue;
        }
        if line == format!("name = \"{name}\"") {
            in_package = true;
            continue;
        }
        if in_package {
            if let Some(rest) = line.strip_prefix("version = \"") {
                return rest.strip_suffix('"').map(str::to_owned);
            }
        }
    }
    None
}

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let lock_path = dir.join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock_path.display());
    println!("cargo:rerun-if-changed=build.rs");
    let version = fs::read_to_string(&lock_path)
        .ok()
        .and_then(|lock| locked_version(&lock, "moka"))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=MOKA_PY_LINKED_MOKA_VERSION={version}");
}
