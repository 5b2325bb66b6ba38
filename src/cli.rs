//! The command line (clap): `kubectl-mtv [GLOBAL] mcp-server | version | tools | call | crds diff | crds pull`.

use std::fmt;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// kubectl-mtv: Forklift (Migration Toolkit for Virtualization) for AI assistants.
#[derive(Debug, Parser)]
#[command(name = "kubectl-mtv", version, about, long_about = None)]
pub struct Cli {
    /// Logs on stderr: 0 warnings and errors, 1 start-up and sessions, 2 one line per request, 3 protocol detail.
    #[arg(
        short = 'v',
        long = "verbose",
        global = true,
        default_value_t = 0,
        value_name = "N"
    )]
    pub verbose: u8,

    /// Connection flags may also come before the subcommand (kubectl
    /// style); the subcommand's own win.
    #[command(flatten)]
    pub kube: KubeFlags,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the Forklift tools over MCP (stdio by default, HTTP with --sse).
    #[command(name = "mcp-server")]
    McpServer(ServerArgs),
    /// Print this version, and the Forklift operator's and inventory's found in the cluster.
    Version(VersionArgs),
    /// Print the tool catalogue that tools/list returns.
    Tools(ToolsArgs),
    /// Run one tool once and print its result, e.g. call get_plans '{"namespace": "mtv"}'.
    Call(CallArgs),
    /// Compare the cluster's Forklift CRDs with the ones this build was generated from, or pull them into crds/.
    Crds(CrdsArgs),
}

#[derive(Debug, Args)]
pub struct CrdsArgs {
    #[command(subcommand)]
    pub command: CrdsCommand,
}

#[derive(Debug, Subcommand)]
pub enum CrdsCommand {
    /// Compare the cluster's Forklift CRDs with this build's: kinds, versions, and schema paths added, removed or changed (type, enum, required, default, CEL rules). Exit code 0 when they match, 1 when they differ, 2 on error.
    Diff(CrdsDiffArgs),
    /// Write the cluster's Forklift CRDs as forklift.konveyor.io_<plural>.yaml files (without server-side fields) and tell what changed; then rebuild.
    Pull(CrdsPullArgs),
}

#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum ReportFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct CrdsDiffArgs {
    #[command(flatten)]
    pub kube: KubeFlags,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,
}

#[derive(Debug, Args)]
pub struct CrdsPullArgs {
    #[command(flatten)]
    pub kube: KubeFlags,
    /// The folder to write into (the generator's input).
    #[arg(long, default_value = "crds", value_name = "DIR")]
    pub to: PathBuf,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,
}

#[derive(Debug, Args)]
pub struct CallArgs {
    /// The tool, e.g. describe_plan.
    pub tool: String,
    /// Its arguments as a JSON object.
    pub arguments: Option<String>,
    /// One argument as name=value (repeatable; a value that is JSON is taken as JSON).
    #[arg(long = "arg", value_name = "NAME=VALUE")]
    pub args: Vec<String>,
    /// Print the whole tools/call result as JSON (text, structuredContent, isError).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub kube: KubeFlags,
    #[command(flatten)]
    pub catalogue: CatalogueFlags,
}

impl CallArgs {
    /// The arguments object: the JSON, then each --arg on top.
    pub fn arguments(&self) -> Result<serde_json::Value, String> {
        let mut v = match self.arguments.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
            Some(text) => serde_json::from_str::<serde_json::Value>(text)
                .map_err(|e| format!("the arguments are not JSON ({e}); write them like '{{\"namespace\": \"mtv\"}}'"))?,
            None => serde_json::json!({}),
        };
        if !v.is_object() {
            return Err("the arguments must be a JSON object".into());
        }
        for a in &self.args {
            let (k, val) = a
                .split_once('=')
                .ok_or_else(|| format!("--arg {a}: write it as name=value"))?;
            let val = serde_json::from_str(val)
                .unwrap_or_else(|_| serde_json::Value::String(val.to_owned()));
            v[k] = val;
        }
        Ok(v)
    }
}

