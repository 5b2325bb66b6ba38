//! The `kubectl-mtv` binary: runs one command (see `kubectl_mtv::run`).

fn main() -> std::process::ExitCode {
    kubectl_mtv::run::main()
}
