//! The command-line grammar.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Evidence-first release conductor: signed, hash-chained evidence for every
/// release gate, sealed into packs that auditors verify offline.
#[derive(Debug, Parser)]
#[command(name = "conductor", version, about, long_about = None)]
pub struct Cli {
    /// How logs on standard error look: readable text, or JSON lines carrying the release.
    #[arg(long, value_enum, global = true, default_value = "text")]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The shape of the logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One readable line per event.
    Text,
    /// One JSON object per event, with the release's version, commit and environment.
    Json,
}

/// The verbs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a signing key pair: <OUT>.key (private, PKCS#8 or cosign PEM) and <OUT>.pub (SPKI PEM).
    Keygen(KeygenArgs),
    /// Start a release of the current git repository, bound to version, commit and environment.
    Init(InitArgs),
    /// Append one signed record whose evidence file is stored by digest.
    Attest(AttestArgs),
    /// List the records of the current release.
    Log(LogArgs),
    /// Seal the ledger into a deterministic evidence pack.
    Pack(PackArgs),
    /// Write the release report: Markdown (reports/release-<version>.md) or
    /// the self-contained HTML page every pack holds as index.html.
    Report(ReportArgs),
    /// Verify a pack offline against a trust root.
    Verify(VerifyArgs),
    /// Move a torn last record (left by a killed writer) aside so the ledger can continue.
    Repair,
    /// Check the signed access log beside the packs and list who read what, when and why.
    AccessLog(AccessLogArgs),
    /// Show the phases in run order, their gates and the agents that feed them.
    Plan(PlanArgs),
    /// Run phases: agents do their checks, gates decide, everything is recorded.
    Run(RunArgs),
    /// The latest decision of every gate, with its reasons.
    Status(StatusArgs),
    /// Check, without running agents, that a phase could run: configuration,
    /// inputs, policies and their tests, keys, agent kinds.
    Validate(ValidateArgs),
    /// Scan a work tree, the lines added since a ref, or all of git history
    /// for plaintext credentials: exit 0 clean, 1 secrets found, 2 bad input.
    ScanSecrets(ScanSecretsArgs),
    /// Write the software bill of materials of the repository in the
    /// current folder, built from its lock files.
    Sbom(SbomArgs),
    /// The seven pre-flight checks of a release branch: in sync with the remote
    /// base, merges cleanly, clean tree, no secrets, credentials ignored,
    /// Conventional Commits since the last tag, lock files match manifests.
    Preflight(PreflightArgs),
    /// Append a signed approval or rejection of the current release by a
    /// member of a trust-root role (the change advisory board).
    Approve(ApproveArgs),
    /// The approvals matrix: roles by approvers, decisions, reasons, times and
    /// whether each quorum is met, from the current release or a pack.
    Cab(CabArgs),
    /// Promote the current release: verify its pack, require every gate and
    /// approval, then take traffic in the configured canary steps.
    Promote(PromoteArgs),
    /// Score a release's readiness from a release data file (schema
    /// conductor/release-data/v1): exit 0 GO, 1 CONDITIONAL or NO-GO, 2 bad input.
    Readiness(ReadinessArgs),
    /// The next semantic version from the Conventional Commits since the last
    /// release tag, written into the project's manifests unless --dry-run.
    Version(VersionArgs),
    /// Keep a Changelog release notes from Conventional Commits, by release tag.
    Changelog(ChangelogArgs),
    /// Run agents for any release that asks for them over NATS JetStream,
    /// signing each outcome with this worker's key.
    Worker(WorkerArgs),
    /// Work with the gate policies (built-in and the repository's `policies/`).
    Policy {
        /// What to do with them.
        #[command(subcommand)]
        action: PolicyAction,
    },
}

/// Key algorithms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KeyAlgorithm {
    /// Ed25519 (default); signs records, manifests and checkpoints.
    Ed25519,
    /// ECDSA P-256 in the cosign key format.
    EcdsaP256,
}

