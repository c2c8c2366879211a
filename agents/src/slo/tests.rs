use std::collections::HashMap;

use super::*;
use response::{Data, ResponseError};
use source::{FetchError, Fetched, Request};

const VECTOR: &str = include_str!("testdata/vector.json");
const MANY: &str = include_str!("testdata/vector-many.json");
const EMPTY: &str = include_str!("testdata/vector-empty.json");
const NAN: &str = include_str!("testdata/vector-nan.json");
const INF: &str = include_str!("testdata/vector-inf.json");
const MATRIX: &str = include_str!("testdata/matrix.json");
const SCALAR: &str = include_str!("testdata/scalar.json");
const BAD_DATA: &str = include_str!("testdata/bad-data.json");

const AT: &str = "2026-11-30T12:00:00Z";

/// A deterministic source: each PromQL expression's instant answer, and
/// matrix.json for every range query.
struct Fake(HashMap<String, String>);

#[async_trait::async_trait]
impl Source for Fake {
    async fn fetch(&self, request: &Request) -> Result<Fetched, FetchError> {
        let (Request::Instant { query, .. } | Request::Range { query, .. }) = request;
        let body = match request {
            Request::Instant { .. } => self.0.get(query).cloned().unwrap_or_else(|| EMPTY.into()),
            Request::Range { .. } => MATRIX.into(),
        };
        let status = if body.contains("\"error\"") { 400 } else { 200 };
        Ok(Fetched { status, body: body.into_bytes() })
    }

    fn describe(&self) -> Value {
        json!({ "kind": "fake" })
    }
}

fn objectives(text: &str) -> Vec<Objective> {
    let table: toml::Table = toml::from_str(text).unwrap();
    objective::parse(&table["objectives"]).unwrap()
}

fn objective_error(text: &str) -> String {
    let table: toml::Table = toml::from_str(text).unwrap();
    objective::parse(&table["objectives"]).unwrap_err()
}

const AVAILABILITY: &str = "[[objectives]]\nname = \"Checkout availability\"\nkind = \"availability\"\nerrors = 'http_requests_total{code=\"500\"}'\ntotal = 'http_requests_total'\ntarget = 0.999\nwindow = \"30d\"\n";

fn at() -> Timestamp {
    Timestamp::parse(AT).unwrap()
}

/// Evaluates the objectives of `text` with `answers` (PromQL → instant body).
async fn evaluations(text: &str, answers: &[(&str, &str)]) -> Vec<Evaluation> {
    let fake = Fake(answers.iter().map(|(q, b)| ((*q).to_owned(), (*b).to_owned())).collect());
    evaluate_all(&objectives(text), at(), &fake).await
}

#[test]
fn responses_parse_into_vectors_matrices_and_scalars_with_special_floats() {
    assert_eq!(response::parse(VECTOR.as_bytes()), Ok(Data::Vector(vec![response::Series { labels: "{}".into(), points: vec![(1_796_040_000.0, 0.9995)] }])));
    let Ok(Data::Matrix(series)) = response::parse(MATRIX.as_bytes()) else { panic!("not a matrix") };
    let values: Vec<String> = series[0].points.iter().map(|(_, v)| response::text(*v)).collect();
    assert_eq!(values, ["0.9994", "NaN", "0.9995", "-Inf"]);
    assert_eq!(response::parse(SCALAR.as_bytes()), Ok(Data::Scalar((1_796_040_000.0, 42.0))));
    let Ok(Data::Vector(inf)) = response::parse(INF.as_bytes()) else { panic!("not a vector") };
    assert_eq!(inf[0].points[0].1, f64::INFINITY);
    let Ok(Data::Vector(many)) = response::parse(MANY.as_bytes()) else { panic!("not a vector") };
    assert_eq!(many[1].labels, "{code=\"500\",job=\"reports\"}");
    assert_eq!(response::parse(EMPTY.as_bytes()), Ok(Data::Vector(vec![])));
}

