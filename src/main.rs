//! The `kubectl-mtv` binary: parses the command line and runs one command.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use kubectl_mtv::cli::{Cli, Command, ServerArgs, VersionFormat};
use kubectl_mtv::cluster::AccessOptions;
use kubectl_mtv::engine::Engine;
use kubectl_mtv::tools::{Registry, ToolSettings};
use kubectl_mtv::{logging, transport};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Tools(args) => {
            let reg = Registry::standard(args.read_only);
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
            let v = format!("v{}", env!("CARGO_PKG_VERSION"));
            match args.output {
                VersionFormat::Table => println!("kubectl-mtv version: {v}"),
                VersionFormat::Json => println!("{}", serde_json::json!({"clientVersion": v})),
                VersionFormat::Yaml => println!("clientVersion: {v}"),
            }
            ExitCode::SUCCESS
        }
        Command::McpServer(args) => {
            logging::init(cli.verbose);
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            let access = AccessOptions {
                flags: cli.kube,
                allowed_servers: args.allowed_servers.clone(),
            };
            match runtime.block_on(serve(args, access)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("kubectl-mtv: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

async fn serve(args: ServerArgs, access: AccessOptions) -> anyhow::Result<()> {
    let settings = ToolSettings {
        watch_server_timeout: std::time::Duration::from_secs(args.watch_server_timeout.max(1)),
        kubelet_timeout: std::time::Duration::from_secs(args.kubelet_timeout.max(1)),
    };
    let engine = Arc::new(Engine::new(
        Registry::standard(args.read_only),
        access,
        settings,
    ));
    if args.sse {
        let opts = transport::http::HttpOptions {
            host: args.host,
            port: args.port,
            cert_file: args.cert_file,
            key_file: args.key_file,
            max_sessions: args.max_sessions,
            session_idle_timeout: std::time::Duration::from_secs(args.session_idle_timeout),
            max_body_bytes: args.max_body_bytes,
        };
        return transport::http::serve(engine, opts).await;
    }
    tracing::info!("Starting kubectl-mtv MCP server in stdio mode");
    tracing::info!("Server is ready and listening for MCP protocol messages on stdin/stdout");
    transport::stdio::serve(engine, tokio::io::stdin(), tokio::io::stdout()).await?;
    tracing::info!("stdin closed; exiting");
    Ok(())
}
