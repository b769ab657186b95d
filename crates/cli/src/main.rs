//! The `sesame` command line (being written).
fn main() {}
