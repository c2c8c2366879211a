//! Scoring: seven weighted categories, each scored 0 to 100 from measurable
//! criteria, the weighted overall score, and the GO / CONDITIONAL / NO-GO
//! decision. The weights, the points of each criterion, its limit and the
//! decision thresholds are the tables below; docs/readiness.md repeats them.

use serde::Serialize;

use super::data::{BreakingChanges, CodeQuality, Dependencies, Documentation, ReleaseData, Rollback, Security, Tests};

/// A scoring category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Test results and coverage.
    Tests,
    /// Linter findings.
    CodeQuality,
    /// README, changelog, links.
    Documentation,
    /// Secrets, vulnerabilities, SAST.
    Security,
    /// Breaking changes and their explanation.
    BreakingChanges,
    /// Lock files, yanked and unpinned packages.
    Dependencies,
    /// The rollback plan.
    Rollback,
}

/// A category's place in the overall score.
#[derive(Clone, Copy, Debug)]
pub struct CategorySpec {
    /// The category.
    pub category: Category,
    /// Its name in the release data and in JSON.
    pub id: &'static str,
    /// Its name for people.
    pub title: &'static str,
    /// Its weight in percent; the weights add up to 100.
    pub weight: u32,
}

/// The categories, in report order, with their weights.
pub const CATEGORIES: [CategorySpec; 7] = [
    CategorySpec { category: Category::Tests, id: "tests", title: "tests", weight: 25 },
    CategorySpec { category: Category::CodeQuality, id: "code_quality", title: "code quality", weight: 20 },
    CategorySpec { category: Category::Documentation, id: "documentation", title: "documentation", weight: 15 },
    CategorySpec { category: Category::Security, id: "security", title: "security", weight: 15 },
    CategorySpec { category: Category::BreakingChanges, id: "breaking_changes", title: "breaking changes", weight: 10 },
    CategorySpec { category: Category::Dependencies, id: "dependencies", title: "dependencies", weight: 10 },
    CategorySpec { category: Category::Rollback, id: "rollback", title: "rollback plan", weight: 5 },
];

/// Where the decision changes.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Thresholds {
    /// The lowest overall score that is GO.
    pub go: u32,
    /// The lowest overall score that is CONDITIONAL.
    pub conditional: u32,
    /// A category scoring under this blocks the release (NO-GO).
    pub blocker: u32,
}

/// The decision thresholds.
pub const THRESHOLDS: Thresholds = Thresholds { go: 80, conditional: 60, blocker: 40 };

/// The limits the criteria hold the data to.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Lowest acceptable line coverage.
    pub min_line_coverage: f64,
    /// Most flaky tests accepted.
    pub max_flaky: u64,
    /// Most lint warnings accepted.
    pub max_lint_warnings: u64,
}

/// The limits.
pub const LIMITS: Limits = Limits { min_line_coverage: 0.80, max_flaky: 2, max_lint_warnings: 10 };

/// One criterion: the points it is worth within its category.
#[derive(Clone, Copy, Debug)]
pub struct CriterionSpec {
    /// The category it belongs to.
    pub category: Category,
    /// A stable kebab-case id.
    pub id: &'static str,
    /// What it checks, for people.
    pub title: &'static str,
    /// Points it adds to its category when met; each category's add up to 100.
    pub points: u32,
}

const fn criterion(category: Category, id: &'static str, title: &'static str, points: u32) -> CriterionSpec {
    CriterionSpec { category, id, title, points }
}

