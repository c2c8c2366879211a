//! The `cost` kind: the release's cost estimate from an Infracost JSON
//! report (`infracost breakdown --format json`, or `infracost diff`), held to
//! a monthly budget (`max_monthly_cost`) and, when the report carries the
//! previous estimate, to a largest rise (`max_increase`, a fraction such as
//! 0.1). Infracost writes amounts as decimal strings; a missing total, or no
//! budget to hold it to, never passes.

use serde_json::{Value, json};

use crate::{Agent, AgentOutcome, AgentTask, Verdict};

/// How many of the costliest resources the facts list.
const TOP_RESOURCES: usize = 10;

/// Reads the report named by `path`.
pub struct CostAgent;

#[async_trait::async_trait]
impl Agent for CostAgent {
    fn kind(&self) -> &'static str {
        "cost"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        match estimate(task) {
            Ok(outcome) | Err(outcome) => outcome,
        }
    }
}

/// What an Infracost report says.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Estimate {
    pub(crate) currency: String,
    pub(crate) total: f64,
    pub(crate) past: Option<f64>,
    pub(crate) projects: Vec<(String, Option<f64>)>,
    pub(crate) resources: Vec<(String, f64)>,
}

/// Reads an Infracost JSON report.
pub(crate) fn parse(bytes: &[u8]) -> Result<Estimate, String> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let total = amount(doc.get("totalMonthlyCost")).ok_or("no totalMonthlyCost (is it an Infracost JSON report?)")?;
    let currency = doc.get("currency").and_then(Value::as_str).unwrap_or("USD").to_owned();
    let projects: Vec<&Value> = doc.get("projects").and_then(Value::as_array).map(|p| p.iter().collect()).unwrap_or_default();
    let named = |p: &Value| p.get("name").and_then(Value::as_str).unwrap_or("(unnamed)").to_owned();
    let mut resources: Vec<(String, f64)> = projects
        .iter()
        .flat_map(|p| p.pointer("/breakdown/resources").and_then(Value::as_array).into_iter().flatten())
        .filter_map(|r| Some((r.get("name")?.as_str()?.to_owned(), amount(r.get("monthlyCost"))?)))
        .collect();
    resources.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    resources.truncate(TOP_RESOURCES);
    Ok(Estimate {
        currency,
        total,
        past: amount(doc.get("pastTotalMonthlyCost")),
        projects: projects.iter().map(|p| (named(p), amount(p.pointer("/breakdown/totalMonthlyCost")))).collect(),
        resources,
    })
}

/// A decimal string (or number) of money; null and anything else are none.
fn amount(value: Option<&Value>) -> Option<f64> {
    let v = match value? {
        Value::String(s) => s.trim().parse().ok()?,
        Value::Number(n) => n.as_f64()?,
        _ => return None,
    };
    (v.is_finite() && v >= 0.0).then_some(v)
}

fn number(task: &AgentTask, key: &str) -> Result<Option<f64>, AgentOutcome> {
    match task.settings.get(key) {
        None => Ok(None),
        Some(v) => v.as_float().or_else(|| v.as_integer().map(|i| i as f64)).filter(|n| *n >= 0.0).map(Some).ok_or_else(|| {
            AgentOutcome::missing_input(format!("'{key}' of [agents.\"{}\"] must be a number of zero or more, such as 250", task.agent))
        }),
    }
}

