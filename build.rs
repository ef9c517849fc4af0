//! Compiles the C++ side of the cxx bridge and, when built for Zeek, the shim.
//!
//! - Always: the bridges' generated C++ (`src/record.rs`, the types shared
//!   with C++, and `src/bridge.rs`; they need only `shim/host.h`), so
//!   `cargo test` links and exercises the real FFI types without Zeek.
//! - With `ZEEK_INCLUDE_DIRS` set (colon-separated, done by CMake through
//!   `configure`): also `shim/*.cc`, compiled with Zeek's headers and flags
//!   (`ZEEK_CXX_STD`, default c++20). The result is linked into the cdylib
//!   with `+whole-archive`: nothing in Rust references the plugin's static
//!   registration object, and a plain static link would drop it.
//! - The version: `PLUGIN_VERSION`, read from the `VERSION` file, which
//!   the workspace version in Cargo.toml must equal (the build fails if
//!   not), so that Zeek, `zeek-zmq --version` and the installed VERSION
//!   file say one string.

use std::env;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    println!("cargo:rerun-if-changed=src/record.rs");
    println!("cargo:rerun-if-changed=src/bridge.rs");
    println!("cargo:rerun-if-changed=shim");
    println!("cargo:rerun-if-env-changed=ZEEK_INCLUDE_DIRS");
    println!("cargo:rerun-if-env-changed=ZEEK_CXX_STD");
    println!("cargo:rerun-if-env-changed=ZEEK_VERSION_NUMBER");
    plugin_version(&manifest);

    let zeek_includes: Vec<PathBuf> = env::var("ZEEK_INCLUDE_DIRS")
        .ok()
        .filter(|s| !s.is_empty())
        .map(|s| env::split_paths(&s).collect())
        .unwrap_or_default();
    let std = env::var("ZEEK_CXX_STD").unwrap_or_else(|_| "c++20".to_string());

    // The record model's types (`src/record.rs`), then the FFI module that
    // reuses them.
    let mut build = cxx_build::bridges(["src/record.rs", "src/bridge.rs"]);
    build
        .cargo_metadata(false)
        .include(&manifest)
        .std(&std)
        .flag_if_supported("-Wno-unused-parameter");

    if !zeek_includes.is_empty() {
        let defaults = compiler_default_include_dirs(build.get_compiler().to_command());
        for dir in &zeek_includes {
            // `zeek-config --include_dir` lists the dirs of the libraries Zeek
            // was built against too, often /usr/include. Passing one of the
            // compiler's own dirs as -isystem moves it ahead of libstdc++'s,
            // whose `#include_next <stdlib.h>` then finds nothing: the
            // compiler already searches those, so they are left out.
            if is_default_dir(dir, &defaults) {
                continue;
            }
            // Zeek's headers are noisy under -Wall: include them as system headers.
            build
                .flag("-isystem")
                .flag(dir.to_str().expect("utf-8 include path"));
        }
        build.define("DOCTEST_CONFIG_DISABLE", None);
        let mut shim_files: Vec<PathBuf> = std::fs::read_dir(manifest.join("shim"))
            .expect("shim/ exists")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "cc"))
            .collect();
        shim_files.sort();
        for f in &shim_files {
            println!("cargo:rerun-if-changed={}", f.display());
            build.file(f);
        }
        println!("cargo:rustc-cfg=zeek_shim");
    }
    println!("cargo::rustc-check-cfg=cfg(zeek_shim)");

    build.compile("zeromq_writer_cxx");

    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-lib=static:+whole-archive=zeromq_writer_cxx");
    println!("cargo:rustc-link-lib=dylib=stdc++");
}

/// Sets `PLUGIN_VERSION` (for `env!`) from the `VERSION` file, a release
/// version `major.minor.patch` (Zeek's plugin version has nothing more),
/// after checking that Cargo.toml's version is the same.
fn plugin_version(manifest: &std::path::Path) {
    let file = manifest.join("VERSION");
    println!("cargo:rerun-if-changed={}", file.display());
    let text = std::fs::read_to_string(&file).expect("the VERSION file is readable");
    let version = text.trim();
    let parts: Vec<&str> = version.split('.').collect();
    assert!(
        parts.len() == 3 && parts.iter().all(|p| p.parse::<u32>().is_ok()),
        "VERSION holds \"{version}\", not major.minor.patch (Zeek's plugin version)"
    );
    let cargo = env::var("CARGO_PKG_VERSION").unwrap();
    assert!(
        cargo == version,
        "VERSION says {version}, Cargo.toml's [workspace.package] version {cargo}: \
         make them agree"
    );
    println!("cargo:rustc-env=PLUGIN_VERSION={version}");
}

/// The directories the C++ compiler searches for `<...>` on its own, from
/// `c++ -E -v` ("#include <...> search starts here:" up to "End of search
/// list."), plus /usr/include and /usr/local/include should the compiler not
/// say (they are the defaults of every gcc and clang on Linux).
fn compiler_default_include_dirs(mut compiler: std::process::Command) -> Vec<PathBuf> {
    let mut dirs = vec![
        PathBuf::from("/usr/include"),
        PathBuf::from("/usr/local/include"),
    ];
    let output = compiler
        .args(["-x", "c++", "-E", "-v", "-"])
        .stdin(std::process::Stdio::null())
        .output();
    if let Ok(output) = output {
        let text = String::from_utf8_lossy(&output.stderr);
        let listed = text
            .lines()
            .skip_while(|l| !l.starts_with("#include <...> search starts here:"))
            .skip(1)
            .take_while(|l| !l.starts_with("End of search list."))
            .map(|l| PathBuf::from(l.trim()));
        dirs.extend(listed);
    }
    dirs.iter().filter_map(|d| d.canonicalize().ok()).collect()
}

fn is_default_dir(dir: &std::path::Path, defaults: &[PathBuf]) -> bool {
    dir.canonicalize().is_ok_and(|d| defaults.contains(&d))
}
