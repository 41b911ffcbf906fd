//! The `sentinel` command line.
fn main() {}
