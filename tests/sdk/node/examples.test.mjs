// Runs examples/typescript (the migration dashboard, built with tsc by
// scripts/test) against a server on the local API server with the sample
// estate, over Streamable HTTP and SSE, as the admin identity.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../../..");
const env = Object.fromEntries(
  readFileSync(path.join(process.env.KUBE_TESTENV_DIR, "env"), "utf8")
    .split("\n")
    .filter((l) => l.startsWith("export "))
    .map((l) => {
      const [k, ...v] = l.slice(7).split("=");
      return [k, v.join("=").replace(/^'|'$/g, "")];
    }),
);
const servers = [];
after(() => servers.forEach((s) => s.kill("SIGTERM")));

function startServer() {
  const child = spawn(process.env.KUBECTL_MTV_BIN, ["mcp-server", "--sse", "--port", "0"], {
    env: { PATH: process.env.PATH, HOME: "/nonexistent", KUBECONFIG: env.KUBECONFIG },
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

for (const transport of ["streamable", "sse"]) {
  test(`the TypeScript dashboard example over ${transport}`, async () => {
    const ns = "node-ex-" + randomBytes(5).toString("hex");
    execFileSync(path.join(root, "scripts/sample-estate"), ["--env", path.join(process.env.KUBE_TESTENV_DIR, "env"), "--namespace", ns], { stdio: "ignore" });
    const base = await startServer();
    const out = execFileSync(
      "node",
      [path.join(root, "examples/typescript/dist/dashboard.js"), "--url", base, "--namespace", ns, "--plan", "web-tier-migration", "--seconds", "2", "--transport", transport],
      { env: { ...process.env, KUBERNETES_TOKEN: env.KUBE_TESTENV_ADMIN_TOKEN }, encoding: "utf8" },
    );
    assert.match(out, /provider vcenter-prod: vsphere/);
    assert.match(out, /plan web-tier-migration: Ready, Executing/);
    assert.match(out, /progress 1: web-tier-migration: phase Executing; web-01: DiskTransfer 40%/);
    assert.match(out, /ended: "timeout"/);
  });
}