#[test]
fn prometheus_errors_and_bodies_that_are_not_the_api_are_told_apart() {
    assert_eq!(
        response::parse(BAD_DATA.as_bytes()),
        Err(ResponseError::Prometheus { error_type: "bad_data".into(), error: "invalid parameter \"query\": 1:31: parse error: unexpected end of input".into() })
    );
    for bad in ["<html>502</html>", "{\"status\":\"success\"}", "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"value\":[1,2]}]}}", "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"value\":[1,\"inf\"]}]}}"] {
        assert!(matches!(response::parse(bad.as_bytes()), Err(ResponseError::Malformed(_))), "{bad}");
    }
    assert_eq!(response::number("1e-3"), Some(0.001));
    assert_eq!(response::number("Infinity"), None, "Go writes +Inf, not Infinity");
}

#[test]
fn each_kind_builds_its_promql() {
    let o = &objectives(AVAILABILITY)[0];
    assert_eq!((o.stem.as_str(), o.comparison, o.threshold), ("checkout-availability", objective::Comparison::AtLeast, 0.999));
    assert_eq!(o.expressions[0].promql, "1 - (sum(rate(http_requests_total{code=\"500\"}[30d])) / sum(rate(http_requests_total[30d])))");
    let good = AVAILABILITY.replace("errors = 'http_requests_total{code=\"500\"}'", "good = 'http_requests_total{code=\"200\"}'");
    assert_eq!(objectives(&good)[0].expressions[0].promql, "sum(rate(http_requests_total{code=\"200\"}[30d])) / sum(rate(http_requests_total[30d]))");
    let errors = AVAILABILITY.replace("availability\"\n", "error_rate\"\n").replace("0.999", "0.01");
    let e = &objectives(&errors)[0];
    assert_eq!((e.comparison, e.expressions[0].promql.as_str()), (objective::Comparison::AtMost, "sum(rate(http_requests_total{code=\"500\"}[30d])) / sum(rate(http_requests_total[30d]))"));
    let latency = objectives("[[objectives]]\nname = \"p99\"\nkind = \"latency\"\nhistogram = 'lat_bucket{job=\"a\"}'\nquantile = 0.99\nthreshold_seconds = 0.25\nwindow = \"1h\"\n");
    assert_eq!(latency[0].expressions[0].promql, "histogram_quantile(0.99, sum by (le) (rate(lat_bucket{job=\"a\"}[1h])))");
    let burn = objectives("[[objectives]]\nname = \"burn\"\nkind = \"burn_rate\"\nerrors = 'e'\ntotal = 't'\ntarget = 0.999\nwindows = [\"1h\", \"5m\"]\nmax_burn_rate = 14.4\n");
    let texts: Vec<&str> = burn[0].expressions.iter().map(|e| e.promql.as_str()).collect();
    assert_eq!(texts, ["sum(rate(e[1h])) / sum(rate(t[1h]))", "sum(rate(e[5m])) / sum(rate(t[5m]))"]);
    let raw = objectives("[[objectives]]\nname = \"raw\"\nkind = \"availability\"\nquery = \" avg(up) \"\ntarget = 0.9\nwindow = \"1h\"\n");
    assert_eq!(raw[0].expressions[0].promql, "avg(up)");
}

#[test]
fn invalid_objectives_are_named_with_what_to_do() {
    let cases = [
        (AVAILABILITY.replace("total = 'http_requests_total'\n", ""), "objective 'Checkout availability': 'total' is missing"),
        (AVAILABILITY.replace("30d", "thirty days"), "'window' value 'thirty days' is not a Prometheus duration"),
        (AVAILABILITY.replace("0.999", "99.9"), "'target' must be a number above 0 and at most 1"),
        (format!("{AVAILABILITY}colour = \"red\"\n"), "objective 1 is not valid: unknown field `colour`"),
        (AVAILABILITY.replace("availability\"\n", "vibes\"\n"), "objective 1 is not valid: unknown variant `vibes`"),
        (format!("{AVAILABILITY}{}", AVAILABILITY.replace("Checkout availability", "checkout  AVAILABILITY!")), "has the same file name 'checkout-availability'"),
        (format!("{AVAILABILITY}nan = \"ignore\"\n"), "unknown variant `ignore`"),
        ("[[objectives]]\nname = \"b\"\nkind = \"burn_rate\"\nerrors = 'e'\ntotal = 't'\ntarget = 1\nwindows = [\"1h\"]\nmax_burn_rate = 14.4\n".into(), "leaves no error budget"),
    ];
    for (text, want) in cases {
        let error = objective_error(&text);
        assert!(error.contains(want), "{error:?} should contain {want:?}");
    }
    assert_eq!(objective::stem("../Checkout: p99 (EU)"), Some("checkout-p99-eu".into()));
    assert_eq!(objective::stem("—"), None);
}

