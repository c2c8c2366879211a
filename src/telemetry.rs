//! Logs, traces and metrics. Logs go to standard error as readable text, or
//! as JSON lines with `--log-format json`, each carrying the release it is
//! about; `CONDUCTOR_LOG` filters them (default `info`). When
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, the same spans (one per phase,
//! agent, gate and promotion step, with the release's version, commit and
//! environment) and the gate and duration metrics go there over OTLP
//! (HTTP, protobuf).

use std::time::{Duration, Instant};

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::cli::LogFormat;
use crate::phases::Phase;
use crate::run::{PhaseReport, RunObserver};

/// How long shutting down may wait for the last export.
const FLUSH: Duration = Duration::from_secs(5);

/// The exporters, flushed when the program ends.
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
    metrics: Option<SdkMeterProvider>,
}

impl Telemetry {
    /// Installs the logger and, when OTLP is configured, the exporters.
    pub fn init(format: LogFormat) -> Self {
        let filter = tracing_subscriber::EnvFilter::try_from_env("CONDUCTOR_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,conductor=info"));
        let logs = match format {
            LogFormat::Text => tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_target(false).compact().boxed(),
            LogFormat::Json => tracing_subscriber::fmt::layer().json().with_writer(std::io::stderr).with_current_span(false).with_span_list(true).flatten_event(true).boxed(),
        };
        let (traces, metrics, problem) = match std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT") {
            Some(_) => exporters(),
            None => (None, None, None),
        };
        let tracing = traces.as_ref().map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("conductor")));
        // A second initialisation (only in tests of this module) keeps the first subscriber.
        let _ = tracing_subscriber::registry().with(filter).with(logs).with(tracing).try_init();
        if let Some(p) = &metrics {
            opentelemetry::global::set_meter_provider(p.clone());
        }
        if let Some(why) = problem {
            tracing::warn!("OTLP export is off: {why}");
        }
        Self { traces, metrics }
    }

    /// Exports what is left; called once the command is done, off any async runtime.
    pub fn shutdown(self) {
        if let Some(t) = self.traces {
            let _ = t.shutdown_with_timeout(FLUSH);
        }
        if let Some(m) = self.metrics {
            let _ = m.shutdown_with_timeout(FLUSH);
        }
    }
}

fn exporters() -> (Option<SdkTracerProvider>, Option<SdkMeterProvider>, Option<String>) {
    let resource = Resource::builder().with_service_name("conductor").build();
    let spans = opentelemetry_otlp::SpanExporter::builder().with_http().build();
    let metrics = opentelemetry_otlp::MetricExporter::builder().with_http().build();
    match (spans, metrics) {
        (Ok(spans), Ok(metrics)) => (
            Some(SdkTracerProvider::builder().with_resource(resource.clone()).with_batch_exporter(spans).build()),
            Some(SdkMeterProvider::builder().with_resource(resource).with_periodic_exporter(metrics).build()),
            None,
        ),
        (Err(e), _) | (_, Err(e)) => (None, None, Some(e.to_string())),
    }
}

/// The span every other span of a command about a release sits in.
pub fn release_span(command: &str, binding: &evidence::record::ReleaseBinding) -> tracing::Span {
    tracing::info_span!("release", command, release.version = %binding.version, release.commit = %binding.commit, release.environment = %binding.environment)
}

/// The metrics the conductor keeps.
struct Meters {
    gates: Counter<u64>,
    agent_seconds: Histogram<f64>,
    phase_seconds: Histogram<f64>,
}

impl Meters {
    fn new() -> Self {
        let meter = opentelemetry::global::meter("conductor");
        Self {
            gates: meter.u64_counter("conductor.gate.decisions").with_description("gate decisions by gate and outcome").build(),
            agent_seconds: meter.f64_histogram("conductor.agent.duration").with_unit("s").with_description("how long each agent's check took").build(),
            phase_seconds: meter.f64_histogram("conductor.phase.duration").with_unit("s").with_description("how long each phase took").build(),
        }
    }
}

/// Watches a run for spans, logs and metrics, passing every event on to `inner`.
pub struct Traced<'a> {
    inner: &'a mut dyn RunObserver,
    meters: Meters,
    phase: Option<(tracing::Span, String, Instant)>,
    agents: Vec<(String, tracing::Span, Instant)>,
}

impl<'a> Traced<'a> {
    /// Wraps `inner`.
    pub fn new(inner: &'a mut dyn RunObserver) -> Self {
        Self { inner, meters: Meters::new(), phase: None, agents: Vec::new() }
    }
}

impl RunObserver for Traced<'_> {
    fn phase_started(&mut self, phase: &Phase, agents: usize) {
        let span = tracing::info_span!("phase", phase = %phase.id, name = %phase.name, agents);
        tracing::info!(parent: &span, "phase {} {} started with {agents} agents", phase.id, phase.name);
        self.agents = phase.agents().into_iter().map(|a| (a.to_owned(), tracing::info_span!(parent: &span, "agent", agent = a, phase = %phase.id), Instant::now())).collect();
        self.phase = Some((span, phase.id.clone(), Instant::now()));
        self.inner.phase_started(phase, agents);
    }

    fn agent_done(&mut self, agent: &str, verdict: agents::Verdict) {
        let verdict_text = serde_json::to_value(verdict).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        if let Some(i) = self.agents.iter().position(|(a, _, _)| a == agent) {
            let (name, span, started) = self.agents.remove(i);
            tracing::info!(parent: &span, verdict = %verdict_text, "agent {name}: {verdict_text}");
            let phase = self.phase.as_ref().map(|p| p.1.clone()).unwrap_or_default();
            self.meters.agent_seconds.record(started.elapsed().as_secs_f64(), &[KeyValue::new("agent", name), KeyValue::new("phase", phase), KeyValue::new("verdict", verdict_text)]);
        }
        self.inner.agent_done(agent, verdict);
    }

    fn phase_done(&mut self, report: &PhaseReport) {
        // Agents that never answered end with the phase.
        self.agents.clear();
        if let Some((span, phase, started)) = self.phase.take() {
            for (gate, decision) in &report.gates {
                let g = tracing::info_span!(parent: &span, "gate", gate = %gate, phase = %phase, passed = decision.passed, reasons = decision.reasons.len());
                let state = if decision.passed { "passed" } else { "failed" };
                tracing::info!(parent: &g, "gate {phase}/{gate} {state}{}", decision.reasons.first().map(|r| format!(": {r}")).unwrap_or_default());
                self.meters.gates.add(1, &[KeyValue::new("gate", gate.clone()), KeyValue::new("phase", phase.clone()), KeyValue::new("passed", decision.passed)]);
            }
            if let Some(why) = &report.refused {
                tracing::warn!(parent: &span, "phase {phase} refused: {why}");
            }
            self.meters.phase_seconds.record(started.elapsed().as_secs_f64(), &[KeyValue::new("phase", phase)]);
        }
        self.inner.phase_done(report);
    }
}
