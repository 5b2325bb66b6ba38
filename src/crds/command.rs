//! The `kubectl-mtv crds diff` and `crds pull` commands: connect with the
//! usual kube flags, run, print text or JSON, and return the exit code
//! (diff: 0 match, 1 differ, 2 error; pull: 0 done, 2 error).

use std::process::ExitCode;
use std::time::Duration;

use crate::cli::{CrdsDiffArgs, CrdsPullArgs, KubeFlags, ReportFormat};
use crate::cluster::{AccessOptions, ClusterAccess, Connection, Identity};

/// How long a command waits for the cluster.
const TIMEOUT: Duration = Duration::from_secs(60);

/// `crds diff`.
pub fn diff(args: CrdsDiffArgs, outer: &KubeFlags) -> ExitCode {
    let flags = args.kube.clone().or(outer);
    let outcome = run(flags, |conn| async move {
        super::diff(&conn).await.map_err(|e| e.to_string())
    });
    match outcome {
        Err(e) => fail(&e),
        Ok(report) => {
            match args.output {
                ReportFormat::Text => print!("{}", report.text()),
                ReportFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&report).expect("the report is JSON")
                ),
            }
            if report.identical {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// `crds pull`.
pub fn pull(args: CrdsPullArgs, outer: &KubeFlags) -> ExitCode {
    let flags = args.kube.clone().or(outer);
    let to = args.to.clone();
    let outcome = run(flags, |conn| async move {
        let cluster = super::fetch::fetch(&conn)
            .await
            .map_err(|e| e.to_string())?;
        super::pull::write(&to, &cluster)
    });
    match outcome {
        Err(e) => fail(&e),
        Ok(report) => {
            match args.output {
                ReportFormat::Text => print!("{}", report.text()),
                ReportFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&report).expect("the report is JSON")
                ),
            }
            ExitCode::SUCCESS
        }
    }
}

fn fail(e: &str) -> ExitCode {
    eprintln!("kubectl-mtv: cannot compare Forklift CRDs: {e}");
    ExitCode::from(2)
}

/// Connects as the flags say and runs `f` on a runtime, within [`TIMEOUT`].
fn run<T, F, Fut>(flags: KubeFlags, f: F) -> Result<T, String>
where
    F: FnOnce(Connection) -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let access = ClusterAccess::new(AccessOptions {
        flags,
        allowed_servers: Vec::new(),
    });
    runtime.block_on(async {
        let work = async {
            let conn = access
                .connect_quietly(&Identity::default())
                .await
                .map_err(|e| e.to_string())?;
            f(conn).await
        };
        tokio::time::timeout(TIMEOUT, work)
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {} s", TIMEOUT.as_secs())))
    })
}
