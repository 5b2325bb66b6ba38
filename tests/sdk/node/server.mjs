// Shared by the Node tests: the local API server's environment and a
// kubectl-mtv HTTP server started for a test file (stopped when it ends).
import { after } from "node:test";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";

/** The variables scripts/kube-testenv wrote to $KUBE_TESTENV_DIR/env. */
export function testenv() {
  return Object.fromEntries(
    readFileSync(path.join(process.env.KUBE_TESTENV_DIR, "env"), "utf8")
      .split("\n")
      .filter((l) => l.startsWith("export "))
      .map((l) => {
        const [k, ...v] = l.slice(7).split("=");
        return [k, v.join("=").replace(/^'|'$/g, "")];
      }),
  );
}

const servers = [];
after(() => servers.forEach((s) => s.kill("SIGTERM")));

/**
 * Starts `kubectl-mtv mcp-server --sse --port 0 ...extraArgs` with only
 * PATH, HOME and the given KUBECONFIG (none: no cluster) in its environment;
 * resolves to its base URL once it says where it listens.
 */
export function startServer(extraArgs = [], kubeconfig = undefined) {
  const env = { PATH: process.env.PATH, HOME: "/nonexistent" };
  if (kubeconfig) env.KUBECONFIG = kubeconfig;
  const child = spawn(process.env.KUBECTL_MTV_BIN, ["mcp-server", "--sse", "--port", "0", ...extraArgs], {
    env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  servers.push(child);
  return new Promise((resolve, reject) => {
    let buf = "";
    child.stderr.on("data", (d) => {
      buf += d;
      const m = buf.match(/Listening on (https?:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`server exited ${code}: ${buf}`)));
  });
}