/// `conductor keygen`.
#[derive(Debug, clap::Args)]
pub struct KeygenArgs {
    /// Path prefix: writes <OUT>.key and <OUT>.pub.
    #[arg(long)]
    pub out: PathBuf,
    /// Signature algorithm.
    #[arg(long, value_enum, default_value = "ed25519")]
    pub algorithm: KeyAlgorithm,
    /// Write the private key unencrypted.
    #[arg(long)]
    pub no_encrypt: bool,
}

/// `conductor init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The version to release, such as v1.0.0.
    #[arg(long)]
    pub version: String,
    /// The notary's private key (Ed25519), which signs records and seals packs.
    #[arg(long)]
    pub key: PathBuf,
    /// The commit to release (default: HEAD).
    #[arg(long)]
    pub commit: Option<String>,
    /// The target environment.
    #[arg(long = "env", default_value = "prod")]
    pub environment: String,
}

/// `conductor attest`.
#[derive(Debug, clap::Args)]
pub struct AttestArgs {
    /// The phase the evidence belongs to, such as P1.
    #[arg(long)]
    pub phase: String,
    /// The kind of evidence, such as junit or sbom.
    #[arg(long = "type")]
    pub record_type: String,
    /// The evidence file (streamed, stored by digest).
    #[arg(long)]
    pub file: PathBuf,
    /// Files the evidence is about (named with their SHA-256 as statement subjects).
    #[arg(long)]
    pub subject: Vec<PathBuf>,
}

/// `conductor log`.
#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `conductor pack`.
#[derive(Debug, clap::Args)]
pub struct PackArgs {
    /// Where to write the pack (default: evidence-<version>.zip).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `conductor report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Write the HTML page instead of Markdown.
    #[arg(long)]
    pub html: bool,
    /// Where to write it (default: reports/release-<version>.md, or release-<version>.html with --html).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// A board member's decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DecisionArg {
    /// Approve the release.
    Approve,
    /// Reject it.
    Reject,
}

/// `conductor approve`.
#[derive(Debug, clap::Args)]
pub struct ApproveArgs {
    /// The trust-root role to act in, such as cab.
    #[arg(long)]
    pub role: String,
    /// The approver's own private key.
    #[arg(long)]
    pub key: PathBuf,
    /// Approve or reject.
    #[arg(long, value_enum)]
    pub decision: DecisionArg,
    /// Why, in a sentence the board will read.
    #[arg(long)]
    pub reason: String,
    /// The trust root that defines the role (default: trust.toml in the repository).
    #[arg(long)]
    pub trust: Option<PathBuf>,
}

/// `conductor cab`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("format").args(["json", "md"]))]
pub struct CabArgs {
    /// A pack whose approvals_matrix.json to show (default: the current release's ledger).
    pub pack: Option<PathBuf>,
    /// Print the matrix as JSON.
    #[arg(long)]
    pub json: bool,
    /// Print the matrix as Markdown, for the board's minutes.
    #[arg(long)]
    pub md: bool,
    /// The trust root (default: trust.toml in the repository).
    #[arg(long)]
    pub trust: Option<PathBuf>,
}

/// `conductor promote`.
#[derive(Debug, clap::Args)]
pub struct PromoteArgs {
    /// The release's pack (default: evidence-<version>.zip).
    #[arg(long)]
    pub pack: Option<PathBuf>,
    /// The operator's trust root (default: trust.toml in the repository).
    #[arg(long)]
    pub trust: Option<PathBuf>,
    /// One canary step of this percent instead of the configured steps.
    #[arg(long, value_name = "PERCENT")]
    pub canary: Option<u8>,
    /// Check the preconditions, show the plan and run the analysis once,
    /// without moving traffic.
    #[arg(long, conflicts_with = "resume")]
    pub dry_run: bool,
    /// Continue or abort a paused promotion on a signed decision.
    #[arg(long, requires_all = ["decision", "key", "reason"])]
    pub resume: bool,
    /// The decision on a paused promotion.
    #[arg(long, value_enum, requires = "resume")]
    pub decision: Option<ResumeDecision>,
    /// The decider's private key, which signs the decision (a trust-root key).
    #[arg(long, requires = "resume")]
    pub key: Option<PathBuf>,
    /// Why, for the record.
    #[arg(long, requires = "resume")]
    pub reason: Option<String>,
    /// The version being promoted (default: the current release's).
    #[arg(long)]
    pub version: Option<String>,
    /// The commit being deployed (default: the current release's).
    #[arg(long)]
    pub commit: Option<String>,
    /// The environment it goes to (default: the current release's).
    #[arg(long = "env")]
    pub environment: Option<String>,
    /// Print the decision as JSON.
    #[arg(long)]
    pub json: bool,
}