/// Every criterion, by category.
pub const CRITERIA: [CriterionSpec; 20] = [
    criterion(Category::Tests, "tests-ran", "tests ran", 10),
    criterion(Category::Tests, "no-failing-tests", "failing tests", 40),
    criterion(Category::Tests, "few-flaky-tests", "flaky tests", 20),
    criterion(Category::Tests, "line-coverage", "line coverage", 30),
    criterion(Category::CodeQuality, "no-lint-errors", "lint errors", 60),
    criterion(Category::CodeQuality, "few-lint-warnings", "lint warnings", 40),
    criterion(Category::Documentation, "readme", "README present", 30),
    criterion(Category::Documentation, "changelog-mentions-version", "changelog mentions the version", 40),
    criterion(Category::Documentation, "no-broken-links", "broken links", 30),
    criterion(Category::Security, "no-secrets", "secrets", 40),
    criterion(Category::Security, "no-critical-vulnerabilities", "critical or unrated vulnerabilities", 30),
    criterion(Category::Security, "no-high-vulnerabilities", "high vulnerabilities", 10),
    criterion(Category::Security, "no-sast-errors", "SAST errors", 20),
    criterion(Category::BreakingChanges, "breaking-changes-documented", "breaking changes documented", 50),
    criterion(Category::BreakingChanges, "migration-guide", "migration guide", 50),
    criterion(Category::Dependencies, "lockfiles-consistent", "lock files consistent", 50),
    criterion(Category::Dependencies, "no-yanked", "yanked packages", 30),
    criterion(Category::Dependencies, "no-unpinned", "unpinned requirements", 20),
    criterion(Category::Rollback, "rollback-plan", "rollback procedure documented", 60),
    criterion(Category::Rollback, "rollback-tested", "rollback procedure tested", 40),
];

/// The go/no-go decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Decision {
    /// Ready: the score is at least [`Thresholds::go`] and nothing blocks.
    #[serde(rename = "GO")]
    Go,
    /// Ready only with the shortfalls mitigated; not a pass.
    #[serde(rename = "CONDITIONAL")]
    Conditional,
    /// Not ready.
    #[serde(rename = "NO-GO")]
    NoGo,
}

impl Decision {
    /// As the report writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Go => "GO",
            Decision::Conditional => "CONDITIONAL",
            Decision::NoGo => "NO-GO",
        }
    }
}

/// An overall score in hundredths of a point (0 to 10000), so that the
/// weighted sum is exact and the thresholds compare without rounding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Score(pub u32);

impl Score {
    /// The score as a number from 0 to 100.
    pub fn value(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

impl std::fmt::Display for Score {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// How one criterion came out.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CriterionResult {
    /// The criterion's id.
    pub id: &'static str,
    /// What it checks.
    pub criterion: &'static str,
    /// What it requires, in words.
    pub required: String,
    /// What the data says, or `no data`.
    pub actual: String,
    /// Whether it was met.
    pub met: bool,
    /// The points it is worth.
    pub points: u32,
}

/// How one category came out.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CategoryResult {
    /// The category.
    pub category: Category,
    /// Its weight in percent.
    pub weight: u32,
    /// Its score, 0 to 100: the points of the criteria met.
    pub score: u32,
    /// Whether the release data has the category at all.
    pub has_data: bool,
    /// Its criteria.
    pub criteria: Vec<CriterionResult>,
}

impl CategoryResult {
    /// The category's table entry.
    pub fn spec(&self) -> CategorySpec {
        spec(self.category)
    }
}

/// The table entry of a category.
pub fn spec(category: Category) -> CategorySpec {
    // Every category has an entry, so the fallback is never taken.
    CATEGORIES.iter().copied().find(|s| s.category == category).unwrap_or(CATEGORIES[0])
}

/// A category under the blocker threshold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Blocker {
    /// The category.
    pub category: Category,
    /// Its score.
    pub score: u32,
}

/// A complete readiness assessment.
#[derive(Clone, Debug, PartialEq)]
pub struct Assessment {
    /// The version assessed, when the data names it.
    pub version: Option<String>,
    /// Every category, in table order.
    pub categories: Vec<CategoryResult>,
    /// The weighted overall score.
    pub score: Score,
    /// Categories under the blocker threshold.
    pub blockers: Vec<Blocker>,
    /// The decision.
    pub decision: Decision,
    /// Why, one sentence each: the decision first, then every unmet criterion.
    pub reasons: Vec<String>,
}