fn estimate(task: &AgentTask) -> Result<AgentOutcome, AgentOutcome> {
    let max = number(task, "max_monthly_cost")?;
    let max_increase = number(task, "max_increase")?;
    let (reports, parsed) = task.parse_reports("path", "an Infracost JSON report", parse)?;
    let Some(max) = max else {
        return Err(AgentOutcome::missing_input(format!("no max_monthly_cost budget is set under [agents.\"{}\"], so the estimate cannot be judged", task.agent)));
    };
    let (file, e) = (&reports[0].0, &parsed[0]);
    let increase = e.past.filter(|p| *p > 0.0).map(|p| (e.total - p) / p);
    let mut problems = Vec::new();
    if e.total > max {
        problems.push(format!("{file}: {:.2} {} a month is over the budget of {max:.2}", e.total, e.currency));
    }
    if let (Some(limit), Some(rise)) = (max_increase, increase)
        && rise > limit
    {
        problems.push(format!("{file}: the monthly cost rose {:+.1}% on the previous {:.2}, over the limit of +{:.1}%", rise * 100.0, e.past.unwrap_or_default(), limit * 100.0));
    }
    let facts = json!({
        "currency": e.currency,
        "totalMonthlyCost": e.total,
        "pastTotalMonthlyCost": e.past,
        "increase": increase,
        "maxMonthlyCost": max,
        "maxIncrease": max_increase,
        "projects": e.projects.iter().map(|(n, c)| json!({"name": n, "totalMonthlyCost": c})).collect::<Vec<_>>(),
        "topResources": e.resources.iter().map(|(n, c)| json!({"name": n, "monthlyCost": c})).collect::<Vec<_>>(),
        "problems": problems,
    });
    let (verdict, reason) = match problems.first() {
        Some(p) => (Verdict::Fail, p.clone()),
        None => (Verdict::Pass, format!("{file}: {:.2} {} a month, within the budget of {max:.2}", e.total, e.currency)),
    };
    Ok(AgentOutcome { verdict, reason, facts, files: task.report_files(&reports) })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = r#"{"version": "0.2", "currency": "EUR", "totalMonthlyCost": "204.25", "pastTotalMonthlyCost": "180", "projects": [
      {"name": "orders/preview", "breakdown": {"totalMonthlyCost": "204.25", "resources": [
        {"name": "aws_instance.app", "monthlyCost": "182.4"}, {"name": "aws_ebs_volume.data", "monthlyCost": "12.1"},
        {"name": "aws_nat_gateway.egress", "monthlyCost": "9.75"}, {"name": "aws_s3_bucket.logs", "monthlyCost": null}]}}]}"#;

    fn task(dir: &std::path::Path, extra: &str) -> AgentTask {
        std::fs::write(dir.join("infracost.json"), REPORT).unwrap();
        let settings: toml::Table = toml::from_str(&format!("path = \"infracost.json\"\n{extra}")).unwrap();
        AgentTask::new("Cost/FinOps", "cost", "P1", dir, dir, settings)
    }

    #[test]
    fn reads_totals_and_the_costliest_resources() {
        let e = parse(REPORT.as_bytes()).unwrap();
        assert_eq!((e.currency.as_str(), e.total, e.past), ("EUR", 204.25, Some(180.0)));
        assert_eq!(e.resources[0], ("aws_instance.app".to_owned(), 182.4));
        assert_eq!(e.resources.len(), 3, "a resource without a cost is left out");
        assert!(parse(b"{\"projects\": []}").unwrap_err().contains("no totalMonthlyCost"));
        assert!(parse(b"[1").is_err());
    }

    #[tokio::test]
    async fn the_budget_and_the_rise_are_held_to_their_limits() {
        let dir = tempfile::tempdir().unwrap();
        let within = CostAgent.run(&task(dir.path(), "max_monthly_cost = 250")).await;
        assert_eq!(within.verdict, Verdict::Pass, "{}", within.reason);
        let over = CostAgent.run(&task(dir.path(), "max_monthly_cost = 200")).await;
        assert_eq!(over.verdict, Verdict::Fail);
        assert_eq!(over.reason, "infracost.json: 204.25 EUR a month is over the budget of 200.00");
        let rise = CostAgent.run(&task(dir.path(), "max_monthly_cost = 250\nmax_increase = 0.1")).await;
        assert_eq!(rise.verdict, Verdict::Fail);
        assert!(rise.reason.contains("rose +13.5% on the previous 180.00, over the limit of +10.0%"), "{}", rise.reason);
        let unbudgeted = CostAgent.run(&task(dir.path(), "")).await;
        assert_eq!(unbudgeted.verdict, Verdict::MissingInput);
        assert!(unbudgeted.reason.contains("no max_monthly_cost budget is set"));
    }
}
