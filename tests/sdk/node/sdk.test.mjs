// kubectl-mtv's HTTP transports through the official MCP TypeScript SDK:
// SSEClientTransport and StreamableHTTPClientTransport with requestInit.headers,
// over HTTP and TLS (the test CA comes in through NODE_EXTRA_CA_CERTS).
//
// Environment (set by scripts/test): KUBECTL_MTV_BIN, KUBE_TESTENV_DIR, TEST_TLS_DIR.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { startServer, testenv } from "./server.mjs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const env = testenv();
const tlsDir = process.env.TEST_TLS_DIR;
function startTestServer(tls) {
  const args = tls ? ["--cert-file", path.join(tlsDir, "server.crt"), "--key-file", path.join(tlsDir, "server.key")] : [];
  return startServer(args, env.KUBECONFIG);
}

function namespace() {
  const name = "node-" + randomBytes(5).toString("hex");
  execFileSync("kubectl", ["--kubeconfig", env.KUBECONFIG, "create", "namespace", name], { stdio: "ignore" });
  return name;
}

async function connect(base, kind, token) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const transport =
    kind === "sse"
      ? new SSEClientTransport(new URL(base + "/sse"), { requestInit: { headers } })
      : new StreamableHTTPClientTransport(new URL(base + "/mcp"), { requestInit: { headers } });
  const client = new Client({ name: "node-sdk-test", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

const text = (r) => r.content[0].text;
const spec = { type: "vsphere", url: "https://vc.example.com/sdk", secret: { name: "vc-creds", namespace: "openshift-mtv" } };

for (const tls of [false, true]) {
  for (const kind of ["sse", "streamable"]) {
    const label = `${kind} over ${tls ? "https" : "http"}`;

    test(`${label}: admin token creates, gets and deletes a Provider`, async () => {
      const base = await startTestServer(tls);
      const ns = namespace();
      const c = await connect(base, kind, env.KUBE_TESTENV_ADMIN_TOKEN);
      assert.equal(c.getServerVersion().name, "kubectl-mtv");
      const { tools } = await c.listTools();
      const catalogue = JSON.parse(execFileSync(process.env.KUBECTL_MTV_BIN, ["tools", "--json"])).tools;
      assert.deepEqual(tools.map((t) => t.name).sort(), catalogue.map((t) => t.name).sort());
      let r = await c.callTool({ name: "create_provider", arguments: { name: "vc", namespace: ns, spec } });
      assert.equal(r.isError, false, text(r));
      r = await c.callTool({ name: "get_providers", arguments: { name: "vc", namespace: ns } });
      assert.equal(r.structuredContent.spec.url, spec.url);
      r = await c.callTool({ name: "delete_provider", arguments: { name: "vc", namespace: ns } });
      assert.equal(r.structuredContent.status, "deleted");
      await c.close();
    });

    test(`${label}: limited token gets a Forbidden tool error`, async () => {
      const base = await startTestServer(tls);
      const c = await connect(base, kind, env.KUBE_TESTENV_LIMITED_TOKEN);
      const r = await c.callTool({ name: "get_providers", arguments: { namespace: namespace() } });
      assert.equal(r.isError, true);
      assert.match(text(r), /Forbidden \(403\)/);
      await c.close();
    });

    test(`${label}: no headers means the kubeconfig identity`, async () => {
      const base = await startTestServer(tls);
      const c = await connect(base, kind);
      const r = await c.callTool({ name: "get_providers", arguments: { namespace: namespace() } });
      assert.equal(r.isError, false, text(r));
      assert.deepEqual(r.structuredContent.items, []);
      await c.close();
    });
  }
}
