//! C: `bindings/c/include/sesame.h`, the header of `libsesame` (the C ABI crate), written
//! by cbindgen from that crate's exported functions and types and their doc comments.

use std::path::{Path, PathBuf};

use crate::PREAMBLE;

/// The header.
pub fn render(root: &Path) -> Result<Vec<(PathBuf, String)>, String> {
    let config = cbindgen::Config {
        language: cbindgen::Language::C,
        header: Some(format!(
            "/* {PREAMBLE} */\n\
             /* libsesame: Sesame's C ABI. Build it with `cargo build -p sesame-c` (libsesame.a and\n\
             \x20* libsesame.so); see bindings/c/src/lib.rs for the contract. */"
        )),
        include_guard: Some("SESAME_H".into()),
        cpp_compat: true,
        documentation: true,
        documentation_style: cbindgen::DocumentationStyle::C99,
        sys_includes: vec!["stddef.h".into(), "stdint.h".into()],
        no_includes: true,
        usize_is_size_t: true,
        ..cbindgen::Config::default()
    };
    let mut header = Vec::new();
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join("bindings/c/src/lib.rs"))
        .generate()
        .map_err(|e| format!("cbindgen: {e}"))?
        .write(&mut header);
    let header = String::from_utf8(header).map_err(|e| format!("cbindgen wrote non-UTF-8: {e}"))?;
    Ok(vec![(PathBuf::from("bindings/c/include/sesame.h"), header)])
}
