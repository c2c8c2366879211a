//! Integration tests, one module per concern.

mod cab;
mod changelog;
mod cli;
mod crosscheck;
mod data_safety;
mod fixture;
mod gates;
mod golden;
mod ledger;
mod nats;
mod ops;
mod pack_reader;
mod postgres;
mod preflight;
mod prometheus;
mod promote;
mod provenance;
mod readiness;
mod rollout;
mod run;
mod sbom;
mod sign;
mod slo;
mod secrets;
mod tamper;
mod version;
