//! The go/no-go report, for people (a text table) and for machines (JSON,
//! `conductor/readiness-report/v1`). Both are rendered from an
//! [`Assessment`]; the library returns text and never prints.

use serde_json::{Value, json};

use super::score::{Assessment, CategoryResult, LIMITS, THRESHOLDS};

/// The JSON report's schema identifier.
pub const REPORT_SCHEMA: &str = "conductor/readiness-report/v1";

/// The report as JSON. `notes` say where the data came from, when it was
/// gathered rather than given.
pub fn json(assessment: &Assessment, notes: &[String]) -> Value {
    let categories: Vec<Value> = assessment.categories.iter().map(category_json).collect();
    json!({
        "schema": REPORT_SCHEMA,
        "version": assessment.version,
        "decision": assessment.decision,
        "score": assessment.score.value(),
        "thresholds": THRESHOLDS,
        "limits": { "min_line_coverage": LIMITS.min_line_coverage, "max_flaky": LIMITS.max_flaky, "max_lint_warnings": LIMITS.max_lint_warnings },
        "categories": categories,
        "blockers": assessment.blockers.iter().map(|b| json!({ "category": b.category, "score": b.score })).collect::<Vec<_>>(),
        "reasons": assessment.reasons,
        "notes": notes,
    })
}

fn category_json(c: &CategoryResult) -> Value {
    json!({
        "category": c.category,
        "weight": c.weight,
        "score": c.score,
        "weighted": f64::from(c.weight * c.score) / 100.0,
        "has_data": c.has_data,
        "blocker": c.score < THRESHOLDS.blocker,
        "criteria": c.criteria,
    })
}

/// The report for people: the decision, the category scores and weights,
/// the criteria table, the blockers, the reasons and the notes.
pub fn human(assessment: &Assessment, notes: &[String]) -> String {
    let mut out = String::new();
    let version = assessment.version.as_deref().map_or_else(String::new, |v| format!(" of {v}"));
    out.push_str(&format!(
        "release readiness{version}: {} (score {} of 100; GO at {}, CONDITIONAL at {}, any category under {} blocks)\n\n",
        assessment.decision.as_str(),
        assessment.score,
        THRESHOLDS.go,
        THRESHOLDS.conditional,
        THRESHOLDS.blocker
    ));
    let rows: Vec<[String; 4]> = assessment
        .categories
        .iter()
        .map(|c| {
            let mark = if c.score < THRESHOLDS.blocker { "  blocker" } else { "" };
            let no_data = if c.has_data { "" } else { " (no data)" };
            [c.spec().title.to_owned(), format!("{}%", c.weight), format!("{}{no_data}", c.score), format!("{}.{:02}{mark}", c.weight * c.score / 100, c.weight * c.score % 100)]
        })
        .collect();
    out.push_str(&table(&["category", "weight", "score", "weighted"], &rows));
    out.push_str(&format!("overall score: {}\n\n", assessment.score));
    let criteria: Vec<[String; 5]> = assessment
        .categories
        .iter()
        .flat_map(|c| {
            c.criteria.iter().map(move |r| [c.spec().title.to_owned(), r.criterion.to_owned(), r.required.clone(), r.actual.clone(), (if r.met { "yes" } else { "NO" }).to_owned()])
        })
        .collect();
    out.push_str(&table(&["category", "criterion", "required", "actual", "met"], &criteria));
    out.push('\n');
    if assessment.blockers.is_empty() {
        out.push_str("blockers: none\n");
    } else {
        out.push_str("blockers:\n");
        for b in &assessment.blockers {
            out.push_str(&format!("  - {} scored {}, under {}\n", super::score::spec(b.category).title, b.score, THRESHOLDS.blocker));
        }
    }
    out.push_str("reasons:\n");
    for r in &assessment.reasons {
        out.push_str(&format!("  - {r}\n"));
    }
    if !notes.is_empty() {
        out.push_str("notes:\n");
        for n in notes {
            out.push_str(&format!("  - {n}\n"));
        }
    }
    out
}

/// Columns padded to their widest cell, two spaces apart, no trailing blanks.
fn table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let mut widths: [usize; N] = header.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}
