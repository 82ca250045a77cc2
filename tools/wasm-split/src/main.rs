//! `zkrelay-wasm-split IN.wasm PKG_DIR MAIN_OUT.wasm OUT_NAME`
//!
//! Splits the browser bundle that rustc linked (with `--emit-relocs`) at its `#[lazy]` split
//! points, the step `cargo leptos --split` runs: the main module goes to `MAIN_OUT.wasm` (for
//! wasm-bindgen), the lazily loaded modules and their loader to `PKG_DIR`, and the manifest
//! Leptos' `HydrationScripts` reads to preload a route's modules to
//! `PKG_DIR/__wasm_split_manifest.json`. The names are the ones Leptos looks for when file
//! hashing is off.

use std::{path::Path, process::ExitCode};

/// The loader's name, as `leptos::HydrationScripts` expects it without file hashing.
const LINK_NAME: &str = "./__wasm_split.______________________.js";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, pkg_dir, main_out, out_name] = args.as_slice() else {
        eprintln!("usage: zkrelay-wasm-split IN.wasm PKG_DIR MAIN_OUT.wasm OUT_NAME");
        return ExitCode::from(2);
    };
    match split(Path::new(input), Path::new(pkg_dir), Path::new(main_out), out_name) {
        Ok(modules) => {
            eprintln!("wasm-split: {modules} lazily loaded module(s) in {pkg_dir}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("wasm-split: {e}");
            ExitCode::FAILURE
        }
    }
}

fn split(input: &Path, pkg_dir: &Path, main_out: &Path, out_name: &str) -> Result<usize, String> {
    let wasm = std::fs::read(input).map_err(|e| format!("{}: {e}", input.display()))?;
    // The split modules import the bindings' init from the main module's JS.
    let main_module = format!("./{out_name}.js");
    let mut opts = wasm_split_cli_support::Options::new(&wasm);
    opts.output_dir = pkg_dir;
    opts.main_out_path = main_out;
    opts.main_module = &main_module;
    opts.link_name = LINK_NAME;
    let split = wasm_split_cli_support::transform(opts).map_err(|e| format!("{e:#}"))?;
    let manifest = serde_json::to_string_pretty(&split.prefetch_map).map_err(|e| e.to_string())?;
    let path = pkg_dir.join("__wasm_split_manifest.json");
    std::fs::write(&path, manifest).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(split.split_modules.len())
}
