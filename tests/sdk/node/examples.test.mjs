// Runs examples/typescript (the migration dashboard, built with tsc by
// scripts/test) against a server on the local API server with the sample
// estate, over Streamable HTTP and SSE, as the admin identity.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { startServer, testenv } from "./server.mjs";

const root = path.resolve(import.meta.dirname, "../../..");
const env = testenv();

for (const transport of ["streamable", "sse"]) {
  test(`the TypeScript dashboard example over ${transport}`, async () => {
    const ns = "node-ex-" + randomBytes(5).toString("hex");
    execFileSync(path.join(root, "scripts/sample-estate"), ["--env", path.join(process.env.KUBE_TESTENV_DIR, "env"), "--namespace", ns], { stdio: "ignore" });
    const base = await startServer([], env.KUBECONFIG);
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
