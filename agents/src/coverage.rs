//! The `coverage` kind: line coverage from Cobertura XML (coverage.py,
//! gcovr, cargo-llvm-cov, JaCoCo converters) or LCOV tracefiles (lcov,
//! c8, grcov), against `min_line_rate` (a fraction, such as 0.8).

use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::json;

use crate::{Agent, AgentOutcome, AgentTask, Verdict};

/// Reads the coverage reports named by `reports`.
pub struct CoverageAgent;

#[async_trait::async_trait]
impl Agent for CoverageAgent {
    fn kind(&self) -> &'static str {
        "coverage"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        match measure(task, "reports") {
            Ok((reports, coverage)) => {
                let (verdict, reason) = coverage.judge();
                AgentOutcome { verdict, reason, facts: coverage.facts(), files: task.report_files(&reports) }
            }
            Err(outcome) => outcome,
        }
    }
}

/// Line coverage summed over reports, with the minimum it is held to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Coverage {
    covered: u64,
    valid: u64,
    min: f64,
}

impl Coverage {
    fn rate(self) -> f64 {
        if self.valid == 0 { 0.0 } else { self.covered as f64 / self.valid as f64 }
    }

    /// The verdict against the minimum, with the figures in the reason.
    pub(crate) fn judge(self) -> (Verdict, String) {
        let (rate, min) = (self.rate() * 100.0, self.min * 100.0);
        if self.valid == 0 {
            (Verdict::Fail, "the coverage reports cover no lines".to_owned())
        } else if self.rate() < self.min {
            (Verdict::Fail, format!("line coverage {rate:.1}% is below the required {min:.1}%"))
        } else {
            (Verdict::Pass, format!("line coverage {rate:.1}% meets the required {min:.1}%"))
        }
    }

    /// The figures as facts.
    pub(crate) fn facts(self) -> serde_json::Value {
        json!({ "linesCovered": self.covered, "linesValid": self.valid, "lineRate": self.rate(), "minLineRate": self.min })
    }
}

/// Reads the coverage reports named by setting `key` and the required
/// `min_line_rate`, or the outcome saying what is missing or unreadable.
pub(crate) fn measure(task: &AgentTask, key: &str) -> Result<(crate::Reports, Coverage), AgentOutcome> {
    let min = match task.settings.get("min_line_rate") {
        Some(v) => v.as_float().or_else(|| v.as_integer().map(|i| i as f64)).filter(|r| (0.0..=1.0).contains(r)).ok_or_else(|| {
            AgentOutcome::missing_input(format!("min_line_rate of [agents.\"{}\"] must be a number from 0 to 1, such as 0.8", task.agent))
        })?,
        None => return Err(AgentOutcome::missing_input(format!("no 'min_line_rate' is configured; set it under [agents.\"{}\"] in conductor.toml", task.agent))),
    };
    let (reports, counts) = task.parse_reports(key, "Cobertura XML or LCOV", lines)?;
    let (covered, valid) = counts.into_iter().fold((0u64, 0u64), |(c, v), (dc, dv)| (c + dc, v + dv));
    Ok((reports, Coverage { covered, valid, min }))
}

/// (covered, valid) lines of one report, by its format.
pub(crate) fn lines(bytes: &[u8]) -> Result<(u64, u64), String> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).map_or(&bytes[..0], |i| &bytes[i..]);
    if start.starts_with(b"<") { cobertura(bytes) } else { lcov(bytes) }
}

/// Cobertura: the root `<coverage>` element's `lines-covered` and `lines-valid`.
fn cobertura(bytes: &[u8]) -> Result<(u64, u64), String> {
    let mut reader = Reader::from_reader(bytes);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).map_err(|e| format!("at byte {}: {e}", reader.error_position()))? {
            Event::Start(e) | Event::Empty(e) if e.local_name().into_inner() == "coverage" => {
                let attr = |key: &str| e.attributes().flatten().find(|a| a.key.as_ref() == key).and_then(|a| a.value.parse::<u64>().ok());
                return match (attr("lines-covered"), attr("lines-valid")) {
                    (Some(c), Some(v)) if c <= v => Ok((c, v)),
                    _ => Err("<coverage> lacks consistent lines-covered and lines-valid".into()),
                };
            }
            Event::Eof => return Err("no <coverage> element".into()),
            _ => {}
        }
        buf.clear();
    }
}

/// LCOV: the sums of `LH:` (lines hit) and `LF:` (lines found) over all records.
fn lcov(bytes: &[u8]) -> Result<(u64, u64), String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())?;
    let (mut hit, mut found, mut records) = (0u64, 0u64, 0u64);
    for (n, line) in text.lines().enumerate() {
        let number = |v: &str| v.trim().parse::<u64>().map_err(|_| format!("line {}: '{line}' is not a count", n + 1));
        if let Some(v) = line.strip_prefix("LH:") {
            hit = hit.checked_add(number(v)?).ok_or("LH: counts add up past 2^64")?;
        } else if let Some(v) = line.strip_prefix("LF:") {
            found = found.checked_add(number(v)?).ok_or("LF: counts add up past 2^64")?;
        } else if line == "end_of_record" {
            records += 1;
        }
    }
    if records == 0 || hit > found {
        return Err("no consistent LF/LH records ending in end_of_record".into());
    }
    Ok((hit, found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_formats() {
        let cobertura_xml = br#"<?xml version="1.0" ?><coverage line-rate="0.86" lines-valid="22" lines-covered="19"><packages/></coverage>"#;
        assert_eq!(lines(cobertura_xml).unwrap(), (19, 22));
        let tracefile = b"TN:\nSF:a.rs\nDA:1,1\nLF:10\nLH:7\nend_of_record\nSF:b.rs\nLF:10\nLH:10\nend_of_record\n";
        assert_eq!(lines(tracefile).unwrap(), (17, 20));
        assert!(lines(b"hello").is_err());
        assert!(lines(b"<coverage/>").is_err());
    }

    #[tokio::test]
    async fn judges_against_the_threshold() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("lcov.info"), "SF:a\nLF:10\nLH:7\nend_of_record\n").unwrap();
        let task = |min: f64| {
            let mut settings = toml::Table::new();
            settings.insert("reports".into(), "lcov.info".into());
            settings.insert("min_line_rate".into(), min.into());
            AgentTask::new("CI/CD Engineer", "coverage", "P0", dir.path(), dir.path(), settings)
        };
        assert_eq!(CoverageAgent.run(&task(0.7)).await.verdict, Verdict::Pass);
        let low = CoverageAgent.run(&task(0.8)).await;
        assert_eq!(low.verdict, Verdict::Fail);
        assert!(low.reason.contains("70.0%"), "{}", low.reason);
    }
}
