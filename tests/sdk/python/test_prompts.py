"""The chapter's workflows as MCP prompts, through the official Python SDK."""
import os
import re

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError

pytestmark = pytest.mark.anyio


def params(binary, testenv, *extra):
    env = {"KUBECONFIG": testenv["KUBECONFIG"], "PATH": os.environ.get("PATH", "")}
    return StdioServerParameters(command=binary, args=["mcp-server", *extra], env=env)


async def test_prompts_are_listed_and_filled_in(binary, testenv, catalogue):
    async with stdio_client(params(binary, testenv)) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            assert init.capabilities.prompts is not None

            listed = await session.list_prompts()
            by_name = {p.name: p for p in listed.prompts}
            assert set(by_name) == {"plan_migration", "troubleshoot_plan", "review_environment", "compliance_review"}
            args = {a.name: a.required for a in by_name["plan_migration"].arguments}
            assert args == {"provider": True, "vm_filter": True, "target_namespace": True, "namespace": False}
            assert all(p.description for p in listed.prompts)

            got = await session.get_prompt("troubleshoot_plan", {"plan": "web", "namespace": "mtv"})
            text = got.messages[0].content.text
            assert got.messages[0].role == "user"
            assert 'describe_plan {"name": "web", "namespace": "mtv"}' in text
            assert "{{" not in text
            # Every tool the prompts name is one the server serves.
            for name in by_name:
                p = await session.get_prompt(name, {a.name: "x" for a in by_name[name].arguments})
                body = p.messages[0].content.text
                words = [span.split()[0] for span in body.split("`")[1::2] if span.strip()]
                named = {w for w in words if re.fullmatch(r"[a-z]+(_[a-z]+)+", w)}
                assert named and named <= catalogue, (name, named - catalogue)
                assert "does not serve" not in body

            # A missing required argument is a protocol error that says which.
            with pytest.raises(MCPError) as e:
                await session.get_prompt("troubleshoot_plan", {"plan": "web"})
            assert 'needs argument "namespace"' in str(e.value)


async def test_read_only_prompts_say_what_they_cannot_do(binary, testenv):
    async with stdio_client(params(binary, testenv, "--read-only")) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            got = await session.get_prompt("plan_migration", {"provider": "vc", "vm_filter": "web-01", "target_namespace": "t"})
            assert "does not serve create_plan, start_plan" in got.messages[0].content.text
