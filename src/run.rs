//! The binary's commands: parses the command line and runs one command.
//!
//! `src/main.rs` only calls [`main`]. Everything the binary runs is
//! instantiated here, once, in the library: a generic such as
//! `transport::stdio::serve` called from the binary crate would be compiled
//! again there, after the library, on every build.

use std::process::ExitCode;
use std::sync::Arc;

use crate::cli::{Cli, Command, CrdsCommand, ServerArgs, VersionFormat};
use crate::cluster::{AccessOptions, ClusterAccess, Identity};
use crate::engine::Engine;
use crate::tools::version;
use crate::tools::{BackgroundRegistry, Registry, ToolSettings};
use crate::{logging, transport};
use clap::Parser;

/// How long `version` waits for the cluster, as upstream.
const VERSION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// Parses the command line and runs its command; the binary's `main`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Tools(args) => {
            let opts = match args.catalogue.options() {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("kubectl-mtv: {e}");
                    return ExitCode::from(2);
                }
            };
            let reg = Registry::with_options(&opts);
            if args.json {
                println!("{}", serde_json::to_string(&reg.list_json()).expect("JSON"));
            } else {
                for t in reg.tools() {
                    let d = t.definition();
                    let text = d.json()["description"].as_str().unwrap_or_default();
                    println!("{:<36} {}", d.name(), text);
                }
            }
            ExitCode::SUCCESS
        }
        Command::Version(args) => {
            let report = if args.client {
                serde_json::json!({"clientVersion": version::client_version()})
            } else {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("tokio runtime");
                let kube = args.kube.clone().or(&cli.kube);
                let settings = kube.inventory_settings();
                let access = ClusterAccess::new(AccessOptions {
                    flags: kube,
                    allowed_servers: Vec::new(),
                });
                let identity = Identity::default();
                let probe = version::report(&access, &identity, &settings);
                runtime
                    .block_on(async { tokio::time::timeout(VERSION_TIMEOUT, probe).await })
                    .unwrap_or_else(|_| {
                        serde_json::json!({"clientVersion": version::client_version(),
                            "operatorStatus": format!("error: no answer within {} s", VERSION_TIMEOUT.as_secs())})
                    })
            };
            match args.output {
                VersionFormat::Table if args.client => {
                    println!("kubectl-mtv version: {}", version::client_version())
                }
                VersionFormat::Table => print!("{}", version::table(&report)),
                VersionFormat::Json => println!("{report}"),
                VersionFormat::Yaml => print!(
                    "{}",
                    serde_yaml::to_string(&report).expect("a JSON value is YAML")
                ),
            }
            ExitCode::SUCCESS
        }
        Command::Call(args) => {
            logging::init(cli.verbose);
            let fail = |e: String| {
                eprintln!("kubectl-mtv: {e}");
                ExitCode::from(2)
            };
            let arguments = match args.arguments() {
                Ok(a) => a,
                Err(e) => return fail(e),
            };
            let opts = match args.catalogue.options() {
                Ok(o) => o,
                Err(e) => return fail(e),
            };
            let kube = args.kube.clone().or(&cli.kube);
            let settings = ToolSettings {
                inventory: kube.inventory_settings(),
                ..Default::default()
            };
            let engine = Engine::new(
                Registry::with_options(&opts),
                AccessOptions {
                    flags: kube,
                    allowed_servers: Vec::new(),
                },
                settings,
            );
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            match runtime.block_on(engine.call_once(&args.tool, arguments)) {
                Err(e) => fail(e),
                Ok(result) => {
                    if args.json {
                        println!("{result}");
                    } else {
                        println!(
                            "{}",
                            result["content"][0]["text"].as_str().unwrap_or_default()
                        );
                    }
                    if result["isError"] == true {
                        ExitCode::FAILURE
                    } else {
                        ExitCode::SUCCESS
                    }
                }
            }
        }
        Command::Crds(args) => match args.command {
            CrdsCommand::Diff(a) => crate::crds::command::diff(a, &cli.kube),
            CrdsCommand::Pull(a) => crate::crds::command::pull(a, &cli.kube),
        },
        Command::McpServer(args) => {
            // The catalogue (every tool's schemas, the tools/list pages)
            // builds on its own thread while the server starts and answers
            // initialize (tools/background.rs).
            let catalogue = match args.catalogue.options() {
                Ok(opts) => BackgroundRegistry::spawn(opts),
                Err(e) => {
                    eprintln!("kubectl-mtv: {e}");
                    return ExitCode::FAILURE;
                }
            };
            logging::init(cli.verbose);
            // stdio serves one client: one thread runs every task, so a
            // call's hand-offs (reader, tool, kube client, connection,
            // writer) are task switches, not thread wake-ups. HTTP serves
            // many clients on every core.
            let runtime = if args.sse {
                tokio::runtime::Builder::new_multi_thread()
            } else {
                tokio::runtime::Builder::new_current_thread()
            }
            .enable_all()
            .build()
            .expect("tokio runtime");
            let access = AccessOptions {
                flags: args.kube.clone().or(&cli.kube),
                allowed_servers: args.allowed_servers.clone(),
            };
            match runtime.block_on(serve(args, access, catalogue)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("kubectl-mtv: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

async fn serve(
    args: ServerArgs,
    access: AccessOptions,
    catalogue: BackgroundRegistry,
) -> anyhow::Result<()> {
    let settings = ToolSettings {
        watch_server_timeout: std::time::Duration::from_secs(args.watch_server_timeout.max(1)),
        kubelet_timeout: std::time::Duration::from_secs(args.kubelet_timeout.max(1)),
        inventory: access.flags.inventory_settings(),
        ..Default::default()
    };
    let limits = crate::engine::Limits {
        calls_per_session: args.max_calls_per_session.max(1),
        calls: args.max_calls.max(1),
        batch: args.max_batch.max(1),
        notification_queue: args.notification_queue.max(1),
    };
    let mut engine = Engine::building(catalogue, access, settings).with_limits(limits);
    if let Some(path) = &args.audit_log {
        let log = crate::audit::AuditLog::open(path)
            .map_err(|e| anyhow::anyhow!("--audit-log {}: {e}", path.display()))?;
        engine = engine.with_audit(log);
        tracing::info!("audit log: {}", path.display());
    }
    let engine = Arc::new(engine);
    if args.sse {
        let opts = transport::http::HttpOptions {
            host: args.host,
            port: args.port,
            cert_file: args.cert_file,
            key_file: args.key_file,
            max_sessions: args.max_sessions,
            session_idle_timeout: std::time::Duration::from_secs(args.session_idle_timeout),
            max_body_bytes: args.max_body_bytes,
            stateless: args.stateless,
            require_tls: args.require_tls,
            allow_kubeconfig_fallback: args.allow_kubeconfig_fallback,
            max_connections: args.max_connections,
            header_read_timeout: args.header_read_timeout,
        };
        return transport::http::serve(engine, opts).await;
    }
    if args.stateless || args.require_tls {
        anyhow::bail!("--stateless and --require-tls apply to HTTP mode; add --sse");
    }
    tracing::info!("Starting kubectl-mtv MCP server in stdio mode");
    tracing::info!("Server is ready and listening for MCP protocol messages on stdin/stdout");
    let (stdin, stdout) = transport::stdio::process_stdio();
    transport::stdio::serve(engine, stdin, stdout).await?;
    tracing::info!("stdin closed; exiting");
    Ok(())
}
