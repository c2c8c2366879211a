//! Prometheus rule files, read for their alerting rules: name, place, group,
//! expression, `for`, labels and annotations.
//!
//! The shape is Prometheus's own, `groups: [{name, rules: [{alert, expr,
//! labels, annotations}]}]`; a Kubernetes `PrometheusRule` object (the same
//! groups under `spec`) is read too, and a file may hold several YAML
//! documents. Recording rules (`record:`) have no runbook and are skipped.

use std::collections::BTreeMap;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

/// An alerting rule.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub(crate) struct AlertRule {
    /// The `alert` name.
    pub(crate) name: String,
    /// The line of the `alert:` value, 1-based.
    pub(crate) line: usize,
    /// The name of the group it is in.
    pub(crate) group: String,
    /// `expr`, when it is a non-empty scalar.
    pub(crate) expr: Option<String>,
    /// `for`, as written.
    pub(crate) for_duration: Option<String>,
    /// `labels` whose values are scalars.
    pub(crate) labels: BTreeMap<String, String>,
    /// `annotations` whose values are scalars.
    pub(crate) annotations: BTreeMap<String, String>,
    /// `annotations.runbook_url`, when it is a non-empty string.
    pub(crate) runbook_url: Option<String>,
}

/// Why a file is not a rule file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RuleFileError {
    /// The bytes are not UTF-8.
    #[error("not UTF-8 text; save it as UTF-8")]
    NotUtf8,
    /// The YAML parser refused it.
    #[error("not YAML: {message} at line {line} column {column}")]
    Yaml {
        /// The parser's message.
        message: String,
        /// Where, 1-based.
        line: usize,
        /// Where, 1-based.
        column: usize,
    },
    /// It is YAML but not shaped like a rule file.
    #[error("not a Prometheus rule file: {what} at line {line}; the shape is groups: [{{name, rules: [{{alert, expr, annotations}}]}}]")]
    Shape {
        /// What is out of place.
        what: &'static str,
        /// Where, 1-based.
        line: usize,
    },
}

/// Every alerting rule of one rule file, in file order.
pub(crate) fn alert_rules(bytes: &[u8]) -> Result<Vec<AlertRule>, RuleFileError> {
    let text = std::str::from_utf8(bytes).map_err(|_| RuleFileError::NotUtf8)?;
    let documents = MarkedYaml::load_from_str(text).map_err(|e| RuleFileError::Yaml { message: e.info().to_owned(), line: e.marker().line(), column: e.marker().col() + 1 })?;
    let mut alerts = Vec::new();
    for document in documents.iter().filter(|d| !d.data.is_null()) {
        let groups = document.data.as_mapping_get("groups").or_else(|| document.data.as_mapping_get("spec").and_then(|spec| spec.data.as_mapping_get("groups")));
        let groups = groups.ok_or(RuleFileError::Shape { what: "no 'groups' list", line: line(document) })?;
        for group in sequence(groups, "'groups' is not a list")? {
            if !group.data.is_mapping() {
                return Err(RuleFileError::Shape { what: "a group is not a mapping", line: line(group) });
            }
            let name = group.data.as_mapping_get("name").and_then(scalar_text).unwrap_or_default();
            let Some(rules) = group.data.as_mapping_get("rules") else { continue };
            for rule in sequence(rules, "'rules' is not a list")? {
                alerts.extend(alert(rule)?.map(|a| AlertRule { group: name.clone(), ..a }));
            }
        }
    }
    Ok(alerts)
}

