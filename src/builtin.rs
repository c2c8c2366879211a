//! The data files embedded at build time (see `build.rs`): built-in phases
//! and policies, parsed by the same code as a repository's own files.

include!(concat!(env!("OUT_DIR"), "/builtin.rs"));