/// Which Kubernetes API server and credentials to use (kubectl's flags).
#[derive(Debug, Clone, Default, Args)]
pub struct KubeFlags {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Kubernetes API server URL for every call (overrides kubeconfig; a request's X-Kubernetes-Server overrides it).
    #[arg(short = 's', long, value_name = "URL")]
    pub server: Option<String>,
    /// Bearer token for every call (overrides kubeconfig; a request's Authorization header overrides it).
    #[arg(long, value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<Secret>,
    /// CA certificate file for the API server (also for servers named by X-Kubernetes-Server).
    #[arg(long, value_name = "FILE")]
    pub certificate_authority: Option<PathBuf>,
    /// Do not verify the API server's certificate (insecure).
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    /// Base URL of Forklift's inventory service (default: $MTV_INVENTORY_URL, then the forklift-inventory Route, then the in-cluster Service).
    #[arg(short = 'i', long, value_name = "URL")]
    pub inventory_url: Option<String>,
    /// Do not verify the inventory service's certificate (also $MTV_INVENTORY_INSECURE_SKIP_TLS=true).
    #[arg(long)]
    pub inventory_insecure_skip_tls: bool,
    /// How long an API server may stay silent during one ordinary request before it fails (e.g. 30s, 2m; 0 = no limit). Watches are exempt. [default: 30s]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub request_timeout: Option<std::time::Duration>,
    /// How long connecting to the API server may take. [default: 10s]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub connect_timeout: Option<std::time::Duration>,
}

/// A duration as kubectl writes it (`30s`, `2m`, `1h`), or plain seconds.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<u64>() {
        return Ok(std::time::Duration::from_secs(secs));
    }
    humantime::parse_duration(t).map_err(|e| format!("{e}; write it like 30s, 2m or 1h"))
}

impl KubeFlags {
    /// These flags, with any unset one taken from `outer` (given before the subcommand).
    pub fn or(self, outer: &KubeFlags) -> KubeFlags {
        KubeFlags {
            kubeconfig: self.kubeconfig.or_else(|| outer.kubeconfig.clone()),
            context: self.context.or_else(|| outer.context.clone()),
            server: self.server.or_else(|| outer.server.clone()),
            token: self.token.or_else(|| outer.token.clone()),
            certificate_authority: self
                .certificate_authority
                .or_else(|| outer.certificate_authority.clone()),
            insecure_skip_tls_verify: self.insecure_skip_tls_verify
                || outer.insecure_skip_tls_verify,
            inventory_url: self.inventory_url.or_else(|| outer.inventory_url.clone()),
            inventory_insecure_skip_tls: self.inventory_insecure_skip_tls
                || outer.inventory_insecure_skip_tls,
            request_timeout: self.request_timeout.or(outer.request_timeout),
            connect_timeout: self.connect_timeout.or(outer.connect_timeout),
        }
    }

    /// How to reach the inventory: the flags, else the environment.
    pub fn inventory_settings(&self) -> crate::tools::inventory::client::InventorySettings {
        let url = match &self.inventory_url {
            Some(u) if !u.is_empty() => Some((u.clone(), "--inventory-url")),
            _ => std::env::var("MTV_INVENTORY_URL")
                .ok()
                .filter(|u| !u.is_empty())
                .map(|u| (u, "MTV_INVENTORY_URL")),
        };
        let env_insecure = std::env::var("MTV_INVENTORY_INSECURE_SKIP_TLS")
            .is_ok_and(|v| v.eq_ignore_ascii_case("true"));
        crate::tools::inventory::client::InventorySettings {
            url,
            insecure: self.inventory_insecure_skip_tls || env_insecure,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Serve over HTTP (SSE at /sse, Streamable HTTP at /mcp) instead of stdio.
    #[arg(long, visible_alias = "http")]
    pub sse: bool,
    /// Streamable HTTP (/mcp) keeps no session state, so several replicas can serve one Service. The legacy /sse transport cannot be stateless: its clients need session affinity.
    #[arg(long)]
    pub stateless: bool,
    /// On a non-loopback --host, let requests without Authorization: Bearer act as this server's own kubeconfig identity (default: 401).
    #[arg(long)]
    pub allow_kubeconfig_fallback: bool,
    /// Refuse to start HTTP mode without --cert-file and --key-file.
    #[arg(long)]
    pub require_tls: bool,
    /// Append one JSON line per tool call (who, what, outcome; never secrets) to FILE, or to stderr with -.
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
    #[command(flatten)]
    pub kube: KubeFlags,
    /// Address to bind in HTTP mode.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on in HTTP mode.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// TLS certificate (PEM); with --key-file the server speaks HTTPS only.
    #[arg(long, value_name = "FILE")]
    pub cert_file: Option<PathBuf>,
    /// TLS private key (PEM); with --cert-file the server speaks HTTPS only.
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    #[command(flatten)]
    pub catalogue: CatalogueFlags,
    /// API servers an X-Kubernetes-Server header may name (comma-separated URLs); default: any.
    #[arg(long, value_delimiter = ',', value_name = "URL")]
    pub allowed_servers: Vec<String>,
    /// Most concurrent HTTP sessions.
    #[arg(long, default_value_t = 1000)]
    pub max_sessions: usize,
    /// Seconds an idle HTTP session is kept.
    #[arg(long, default_value_t = 1800)]
    pub session_idle_timeout: u64,
    /// Largest accepted HTTP request body, in bytes.
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Seconds the API server keeps one watch request open before watch tools resume with a new one.
    #[arg(long, default_value_t = 290, value_name = "SECONDS")]
    pub watch_server_timeout: u64,
    /// Seconds to wait for a node's kubelet when reading pod logs.
    #[arg(long, default_value_t = 20, value_name = "SECONDS")]
    pub kubelet_timeout: u64,
    /// Most HTTP connections open at once; more are answered 503.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub max_connections: usize,
    /// Time a client has to send a request's headers (slow clients are disconnected).
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = parse_duration)]
    pub header_read_timeout: std::time::Duration,
    /// Most tool calls running at once in one session; more get a "server busy" error.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub max_calls_per_session: usize,
    /// Most tool calls running at once in the whole server.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub max_calls: usize,
    /// Most messages in one JSON-RPC batch.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub max_batch: usize,
    /// Progress and log notifications kept per client stream; beyond it the oldest are dropped.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub notification_queue: usize,
}

