// The manual's "migration dashboard" idea with the real
// @modelcontextprotocol/sdk: connect to `kubectl mtv mcp-server --sse` over
// Streamable HTTP (or legacy SSE) as the caller's Kubernetes identity, list
// providers, show each plan's state, and follow one plan with watch_plan,
// printing its progress notifications.
//
//   npm ci && npx tsc && KUBERNETES_TOKEN=... node dist/dashboard.js --url http://127.0.0.1:8080 --namespace mtv [--plan web] [--transport sse]
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

interface KubeCredentials {
  token?: string;
  server?: string;
}

type Item = { metadata: { name: string }; spec?: Record<string, unknown>; status?: { conditions?: { type: string; status: string }[] } };

class MigrationDashboard {
  private client = new Client({ name: "migration-dashboard", version: "1.0.0" });

  constructor(private url: string, private creds: KubeCredentials, private transport: "streamable" | "sse") {}

  async connect(): Promise<void> {
    const headers: Record<string, string> = {};
    if (this.creds.token) headers["Authorization"] = `Bearer ${this.creds.token}`;
    if (this.creds.server) headers["X-Kubernetes-Server"] = this.creds.server;
    const init = { requestInit: { headers } };
    const t =
      this.transport === "sse"
        ? new SSEClientTransport(new URL(`${this.url}/sse`), init)
        : new StreamableHTTPClientTransport(new URL(`${this.url}/mcp`), init);
    await this.client.connect(t);
  }

  private async call(name: string, args: Record<string, unknown>, onProgress?: (p: { progress: number; message?: string }) => void) {
    const r = await this.client.callTool({ name, arguments: args }, undefined, onProgress ? { onprogress: onProgress, timeout: 120_000 } : undefined);
    if (r.isError) throw new Error((r.content as { text: string }[])[0].text);
    return r.structuredContent as { items?: Item[]; [k: string]: unknown };
  }

  async providers(namespace: string): Promise<Item[]> {
    return (await this.call("get_providers", { namespace, fields: ["spec.type", "spec.url"] })).items ?? [];
  }

  async plans(namespace: string): Promise<Item[]> {
    return (await this.call("get_plans", { namespace, fields: ["status.conditions"] })).items ?? [];
  }

  async monitorMigration(name: string, namespace: string, seconds: number): Promise<unknown> {
    const summary = await this.call("watch_plan", { name, namespace, timeout_seconds: seconds }, (p) =>
      console.log(`  progress ${p.progress}: ${p.message ?? ""}`),
    );
    return summary.ended;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const namespace = arg("namespace");
  if (!namespace) throw new Error("--namespace is required");
  const dashboard = new MigrationDashboard(
    arg("url", "http://127.0.0.1:8080")!,
    { token: process.env.KUBERNETES_TOKEN, server: process.env.KUBERNETES_SERVER },
    arg("transport", "streamable") === "sse" ? "sse" : "streamable",
  );
  await dashboard.connect();
  for (const p of await dashboard.providers(namespace)) {
    console.log(`provider ${p.metadata.name}: ${p.spec?.type}`);
  }
  const plans = await dashboard.plans(namespace);
  for (const p of plans) {
    const held = (p.status?.conditions ?? []).filter((c) => c.status === "True").map((c) => c.type);
    console.log(`plan ${p.metadata.name}: ${held.join(", ") || "no status"}`);
  }
  const plan = arg("plan", plans[0]?.metadata.name);
  if (plan) {
    console.log(`watching ${plan}:`);
    console.log(`ended: ${JSON.stringify(await dashboard.monitorMigration(plan, namespace, Number(arg("seconds", "5"))))}`);
  }
  await dashboard.close();
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
