"""The server over stdio, through the official Python SDK's stdio_client."""
import os

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from conftest import PROVIDER_SPEC

pytestmark = pytest.mark.anyio


def params(binary, testenv, *extra):
    env = {"KUBECONFIG": testenv["KUBECONFIG"], "PATH": os.environ.get("PATH", "")}
    return StdioServerParameters(command=binary, args=["mcp-server", *extra], env=env)


async def test_initialize_list_create_get_provider(binary, testenv, namespace, catalogue):
    async with stdio_client(params(binary, testenv)) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            assert init.server_info.name == "kubectl-mtv"
            assert init.capabilities.tools is not None

            tools = await session.list_tools()
            names = {t.name for t in tools.tools}
            assert names == catalogue
            assert {"get_providers", "create_provider", "patch_plan", "explain_resource", "watch_plan", "describe_plan"} <= names

            created = await session.call_tool(
                "create_provider",
                {"name": "vc", "namespace": namespace, "spec": PROVIDER_SPEC},
            )
            assert not created.is_error, created.content[0].text
            assert created.structured_content["metadata"]["name"] == "vc"

            got = await session.call_tool("get_providers", {"name": "vc", "namespace": namespace})
            assert not got.is_error, got.content[0].text
            assert got.structured_content["spec"]["url"] == PROVIDER_SPEC["url"]

            listed = await session.call_tool("get_providers", {"namespace": namespace})
            assert [i["metadata"]["name"] for i in listed.structured_content["items"]] == ["vc"]

            missing = await session.call_tool("get_providers", {"name": "nope", "namespace": namespace})
            assert missing.is_error
            assert "Not found (404)" in missing.content[0].text


async def test_limited_identity_gets_forbidden(binary, testenv, namespace):
    async with stdio_client(params(binary, testenv, "--context", "kube-testenv-limited")) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            r = await session.call_tool("get_providers", {"namespace": namespace})
            assert r.is_error
            assert "Forbidden (403)" in r.content[0].text
