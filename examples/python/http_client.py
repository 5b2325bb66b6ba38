#!/usr/bin/env python3
"""A custom MCP client for kubectl-mtv over HTTP (`kubectl mtv mcp-server
--sse`), with the official MCP Python SDK: Streamable HTTP (/mcp) or the
legacy SSE transport (/sse), acting as the caller's Kubernetes identity
through `Authorization: Bearer` (and optionally `X-Kubernetes-Server`).
What the manual's "Python MCP Client (SSE Mode)" snippet means.

    KUBERNETES_TOKEN=... python http_client.py --url http://127.0.0.1:8080 --namespace mtv [--transport sse] [--server https://api:6443] [--cafile ca.crt]
"""
import argparse
import asyncio
import contextlib
import os
import ssl

import httpx2
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client


@contextlib.asynccontextmanager
async def connect(url, transport, headers, verify):
    if transport == "sse":
        def factory(headers=None, timeout=None, auth=None):
            return httpx2.AsyncClient(headers=headers, timeout=timeout or 60, auth=auth, verify=verify)
        cm = sse_client(url + "/sse", headers=headers, httpx_client_factory=factory)
    else:
        cm = streamable_http_client(url + "/mcp", http_client=httpx2.AsyncClient(headers=headers, verify=verify, timeout=60))
    async with cm as streams:
        async with ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            yield session


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--transport", choices=["streamable", "sse"], default="streamable")
    ap.add_argument("--namespace", required=True)
    ap.add_argument("--server", default=os.getenv("KUBERNETES_SERVER"), help="X-Kubernetes-Server (optional)")
    ap.add_argument("--cafile", help="CA of an HTTPS server")
    a = ap.parse_args()

    headers = {}
    token = os.getenv("KUBERNETES_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if a.server:
        headers["X-Kubernetes-Server"] = a.server
    verify = ssl.create_default_context(cafile=a.cafile) if a.cafile else True

    async with connect(a.url, a.transport, headers, verify) as session:
        tools = await session.list_tools()
        print(f"{len(tools.tools)} tools over {a.transport}")
        providers = await session.call_tool("get_providers", {"namespace": a.namespace})
        print(providers.content[0].text.splitlines()[0])
        plans = await session.call_tool("get_plans", {"namespace": a.namespace, "fields": ["status.conditions"]})
        for p in plans.structured_content["items"]:
            held = [c["type"] for c in p.get("status", {}).get("conditions", []) if c["status"] == "True"]
            print(f"plan {p['metadata']['name']}: {', '.join(held) or 'no status'}")


if __name__ == "__main__":
    asyncio.run(main())
