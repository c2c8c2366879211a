#![no_main]
use libfuzzer_sys::fuzz_target;
fuzz_target!(|data: &[u8]| agents::sbom::fuzz_any_lockfile(data));
