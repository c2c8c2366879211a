//! Integration tests, one module per concern.

mod cli;
mod crosscheck;
mod fixture;
mod golden;
mod ledger;
mod pack_reader;
mod provenance;
mod run;
mod sign;
mod tamper;
