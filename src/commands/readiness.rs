//! `conductor readiness --input release_data.json [--json]`: the weighted
//! readiness score and the go/no-go report; exit 0 for GO, 1 for CONDITIONAL
//! or NO-GO, 2 when the file cannot be used. `--input -` reads standard input.

use std::io::Read as _;
use std::path::Path;

use agents::readiness::{data::ReleaseData, report, score};
use anyhow::{Context as _, Result};

use crate::Exit;
use crate::cli::ReadinessArgs;

pub fn run(args: ReadinessArgs) -> Result<Exit> {
    let data = if args.input == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).context("standard input cannot be read")?;
        ReleaseData::parse(&bytes, Path::new("<stdin>"))?
    } else {
        ReleaseData::load(&args.input)?
    };
    let assessment = score::assess(&data);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report::json(&assessment, &[]))?);
    } else {
        print!("{}", report::human(&assessment, &[]));
    }
    Ok(if assessment.decision == score::Decision::Go { Exit::Success } else { Exit::Failed })
}
