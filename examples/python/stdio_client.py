#!/usr/bin/env python3
"""A custom MCP client for kubectl-mtv over stdio, with the official MCP
Python SDK (pip install mcp): what the manual's "Python MCP Client (Stdio
Mode)" snippet means, with the SDK's real API.

    python stdio_client.py --namespace mtv [--plan web-tier-migration] [--command kubectl-mtv]

It lists the tools, lists providers and plans, describes a plan and follows
it with watch_plan for a few seconds, printing progress notifications as
they arrive. The server is started with the caller's KUBECONFIG.
"""
import argparse
import asyncio
import json
import os

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def text(result):
    return result.content[0].text if result.content else ""


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--namespace", required=True)
    ap.add_argument("--plan", help="a plan to describe and watch (default: the first one)")
    ap.add_argument("--command", default="kubectl-mtv", help="the server binary (or: kubectl, with --args 'mtv mcp-server')")
    ap.add_argument("--args", default="mcp-server")
    ap.add_argument("--watch-seconds", type=int, default=5)
    a = ap.parse_args()

    params = StdioServerParameters(command=a.command, args=a.args.split(), env=dict(os.environ))
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            print(f"connected to {init.server_info.name} {init.server_info.version}")
            tools = await session.list_tools()
            print(f"{len(tools.tools)} tools:", ", ".join(t.name for t in tools.tools))

            providers = await session.call_tool("get_providers", {"namespace": a.namespace, "fields": ["spec.type", "spec.url"]})
            for p in providers.structured_content["items"]:
                print(f"provider {p['metadata']['name']}: {p['spec']['type']} {p['spec'].get('url', '')}")

            plans = await session.call_tool("get_plans", {"namespace": a.namespace, "fields": ["status.conditions"]})
            names = [p["metadata"]["name"] for p in plans.structured_content["items"]]
            print("plans:", ", ".join(names) or "none")
            plan = a.plan or (names[0] if names else None)
            if not plan:
                return

            described = await session.call_tool("describe_plan", {"name": plan, "namespace": a.namespace})
            print(text(described))

            async def on_progress(progress, total, message):
                print(f"  progress {progress:g}: {message}")

            watched = await session.call_tool(
                "watch_plan",
                {"name": plan, "namespace": a.namespace, "timeout_seconds": a.watch_seconds},
                progress_callback=on_progress,
            )
            print(text(watched).splitlines()[0])
            print("ended:", json.dumps(watched.structured_content["ended"]))


if __name__ == "__main__":
    asyncio.run(main())
