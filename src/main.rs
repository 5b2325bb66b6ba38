//! The `kubectl-mtv` binary: parses the command line and runs one command.

use std::process::ExitCode;

use clap::Parser;
use kubectl_mtv::cli::{Cli, Command, VersionFormat};
use kubectl_mtv::tools::Registry;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Tools(args) => {
            let reg = Registry::new(args.read_only);
            if args.json {
                println!("{}", serde_json::to_string(&reg.list_json()).expect("JSON"));
            } else {
                for t in reg.tools() {
                    let d = t.definition["description"].as_str().unwrap_or_default();
                    println!("{:<36} {}", t.name, d);
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
        Command::McpServer(_) => {
            eprintln!("kubectl-mtv: mcp-server is not available yet");
            ExitCode::FAILURE
        }
    }
}