/// The weighted score, the blockers and the decision from category scores.
pub fn decide(scores: &[(Category, u32)]) -> (Score, Vec<Blocker>, Decision) {
    let total = scores.iter().map(|(c, s)| spec(*c).weight * (*s).min(100)).sum::<u32>();
    let score = Score(total);
    let blockers: Vec<Blocker> =
        scores.iter().filter(|(_, s)| *s < THRESHOLDS.blocker).map(|(category, score)| Blocker { category: *category, score: *score }).collect();
    let decision = if !blockers.is_empty() || score.0 < THRESHOLDS.conditional * 100 {
        Decision::NoGo
    } else if score.0 < THRESHOLDS.go * 100 {
        Decision::Conditional
    } else {
        Decision::Go
    };
    (score, blockers, decision)
}

/// Scores release data.
pub fn assess(data: &ReleaseData) -> Assessment {
    let categories: Vec<CategoryResult> = CATEGORIES.iter().map(|s| category(data, s)).collect();
    let scores: Vec<(Category, u32)> = categories.iter().map(|c| (c.category, c.score)).collect();
    let (score, blockers, decision) = decide(&scores);
    let mut reasons = vec![decision_reason(score, &blockers, decision)];
    for c in &categories {
        let title = c.spec().title;
        if !c.has_data {
            reasons.push(format!("{title}: no data"));
            continue;
        }
        for r in c.criteria.iter().filter(|r| !r.met) {
            reasons.push(format!("{title}: {}: {} (required {})", r.criterion, r.actual, r.required));
        }
    }
    Assessment { version: data.version.clone(), categories, score, blockers, decision, reasons }
}

fn decision_reason(score: Score, blockers: &[Blocker], decision: Decision) -> String {
    let t = THRESHOLDS;
    if !blockers.is_empty() {
        let named: Vec<String> = blockers.iter().map(|b| format!("{} {}", spec(b.category).title, b.score)).collect();
        return format!("NO-GO: score {score}, blocked by {} under {}: {}", plural(blockers.len(), "category", "categories"), t.blocker, named.join(", "));
    }
    match decision {
        Decision::Go => format!("GO: score {score} is at least {} and no category is under {}", t.go, t.blocker),
        Decision::Conditional => format!("CONDITIONAL: score {score} is under {} (GO) but at least {}", t.go, t.conditional),
        Decision::NoGo => format!("NO-GO: score {score} is under {}", t.conditional),
    }
}

