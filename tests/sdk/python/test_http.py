"""The HTTP transports through the official Python SDK: sse_client with
headers and streamable_http_client with an httpx2 client, over HTTP and TLS,
each request acting as the caller's Kubernetes identity."""
import contextlib
import ssl

import httpx2
import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from conftest import PROVIDER_SPEC

pytestmark = pytest.mark.anyio


def verify(server):
    return ssl.create_default_context(cafile=server.ca) if server.ca else True


@contextlib.asynccontextmanager
async def connect(server, transport, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if transport == "sse":
        def factory(headers=None, timeout=None, auth=None):
            return httpx2.AsyncClient(headers=headers, timeout=timeout or 30, auth=auth, verify=verify(server))
        cm = sse_client(server.base + "/sse", headers=headers, httpx_client_factory=factory)
    else:
        client = httpx2.AsyncClient(headers=headers, verify=verify(server), timeout=30)
        cm = streamable_http_client(server.base + "/mcp", http_client=client)
    async with cm as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write) as session:
            await session.initialize()
            yield session


@pytest.mark.parametrize("transport", ["sse", "streamable"])
async def test_admin_token_crud_provider(server, transport, testenv, namespace, catalogue):
    async with connect(server, transport, testenv["KUBE_TESTENV_ADMIN_TOKEN"]) as s:
        tools = await s.list_tools()
        assert {t.name for t in tools.tools} == catalogue
        r = await s.call_tool("create_provider", {"name": "vc", "namespace": namespace, "spec": PROVIDER_SPEC})
        assert not r.is_error, r.content[0].text
        r = await s.call_tool("get_providers", {"name": "vc", "namespace": namespace})
        assert not r.is_error and r.structured_content["spec"]["type"] == "vsphere"
        r = await s.call_tool("delete_provider", {"name": "vc", "namespace": namespace})
        assert not r.is_error and r.structured_content["status"] == "deleted"
        r = await s.call_tool("get_providers", {"name": "vc", "namespace": namespace})
        assert r.is_error and "Not found (404)" in r.content[0].text


@pytest.mark.parametrize("transport", ["sse", "streamable"])
async def test_limited_token_is_forbidden(server, transport, testenv, namespace):
    async with connect(server, transport, testenv["KUBE_TESTENV_LIMITED_TOKEN"]) as s:
        r = await s.call_tool("get_providers", {"namespace": namespace})
        assert r.is_error
        assert "Forbidden (403)" in r.content[0].text
        assert testenv["KUBE_TESTENV_LIMITED_TOKEN"] not in r.content[0].text


@pytest.mark.parametrize("transport", ["sse", "streamable"])
async def test_no_headers_uses_the_kubeconfig_identity(server, transport, namespace):
    async with connect(server, transport) as s:
        r = await s.call_tool("get_providers", {"namespace": namespace})
        assert not r.is_error, r.content[0].text
        assert r.structured_content["items"] == []


@pytest.mark.parametrize("transport", ["sse", "streamable"])
async def test_progress_notifications_reach_the_client(server, transport, testenv, namespace):
    seen = []

    async def on_progress(progress, total, message):
        seen.append((progress, total, message))

    async with connect(server, transport, testenv["KUBE_TESTENV_ADMIN_TOKEN"]) as s:
        r = await s.call_tool("get_providers", {"namespace": namespace}, progress_callback=on_progress)
        assert not r.is_error, r.content[0].text
    assert seen, "no progress notification arrived"
    assert seen[-1][0] == 1.0 and seen[-1][1] == 1.0
    assert all(isinstance(m, str) and m for _, _, m in seen)