#[tokio::test]
async fn values_are_held_to_their_targets() {
    let promql = objectives(AVAILABILITY)[0].expressions[0].promql.clone();
    let availability = promql.as_str();
    let met = evaluations(AVAILABILITY, &[(availability, VECTOR)]).await;
    assert_eq!((met[0].outcome, met[0].value), (Outcome::Pass, Some(0.9995)));
    assert_eq!(met[0].reason, "Checkout availability: 0.9995 >= target 0.999 over 30d");
    let strict = AVAILABILITY.replace("0.999", "0.9999");
    let missed = evaluations(&strict, &[(availability, VECTOR)]).await;
    assert_eq!(missed[0].outcome, Outcome::Fail);
    assert_eq!(missed[0].reason, "Checkout availability: 0.9995 < target 0.9999 over 30d");
    let facts = missed[0].facts();
    assert_eq!((facts["target"].as_f64(), facts["comparison"].as_str(), facts["label"].as_str()), (Some(0.9999), Some(">="), Some("availability")));
    let scalar = evaluations(AVAILABILITY, &[(availability, SCALAR)]).await;
    assert_eq!(scalar[0].outcome, Outcome::Pass, "a scalar is one value too");
}

#[tokio::test]
async fn no_data_nan_infinity_and_many_series_follow_the_rules() {
    let availability = objectives(AVAILABILITY)[0].expressions[0].promql.clone();
    let none = evaluations(AVAILABILITY, &[]).await;
    assert_eq!(none[0].outcome, Outcome::Inconclusive);
    assert!(none[0].reason.ends_with(&format!("at {AT} (no_data = inconclusive)")), "{}", none[0].reason);
    let nan = evaluations(AVAILABILITY, &[(&availability, NAN)]).await;
    assert_eq!((nan[0].outcome, nan[0].value, nan[0].value_text.as_deref()), (Outcome::Inconclusive, None, Some("NaN")));
    let zero = evaluations(&format!("{AVAILABILITY}nan = \"pass-as-zero-traffic\"\n"), &[(&availability, NAN)]).await;
    assert_eq!(zero[0].outcome, Outcome::Pass);
    assert_eq!(zero[0].facts()["nan"], "pass-as-zero-traffic");
    let inf = evaluations(AVAILABILITY, &[(&availability, INF)]).await;
    assert_eq!(inf[0].outcome, Outcome::Error, "an infinite ratio means the selectors disagree");
    let many = evaluations(AVAILABILITY, &[(&availability, MANY)]).await;
    assert_eq!(many[0].outcome, Outcome::Error);
    assert!(many[0].reason.contains("returned 2 series ({code=\"500\",job=\"checkout\"}, {code=\"500\",job=\"reports\"}) where one is needed"), "{}", many[0].reason);
    let bad = evaluations(AVAILABILITY, &[(&availability, BAD_DATA)]).await;
    assert!(bad[0].reason.contains("prometheus answered bad_data: invalid parameter"), "{}", bad[0].reason);
    let latency = "[[objectives]]\nname = \"p99\"\nkind = \"latency\"\nquery = 'q'\nquantile = 0.99\nthreshold_seconds = 0.25\nwindow = \"1h\"\n";
    let slow = evaluations(latency, &[("q", INF)]).await;
    assert_eq!((slow[0].outcome, slow[0].value_text.as_deref()), (Outcome::Fail, Some("+Inf")), "a quantile in the +Inf bucket is slower than any threshold");
}

const BURN: &str = "[[objectives]]\nname = \"burn\"\nkind = \"burn_rate\"\nerrors = 'e'\ntotal = 't'\ntarget = 0.999\nwindows = [\"1h\", \"5m\"]\nmax_burn_rate = 14.4\n";