fn plural(n: usize, one: &'static str, many: &'static str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What a criterion's check found: `None` when the data needed is missing.
type Found = Option<(String, bool)>;

fn category(data: &ReleaseData, spec: &CategorySpec) -> CategoryResult {
    let (has_data, checks) = checks(data, spec.category);
    let criteria: Vec<CriterionResult> = CRITERIA
        .iter()
        .filter(|c| c.category == spec.category)
        .zip(checks)
        .map(|(c, (required, found))| {
            let (actual, met) = if has_data { found.unwrap_or_else(|| ("no data".into(), false)) } else { ("no data".into(), false) };
            CriterionResult { id: c.id, criterion: c.title, required, actual, met, points: c.points }
        })
        .collect();
    let score = criteria.iter().filter(|c| c.met).map(|c| c.points).sum();
    CategoryResult { category: spec.category, weight: spec.weight, score, has_data, criteria }
}

/// A criterion's requirement in words and what the data says.
type Check = (String, Found);

/// Each criterion of a category in [`CRITERIA`] order, and whether the data
/// has the category at all (a missing one is checked as if empty, so its
/// requirements still show).
fn checks(data: &ReleaseData, category: Category) -> (bool, Vec<Check>) {
    fn with<T: Default + Clone>(part: &Option<T>, check: fn(&T) -> Vec<Check>) -> (bool, Vec<Check>) {
        (part.is_some(), check(&part.clone().unwrap_or_default()))
    }
    match category {
        Category::Tests => with(&data.tests, tests),
        Category::CodeQuality => with(&data.code_quality, code_quality),
        Category::Documentation => with(&data.documentation, documentation),
        Category::Security => with(&data.security, security),
        Category::BreakingChanges => with(&data.breaking_changes, breaking_changes),
        Category::Dependencies => with(&data.dependencies, dependencies),
        Category::Rollback => with(&data.rollback, rollback),
    }
}

fn tests(t: &Tests) -> Vec<Check> {
    vec![
        ("at least 1 test".into(), t.total.map(|n| (ran_text(n, t.passed), n >= 1))),
        ("0 failing".into(), t.failed.map(|n| (format!("{n} failing"), n == 0))),
        (format!("at most {}", LIMITS.max_flaky), t.flaky.map(|n| (format!("{n} flaky"), n <= LIMITS.max_flaky))),
        (format!("at least {}", percent(LIMITS.min_line_coverage)), t.line_coverage.map(|f| (percent(f.get()), f.get() >= LIMITS.min_line_coverage))),
    ]
}

fn code_quality(q: &CodeQuality) -> Vec<Check> {
    let warnings = q.lint_warnings.map(|n| (n.to_string(), n <= LIMITS.max_lint_warnings));
    vec![("0".into(), zero(q.lint_errors)), (format!("at most {}", LIMITS.max_lint_warnings), warnings)]
}

fn documentation(d: &Documentation) -> Vec<Check> {
    vec![("yes".into(), yes(d.readme)), ("yes".into(), yes(d.changelog_mentions_version)), ("0".into(), zero(d.broken_links))]
}

fn security(s: &Security) -> Vec<Check> {
    [s.secrets, s.critical_vulnerabilities, s.high_vulnerabilities, s.sast_errors].into_iter().map(|n| ("0".into(), zero(n))).collect()
}

fn breaking_changes(b: &BreakingChanges) -> Vec<Check> {
    // With no breaking changes there is nothing to document or migrate.
    let when = |answer: Option<bool>| match b.count {
        None => None,
        Some(0) => Some(("no breaking changes".into(), true)),
        Some(n) => answer.map(|a| (format!("{} for {n} breaking", if a { "yes" } else { "no" }), a)),
    };
    let required = "yes, when there are breaking changes";
    vec![(required.into(), when(b.documented)), (required.into(), when(b.migration_guide))]
}

fn dependencies(d: &Dependencies) -> Vec<Check> {
    vec![("yes".into(), yes(d.lockfiles_consistent)), ("0".into(), zero(d.yanked)), ("0".into(), zero(d.unpinned))]
}

fn rollback(r: &Rollback) -> Vec<Check> {
    vec![("yes".into(), yes(r.plan)), ("yes".into(), yes(r.tested))]
}

fn yes(answer: Option<bool>) -> Found {
    answer.map(|a| ((if a { "yes" } else { "no" }).into(), a))
}

fn zero(n: Option<u64>) -> Found {
    n.map(|n| (n.to_string(), n == 0))
}

fn ran_text(total: u64, passed: Option<u64>) -> String {
    match passed {
        Some(p) => format!("{total} ({p} passed)"),
        None => total.to_string(),
    }
}

fn percent(fraction: f64) -> String {
    // One decimal is what a coverage figure is quoted with.
    format!("{:.1}%", fraction * 100.0)
}

#[cfg(test)]
mod tests {
    use super::super::data::Fraction;
    use super::*;

    fn all(score: u32) -> Vec<(Category, u32)> {
        CATEGORIES.iter().map(|s| (s.category, score)).collect()
    }

    fn with(mut scores: Vec<(Category, u32)>, category: Category, score: u32) -> Vec<(Category, u32)> {
        scores.iter_mut().filter(|(c, _)| *c == category).for_each(|(_, s)| *s = score);
        scores
    }

    #[test]
    fn the_tables_add_up() {
        assert_eq!(CATEGORIES.iter().map(|c| c.weight).sum::<u32>(), 100);
        for spec in CATEGORIES {
            let points: u32 = CRITERIA.iter().filter(|c| c.category == spec.category).map(|c| c.points).sum();
            assert_eq!(points, 100, "{} criteria", spec.id);
        }
    }

    #[test]
    fn eighty_is_go_and_seventy_nine_is_conditional() {
        assert_eq!(decide(&all(80)), (Score(8000), vec![], Decision::Go));
        assert_eq!(decide(&all(79)).2, Decision::Conditional);
        // 79.95: just under the line is still under it.
        let just_under = with(with(all(80), Category::Tests, 79), Category::Rollback, 81);
        assert_eq!(decide(&just_under).0, Score(7980));
        assert_eq!(decide(&just_under).2, Decision::Conditional);
    }

    #[test]
    fn sixty_is_conditional_and_fifty_nine_is_no_go() {
        assert_eq!(decide(&all(60)).2, Decision::Conditional);
        assert_eq!(decide(&all(59)), (Score(5900), vec![], Decision::NoGo));
    }

    #[test]
    fn a_category_at_39_blocks_even_an_overall_95() {
        let scores = with(all(100), Category::Rollback, 39);
        let (score, blockers, decision) = decide(&scores);
        assert!(score >= Score(9500), "{score}");
        assert_eq!(blockers, vec![Blocker { category: Category::Rollback, score: 39 }]);
        assert_eq!(decision, Decision::NoGo);
        assert_eq!(decide(&with(all(100), Category::Rollback, 40)).2, Decision::Go, "40 is not under 40");
    }

    #[test]
    fn a_missing_category_scores_zero_with_no_data() {
        let data = ReleaseData { tests: Some(Tests { total: Some(10), passed: Some(10), failed: Some(0), flaky: Some(0), line_coverage: Fraction::try_from(0.9).ok() }), ..ReleaseData::default() };
        let a = assess(&data);
        let docs = a.categories.iter().find(|c| c.category == Category::Documentation).unwrap();
        assert_eq!((docs.score, docs.has_data), (0, false));
        assert!(docs.criteria.iter().all(|c| c.actual == "no data" && !c.met));
        assert!(a.reasons.contains(&"documentation: no data".to_owned()), "{:?}", a.reasons);
        assert_eq!(a.categories[0].score, 100);
        assert_eq!(a.decision, Decision::NoGo);
        assert_eq!(a.blockers.len(), 6);
    }

    #[test]
    fn a_missing_field_fails_only_its_criterion() {
        let data = ReleaseData { code_quality: Some(CodeQuality { lint_errors: Some(0), lint_warnings: None }), ..ReleaseData::default() };
        let quality = &assess(&data).categories[1];
        assert_eq!(quality.score, 60);
        assert_eq!(quality.criteria[1].actual, "no data");
    }

    #[test]
    fn no_breaking_changes_needs_no_guide_but_some_do() {
        let none = ReleaseData { breaking_changes: Some(BreakingChanges { count: Some(0), documented: None, migration_guide: None }), ..ReleaseData::default() };
        assert_eq!(assess(&none).categories[4].score, 100);
        let two = ReleaseData { breaking_changes: Some(BreakingChanges { count: Some(2), documented: Some(true), migration_guide: None }), ..ReleaseData::default() };
        let c = &assess(&two).categories[4];
        assert_eq!(c.score, 50);
        assert_eq!(c.criteria[1].actual, "no data");
    }

    #[test]
    fn coverage_at_the_limit_meets_it() {
        let at = |rate: f64| {
            let tests = Tests { total: Some(1), passed: Some(1), failed: Some(0), flaky: Some(3), line_coverage: Fraction::try_from(rate).ok() };
            assess(&ReleaseData { tests: Some(tests), ..ReleaseData::default() }).categories[0].score
        };
        assert_eq!(at(0.80), 80, "80% meets, 3 flaky do not");
        assert_eq!(at(0.7999), 50);
    }
}
