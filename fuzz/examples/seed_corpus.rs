//! Writes seed corpora for every fuzz target to `fuzz/corpus/<target>/`,
//! made by the library itself (a real pack included), so the fuzzer starts
//! from valid inputs: `cargo run --example seed_corpus` from `fuzz/`.

use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let work = std::env::temp_dir().join(format!("evidence-fuzz-seeds-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let seeds = evidence::fuzz::seed_corpus(&work);
    std::fs::remove_dir_all(&work)?;
    let seeds = seeds.map(|mut seeds| {
        seeds.extend(agents::fuzz::seeds());
        seeds
    });
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for (n, (target, bytes)) in seeds?.into_iter().enumerate() {
        let dir = corpus.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("seed-{n:02}")), bytes)?;
    }
    println!("seeds written to {}", corpus.display());
    Ok(())
}