#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum VersionFormat {
    #[default]
    Table,
    Json,
    Yaml,
}

#[derive(Debug, Args)]
pub struct VersionArgs {
    #[command(flatten)]
    pub kube: KubeFlags,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = VersionFormat::Table)]
    pub output: VersionFormat,
    /// Print only this client's version (no cluster access).
    #[arg(long)]
    pub client: bool,
}

#[derive(Debug, Args)]
pub struct ToolsArgs {
    /// Print exactly the JSON that tools/list returns.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub catalogue: CatalogueFlags,
}

/// Which tools are served.
#[derive(Debug, Clone, Args)]
pub struct CatalogueFlags {
    /// Toolsets to serve (comma-separated): resources, workflows, inventory, review, operator, replaced, or all.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "resources,workflows,inventory,review",
        value_name = "NAMES"
    )]
    pub toolsets: Vec<String>,
    /// Offer only tools that do not change the cluster (readOnlyHint).
    #[arg(long)]
    pub read_only: bool,
    /// Leave out tools that may destroy or overwrite (destructiveHint: delete, patch, cancel, …).
    #[arg(long)]
    pub disable_destructive: bool,
    /// Tools per tools/list page (clients follow nextCursor for the rest).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub tools_page_size: Option<u32>,
}

impl CatalogueFlags {
    /// The registry options, or why the toolset names are wrong.
    pub fn options(&self) -> Result<crate::tools::CatalogueOptions, String> {
        let opts = crate::tools::CatalogueOptions {
            toolsets: self
                .toolsets
                .iter()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect(),
            read_only: self.read_only,
            disable_destructive: self.disable_destructive,
            page_size: self.tools_page_size.map(|n| n as usize),
        };
        opts.check().map(|_| opts)
    }
}

/// A secret command-line value: never shown by `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_owned()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_flags_parse_with_defaults() {
        let cli = Cli::try_parse_from(["kubectl-mtv", "mcp-server"]).unwrap();
        let Command::McpServer(a) = cli.command else {
            panic!()
        };
        assert!(!a.sse);
        assert_eq!((a.host.as_str(), a.port), ("127.0.0.1", 8080));
        let cli = Cli::try_parse_from([
            "kubectl-mtv",
            "-v",
            "2",
            "mcp-server",
            "--http",
            "--port",
            "9090",
            "--cert-file",
            "c",
            "--key-file",
            "k",
            "--token",
            "abc",
            "--allowed-servers",
            "https://a,https://b",
        ])
        .unwrap();
        assert_eq!(cli.verbose, 2);
        let Command::McpServer(a) = cli.command else {
            panic!()
        };
        assert!(a.sse && a.port == 9090 && a.cert_file.is_some() && a.key_file.is_some());
        assert_eq!(a.allowed_servers, vec!["https://a", "https://b"]);
        assert!(
            Cli::try_parse_from(["kubectl-mtv", "tools", "--token", "x"]).is_err(),
            "tools takes no connection flags"
        );
        assert_eq!(a.kube.token.as_ref().map(Secret::expose), Some("abc"));
        let cli = Cli::try_parse_from([
            "kubectl-mtv",
            "--context",
            "a",
            "--token",
            "t",
            "mcp-server",
            "--context",
            "b",
        ])
        .unwrap();
        let Command::McpServer(a) = cli.command else {
            panic!()
        };
        let k = a.kube.or(&cli.kube);
        assert_eq!(
            (k.context.as_deref(), k.token.as_ref().map(Secret::expose)),
            (Some("b"), Some("t"))
        );
    }

    #[test]
    fn token_never_shows_in_debug() {
        let cli = Cli::try_parse_from(["kubectl-mtv", "mcp-server", "--token", "s3cr3t"]).unwrap();
        assert!(!format!("{cli:?}").contains("s3cr3t"));
    }
}
