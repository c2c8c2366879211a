//! Evidence core.
#![forbid(unsafe_code)]

pub mod checkpoint;
pub mod digest;
pub mod keys;
pub mod merkle;
pub mod timestamp;
pub mod dsse;
pub mod record;
pub mod statement;
pub mod ledger;
pub mod store;
pub mod trust;
pub mod manifest;
pub mod pack;
pub mod verify;
pub mod fuzz;