fn ratio(value: &str) -> String {
    VECTOR.replace("0.9995", value)
}

#[tokio::test]
async fn a_burn_rate_fails_only_when_every_window_burns_too_fast() {
    let (long, short) = ("sum(rate(e[1h])) / sum(rate(t[1h]))", "sum(rate(e[5m])) / sum(rate(t[5m]))");
    let both = evaluations(BURN, &[(long, &ratio("0.02")), (short, &ratio("0.03"))]).await;
    assert_eq!(both[0].outcome, Outcome::Fail);
    assert_eq!(both[0].reason, "burn: burn rate 20 (1h), 30 (5m) exceed the maximum 14.4 in every window");
    assert!(both[0].value.is_some_and(|v| (v - 20.0).abs() < 1e-9), "the value is the slower window's burn: {:?}", both[0].value);
    let rates = &both[0].facts()["burnRates"];
    assert_eq!((rates[0]["window"].as_str(), rates[1]["errorRatio"].as_f64()), (Some("1h"), Some(0.03)));
    let one = evaluations(BURN, &[(long, &ratio("0.02")), (short, &ratio("0.001"))]).await;
    assert_eq!(one[0].outcome, Outcome::Pass, "{}", one[0].reason);
    assert!(one[0].reason.ends_with("not every window exceeds the maximum 14.4"), "{}", one[0].reason);
    let quiet = evaluations(&format!("{BURN}nan = \"pass-as-zero-traffic\"\n"), &[(long, &ratio("0.02")), (short, NAN)]).await;
    assert_eq!(quiet[0].outcome, Outcome::Pass, "a window without traffic burns nothing");
}

#[tokio::test]
async fn the_verdict_is_the_worst_outcome() {
    let two = format!("{AVAILABILITY}{}", AVAILABILITY.replace("Checkout availability", "other").replace("total = 'http_requests_total'", "total = 'other_total'"));
    let first = objectives(&two)[0].expressions[0].promql.clone();
    let second = objectives(&two)[1].expressions[0].promql.clone();
    let half = ratio("0.5");
    let cases = [
        (vec![(first.as_str(), VECTOR), (second.as_str(), VECTOR)], Verdict::Pass),
        (vec![(first.as_str(), VECTOR)], Verdict::Inconclusive),
        (vec![(first.as_str(), half.as_str()), (second.as_str(), EMPTY)], Verdict::Fail),
        (vec![(first.as_str(), half.as_str()), (second.as_str(), BAD_DATA)], Verdict::Error),
    ];
    for (answers, want) in cases {
        let (verdict, reason) = judge(&evaluations(&two, &answers).await, at());
        assert_eq!(verdict, want, "{reason}");
    }
}

#[tokio::test]
async fn the_chart_is_well_formed_svg_naming_the_objective() {
    let availability = objectives(AVAILABILITY)[0].expressions[0].promql.clone();
    let e = &evaluations(AVAILABILITY, &[(&availability, VECTOR)]).await[0];
    let svg = chart::render(&chart_of(e)).unwrap();
    let mut reader = quick_xml::Reader::from_str(&svg);
    let mut texts = String::new();
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(quick_xml::events::Event::Text(t)) => texts.push_str(&t.into_inner()),
            Ok(_) => {}
            Err(err) => panic!("the chart is not well-formed XML: {err}"),
        }
    }
    assert!(svg.starts_with("<svg"));
    for want in ["Checkout availability: pass (30d)", "target 0.999", "time (UTC) from 2026-11-29 12:00 to 2026-11-30 12:00", "12:00"] {
        assert!(texts.contains(want), "{want} is not in the chart's text: {texts}");
    }
}

fn task(dir: &std::path::Path, settings: &str) -> AgentTask {
    AgentTask::new("SLO Librarian", "slo", "P1", dir, dir, toml::from_str(settings).unwrap())
}