/// The items of a list; a null (`rules:` with nothing after it) is an empty list.
fn sequence<'a, 'input>(node: &'a MarkedYaml<'input>, what: &'static str) -> Result<&'a [MarkedYaml<'input>], RuleFileError> {
    match &node.data {
        YamlData::Sequence(items) => Ok(items),
        data if data.is_null() => Ok(&[]),
        _ => Err(RuleFileError::Shape { what, line: line(node) }),
    }
}

/// The alerting rule a rule node holds, if it is one.
fn alert(rule: &MarkedYaml<'_>) -> Result<Option<AlertRule>, RuleFileError> {
    if !rule.data.is_mapping() {
        return Err(RuleFileError::Shape { what: "a rule is not a mapping", line: line(rule) });
    }
    let Some(name) = rule.data.as_mapping_get("alert") else { return Ok(None) };
    let field = |key: &str| rule.data.as_mapping_get(key).and_then(scalar_text).filter(|v| !v.trim().is_empty());
    let annotations = scalars(rule.data.as_mapping_get("annotations"));
    let runbook_url = annotations.get("runbook_url").filter(|url| !url.trim().is_empty()).cloned();
    Ok(Some(AlertRule {
        name: scalar_text(name).unwrap_or_default(),
        line: line(name),
        group: String::new(),
        expr: field("expr"),
        for_duration: field("for"),
        labels: scalars(rule.data.as_mapping_get("labels")),
        annotations,
        runbook_url,
    }))
}

/// The scalar entries of a mapping (labels, annotations); anything else is empty.
fn scalars(node: Option<&MarkedYaml<'_>>) -> BTreeMap<String, String> {
    let Some(YamlData::Mapping(map)) = node.map(|n| &n.data) else { return BTreeMap::new() };
    map.iter().filter_map(|(k, v)| Some((scalar_text(k)?, scalar_text(v)?))).collect()
}

/// A scalar as the text Prometheus would read (a name such as `404` is a number to YAML).
fn scalar_text(node: &MarkedYaml<'_>) -> Option<String> {
    match &node.data {
        YamlData::Value(Scalar::String(s)) => Some(s.to_string()),
        YamlData::Value(Scalar::Integer(i)) => Some(i.to_string()),
        YamlData::Value(Scalar::FloatingPoint(f)) => Some(f.to_string()),
        YamlData::Value(Scalar::Boolean(b)) => Some(b.to_string()),
        YamlData::Tagged(_, inner) => scalar_text(inner),
        _ => None,
    }
}

/// A node's line, 1-based (the parser counts lines from 1).
fn line(node: &MarkedYaml<'_>) -> usize {
    node.span.start.line().max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &str = "groups:
  - name: orders
    rules:
      - record: job:http_requests:rate5m
        expr: sum by (job) (rate(http_requests_total[5m]))
      - alert: OrdersHighErrorRate
        expr: job:http_errors:ratio5m > 0.01
        for: 5m
        annotations:
          summary: errors
          runbook_url: docs/runbook.md#ordershigherrorrate
      - alert: OrdersLatencyP95
        expr: histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m])) > 0.3
        annotations:
          summary: slow
  - name: empty
    rules:
";

    #[test]
    fn alerts_have_names_lines_and_runbooks() {
        let alerts = alert_rules(RULES.as_bytes()).unwrap();
        let shown: Vec<(&str, usize, Option<&str>)> = alerts.iter().map(|a| (a.name.as_str(), a.line, a.runbook_url.as_deref())).collect();
        assert_eq!(shown, [("OrdersHighErrorRate", 6, Some("docs/runbook.md#ordershigherrorrate")), ("OrdersLatencyP95", 12, None)]);
        let first = &alerts[0];
        assert_eq!((first.group.as_str(), first.for_duration.as_deref(), first.expr.as_deref()), ("orders", Some("5m"), Some("job:http_errors:ratio5m > 0.01")));
        assert_eq!(first.annotations.get("summary").map(String::as_str), Some("errors"));
        assert!(alerts[1].labels.is_empty() && alerts[1].for_duration.is_none());
    }

    #[test]
    fn prometheus_rule_objects_and_several_documents_are_read() {
        let text = "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec:\n  groups:\n    - name: a\n      rules:\n        - alert: A\n---\ngroups: []\n---\n";
        let alerts = alert_rules(text.as_bytes()).unwrap();
        assert_eq!(alerts.len(), 1);
        assert_eq!((alerts[0].name.as_str(), alerts[0].line), ("A", 7));
        assert_eq!(alert_rules(b"").unwrap(), []);
    }

    #[test]
    fn bad_yaml_and_bad_shapes_are_errors_with_lines() {
        let err = alert_rules(b"groups:\n  - name: a\n   rules: [\n").unwrap_err();
        assert!(matches!(err, RuleFileError::Yaml { .. }), "{err:?}");
        assert!(err.to_string().starts_with("not YAML: "), "{err}");
        assert_eq!(alert_rules(b"rules: []\n").unwrap_err(), RuleFileError::Shape { what: "no 'groups' list", line: 1 });
        assert_eq!(alert_rules(b"groups:\n  - name: a\n    rules: {alert: x}\n").unwrap_err(), RuleFileError::Shape { what: "'rules' is not a list", line: 3 });
        assert_eq!(alert_rules(&[0xff, 0xfe]).unwrap_err(), RuleFileError::NotUtf8);
    }
}
