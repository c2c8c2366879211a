//! `conductor readiness --input release_data.json [--json]`: the weighted
//! readiness score and the go/no-go report; exit 0 for GO, 1 for CONDITIONAL
//! or NO-GO, 2 when the file cannot be used.

use agents::readiness::{data::ReleaseData, report, score};
use anyhow::Result;

use crate::Exit;
use crate::cli::ReadinessArgs;

pub fn run(args: ReadinessArgs) -> Result<Exit> {
    let data = ReleaseData::load(&args.input)?;
    let assessment = score::assess(&data);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report::json(&assessment, &[]))?);
    } else {
        print!("{}", report::human(&assessment, &[]));
    }
    Ok(if assessment.decision == score::Decision::Go { Exit::Success } else { Exit::Failed })
}