#[tokio::test]
async fn settings_that_cannot_work_are_missing_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("prometheus_url = \"http://127.0.0.1:9\"\n", "no objectives are configured"),
        ("prometheus_url = \"http://127.0.0.1:9\"\nobjectives = []\n", "no objectives are configured"),
        ("[[objectives]]\nname = \"a\"\nkind = \"latency\"\nquery = 'q'\nquantile = 0.9\nthreshold_seconds = 1\nwindow = \"1h\"\n", "no source is configured"),
        ("prometheus_url = \"ftp://x\"\nrecorded = \"r\"\n[[objectives]]\nname = \"a\"\nkind = \"latency\"\nquery = 'q'\nquantile = 0.9\nthreshold_seconds = 1\nwindow = \"1h\"\n", "not both"),
        ("prometheus_url = \"ftp://x\"\n[[objectives]]\nname = \"a\"\nkind = \"latency\"\nquery = 'q'\nquantile = 0.9\nthreshold_seconds = 1\nwindow = \"1h\"\n", "must be an http:// or https:// URL"),
        ("recorded = \"nowhere\"\nevaluation_time = \"2026-11-30T12:00:00Z\"\n[[objectives]]\nname = \"a\"\nkind = \"latency\"\nquery = 'q'\nquantile = 0.9\nthreshold_seconds = 1\nwindow = \"1h\"\n", "index.json cannot be read"),
        ("recorded = \"nowhere\"\nrecord_to = \"again\"\n[[objectives]]\nname = \"a\"\nkind = \"latency\"\nquery = 'q'\nquantile = 0.9\nthreshold_seconds = 1\nwindow = \"1h\"\n", "record_to records a live Prometheus"),
        ("prometheus_url = \"http://127.0.0.1:9\"\nbearer_token_env = \"CONDUCTOR_TEST_UNSET_TOKEN\"\n[[objectives]]\nname = \"a\"\nkind = \"latency\"\nquery = 'q'\nquantile = 0.9\nthreshold_seconds = 1\nwindow = \"1h\"\n", "names the environment variable CONDUCTOR_TEST_UNSET_TOKEN, which is not set"),
        ("prometheus_url = \"http://127.0.0.1:9\"\nevaluation_time = \"yesterday\"\n[[objectives]]\nname = \"a\"\nkind = \"latency\"\nquery = 'q'\nquantile = 0.9\nthreshold_seconds = 1\nwindow = \"1h\"\n", "evaluation_time: 'yesterday' is not an RFC 3339 time"),
    ];
    for (settings, want) in cases {
        let outcome = SloAgent.run(&task(dir.path(), settings)).await;
        assert_eq!(outcome.verdict, Verdict::MissingInput, "{settings}: {}", outcome.reason);
        assert!(outcome.reason.contains(want), "{:?} should contain {want:?}", outcome.reason);
    }
}

#[test]
fn credentials_never_show_in_debug_output() {
    let bearer = format!("{:?}", Auth::Bearer("s3cret".into()));
    let basic = format!("{:?}", Auth::Basic { user: "u".into(), password: "s3cret".into() });
    assert!(!bearer.contains("s3cret") && !basic.contains("s3cret"), "{bearer} {basic}");
}

fn example() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/service")
}

/// The example's own settings replay its committed recording to a pass.
#[tokio::test]
async fn the_example_recording_replays_and_asks_for_its_time() {
    let config: toml::Table = toml::from_str(&std::fs::read_to_string(example().join("conductor.toml")).unwrap()).unwrap();
    let mut settings = config["agents"]["SLO Librarian"].as_table().unwrap().clone();
    let scratch = tempfile::tempdir().unwrap();
    let task = |settings: toml::Table| AgentTask::new("SLO Librarian", "slo", "P1", &example(), scratch.path(), settings);
    let outcome = SloAgent.run(&task(settings.clone())).await;
    assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
    assert_eq!(outcome.facts["source"], json!({ "kind": "recorded", "folder": "slo/recorded", "evaluationTimeFrom": "setting" }));
    let names: Vec<&str> = outcome.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names[..2], ["slo/orders-availability.json", "slo/orders-availability.svg"]);
    settings.remove("evaluation_time");
    let timeless = SloAgent.run(&task(settings.clone())).await;
    assert_eq!(timeless.verdict, Verdict::MissingInput);
    assert!(timeless.reason.contains("set evaluation_time (the recording holds 2026-11-30T12:00:00Z)"), "{}", timeless.reason);
    settings.insert("evaluation_time".into(), "2026-11-30T13:00:00Z".into());
    let elsewhen = SloAgent.run(&task(settings)).await;
    assert_eq!(elsewhen.verdict, Verdict::Error, "a time the recording does not hold has no responses");
    assert!(elsewhen.reason.contains("holds no response for /api/v1/query with query="), "{}", elsewhen.reason);
}