/// What a human decides about a paused promotion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ResumeDecision {
    /// Take the next step.
    Continue,
    /// Roll back.
    Abort,
}

impl ResumeDecision {
    /// As recorded.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Continue => "continue",
            Self::Abort => "abort",
        }
    }
}

/// SBOM formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SbomFormat {
    /// CycloneDX 1.6 JSON.
    Cyclonedx,
    /// SPDX 2.3 JSON.
    Spdx,
}

/// `conductor sbom`.
#[derive(Debug, clap::Args)]
pub struct SbomArgs {
    /// Write the document to this file (atomically) instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The document format.
    #[arg(long, value_enum, default_value = "cyclonedx")]
    pub format: SbomFormat,
    /// A lock file to read (repeatable; default: those at the repository root).
    #[arg(long = "lockfile", value_name = "PATH")]
    pub lockfiles: Vec<PathBuf>,
}

/// `conductor policy` actions.
#[derive(Debug, Subcommand)]
pub enum PolicyAction {
    /// Run every `test_*` rule of every `*_test.rego`.
    Test,
}

/// `conductor run`: which phases.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["phase", "all", "through"]))]
pub struct RunArgs {
    /// Run one phase.
    #[arg(long)]
    pub phase: Option<String>,
    /// Run every phase in order.
    #[arg(long)]
    pub all: bool,
    /// Run every phase up to and including this one.
    #[arg(long)]
    pub through: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Dispatch agent tasks through NATS JetStream at this address
    /// (`nats://HOST:PORT`) to `conductor worker`s instead of running them
    /// in-process. Credentials come from CONDUCTOR_NATS_* variables.
    #[arg(long, value_name = "URL")]
    pub bus: Option<String>,
    /// With --bus: how long past an agent's timeout to wait for its result
    /// (a dead worker's task is redelivered meanwhile) before failing it.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub task_grace: u64,
}

/// `conductor worker`.
#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// The NATS server (`nats://HOST:PORT`). Credentials come from
    /// CONDUCTOR_NATS_* variables, never from the URL.
    #[arg(long, value_name = "URL")]
    pub bus: String,
    /// Roster names or agent kinds to serve, separated by commas; a kind
    /// stands for every roster agent of that kind.
    #[arg(long, value_delimiter = ',', required = true)]
    pub agents: Vec<String>,
    /// The worker's private key; its public key goes into the verifier's
    /// trust.toml with the `kinds` it may attest.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The folder agents run in and whose roster names the agents.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// Tasks run at once.
    #[arg(long, default_value_t = 4)]
    pub parallelism: usize,
    /// Seconds a task may go unacknowledged before it is given to another
    /// worker; the worker reports progress every third of it while an agent
    /// runs. Applies when this worker creates an agent's consumer.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub ack_wait: u64,
    /// The name results carry, for people (the host name by default).
    #[arg(long)]
    pub name: Option<String>,
}

