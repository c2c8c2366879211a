# A menu of one-line recipes; logic lives in Rust or in scripts/.

# Run the main job on the bundled example.
demo:
    scripts/demo.sh

# Install what the tests need and run the whole suite.
test:
    scripts/test.sh

# Lints as CI would see them.
lint:
    cargo clippy --workspace --all-targets -- -D warnings

# Verify-speed benchmark against `openssl dgst -sha256`, e.g. `just bench 4294967296` (BENCH_RECORDS scales records).
bench bytes="1073741824":
    BENCH_BYTES={{bytes}} cargo bench --bench verify_pack

# Orchestration cost of `conductor run --all` with 60 agents, and bus messages per second.
bench-run:
    cargo bench --bench orchestration

# Tasks per second through NATS JetStream against the in-process bus, and the time to notice a dead worker, e.g. `just bench-bus 200`.
bench-bus tasks="40":
    BENCH_TASKS={{tasks}} cargo bench --bench bus

# Secret scanning against gitleaks and kingfisher (installed into target/bench-secrets/venv), e.g. `just bench-secrets 64`.
bench-secrets mb="256":
    BENCH_SECRETS_MB={{mb}} cargo bench --bench secrets

# Changelog and next version against git-cliff (installed into target/bench-changelog/venv), e.g. `just bench-changelog 10000`.
bench-changelog commits="100000":
    BENCH_CHANGELOG_COMMITS={{commits}} cargo bench --bench changelog

# Fuzz one parser for a minute, e.g. `just fuzz ledger_line`.
fuzz target:
    cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run {{target}} -- -max_total_time=60