/// The response reader never panics: random bytes, and every prefix of a
/// real response with random bytes spliced in, either parse or are an error.
#[test]
fn the_response_parser_survives_random_bytes() {
    for seed in 1..200u64 {
        let noise = evidence::fuzz::random_bytes(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15), (seed as usize * 37) % 700);
        let _ = response::parse(&noise);
        for body in [MATRIX, MANY, SCALAR, BAD_DATA] {
            let cut = (seed as usize * 13) % body.len();
            let mut spliced = body.as_bytes()[..cut].to_vec();
            spliced.extend_from_slice(&noise[..noise.len().min(8)]);
            spliced.extend_from_slice(&body.as_bytes()[cut..]);
            let _ = response::parse(&spliced);
            crate::fuzz::prometheus_response(&spliced);
        }
    }
}

/// A one-request HTTP server on a free loopback port: it answers `body`
/// (or nothing at all when `body` is `None`) and hands back the request it read.
async fn serve_once(body: Option<&'static str>) -> (String, tokio::task::JoinHandle<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = vec![0u8; 8192];
        let n = stream.read(&mut request).await.unwrap();
        let request = String::from_utf8_lossy(&request[..n]).into_owned();
        match body {
            Some(body) => {
                let reply = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
                stream.write_all(reply.as_bytes()).await.unwrap();
            }
            None => tokio::time::sleep(std::time::Duration::from_secs(5)).await,
        }
        request
    });
    (url, handle)
}

const ONE_QUERY: &str = "evaluation_time = \"2026-11-30T12:00:00Z\"\n[[objectives]]\nname = \"up\"\nkind = \"availability\"\nquery = 'avg(up)'\ntarget = 0.9\nwindow = \"1h\"\n";

#[tokio::test]
async fn a_bearer_token_is_sent_but_never_recorded() {
    let (url, request) = serve_once(Some(VECTOR)).await;
    let dir = tempfile::tempdir().unwrap();
    // Tests may not set variables (that is unsafe under edition 2024), so an
    // existing one stands in for the token.
    let token = std::env::var("PATH").unwrap();
    let settings = format!("prometheus_url = \"{url}/prefix/\"\nbearer_token_env = \"PATH\"\nquery_timeout_seconds = 5\n{ONE_QUERY}");
    let outcome = SloAgent.run(&task(dir.path(), &settings)).await;
    let request = request.await.unwrap();
    assert!(request.starts_with("GET /prefix/api/v1/query?query=avg%28up%29&time=2026-11-30T12%3A00%3A00Z HTTP/1.1"), "{request}");
    assert!(request.to_lowercase().contains(&format!("authorization: bearer {}", token.to_lowercase())), "{request}");
    assert_eq!(outcome.verdict, Verdict::Error, "the range query found no server: {}", outcome.reason);
    let everything = format!("{} {}", outcome.reason, outcome.facts);
    assert!(!everything.contains(&token), "the token leaked into {everything}");
}

#[tokio::test]
async fn a_query_that_outlives_its_timeout_is_an_error_saying_so() {
    let (url, _request) = serve_once(None).await;
    let dir = tempfile::tempdir().unwrap();
    let outcome = SloAgent.run(&task(dir.path(), &format!("prometheus_url = \"{url}\"\nquery_timeout_seconds = 1\n{ONE_QUERY}"))).await;
    assert_eq!(outcome.verdict, Verdict::Error);
    assert!(outcome.reason.contains("did not answer") && outcome.reason.contains("query_timeout_seconds ran out"), "{}", outcome.reason);
}