/// `conductor readiness`.
#[derive(Debug, clap::Args)]
pub struct ReadinessArgs {
    /// The release data file (see docs/readiness.md), or `-` for standard input.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Print the JSON report instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `conductor preflight`.
#[derive(Debug, clap::Args)]
pub struct PreflightArgs {
    /// The repository to check.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// The base branch on the remote.
    #[arg(long)]
    pub base: Option<String>,
    /// The remote the base lives on.
    #[arg(long)]
    pub remote: Option<String>,
    /// Compare with the last fetched remote base instead of fetching it first.
    #[arg(long)]
    pub no_fetch: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `conductor status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `conductor validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The phase to check (default: every phase).
    #[arg(long)]
    pub phase: Option<String>,
}

/// `conductor plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `conductor verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The pack to verify.
    pub pack: PathBuf,
    /// The verifier's trust root.
    #[arg(long)]
    pub trust: PathBuf,
    /// Print a JSON verdict per phase and per check.
    #[arg(long)]
    pub json: bool,
    /// Verify only these phases' evidence (pack integrity is always checked).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// An earlier pack of the same release that this one must extend
    /// (every earlier record still present, unchanged, in order).
    #[arg(long, value_name = "EARLIER_PACK")]
    pub extends: Option<std::path::PathBuf>,
    /// Why the pack is read: appended, with who and when, to the signed
    /// access log beside the pack (access-log.jsonl).
    #[arg(long, requires = "key")]
    pub reason: Option<String>,
    /// The reader's private key, which signs the access log entry.
    #[arg(long, requires = "reason")]
    pub key: Option<PathBuf>,
}

/// `conductor access-log`.
#[derive(Debug, clap::Args)]
pub struct AccessLogArgs {
    /// The log (default: access-log.jsonl in the current folder).
    pub log: Option<PathBuf>,
    /// The trust root whose keys signed the entries.
    #[arg(long)]
    pub trust: PathBuf,
    /// Print the entries as JSON.
    #[arg(long)]
    pub json: bool,
}

/// What `scan-secrets` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SecretsMode {
    /// The files of the work tree, honouring .gitignore.
    Tree,
    /// The lines added since --since (default: the previous tag), committed or not.
    Diff,
    /// Every version of every file in git history, each scanned once.
    History,
}

/// `conductor scan-secrets`.
#[derive(Debug, clap::Args)]
pub struct ScanSecretsArgs {
    /// The folder (or repository) to scan.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// What to scan.
    #[arg(long, value_enum, default_value = "tree")]
    pub mode: SecretsMode,
    /// Diff mode: the ref the diff starts from (default: the tag before HEAD).
    #[arg(long, value_name = "REF")]
    pub since: Option<String>,
    /// Accept the findings listed in this baseline file (overrides `baseline` in conductor.toml).
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    pub baseline: Option<PathBuf>,
    /// Write every current finding to this baseline file and accept them.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long, conflicts_with = "sarif")]
    pub json: bool,
    /// Print the report as SARIF 2.1.0.
    #[arg(long)]
    pub sarif: bool,
}

/// Pre-release channels of `conductor version --pre`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PreChannel {
    /// `-alpha.N`.
    Alpha,
    /// `-beta.N`.
    Beta,
    /// `-rc.N`.
    Rc,
}

/// `conductor version`.
#[derive(Debug, clap::Args)]
pub struct VersionArgs {
    /// Print the next version without changing any file.
    #[arg(long)]
    pub dry_run: bool,
    /// Make a pre-release of the next version on this channel (`1.3.0-rc.1`, then `-rc.2`).
    #[arg(long, value_enum, value_name = "CHANNEL")]
    pub pre: Option<PreChannel>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `conductor changelog`.
#[derive(Debug, clap::Args)]
pub struct ChangelogArgs {
    /// Start after this tag or commit (default: the whole history, split by release tags).
    #[arg(long, value_name = "REF")]
    pub from: Option<String>,
    /// End at this ref.
    #[arg(long, value_name = "REF", default_value = "HEAD")]
    pub to: String,
    /// Only commits touching this folder (relative to the repository root), for one project of a monorepo.
    #[arg(long, value_name = "DIR")]
    pub path: Option<PathBuf>,
    /// Write the changelog to this file (replacing it) instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}
