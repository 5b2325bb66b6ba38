"""watch_plan through the official Python SDK, as a model's client uses it:
the watch's progress notifications reach `progress_callback` over stdio,
Streamable HTTP and SSE while the test plays Forklift's controller, and the
call returns its summary when the plan succeeds."""
import importlib.machinery
import importlib.util
import os
import subprocess
import uuid

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from test_http import connect

pytestmark = pytest.mark.anyio

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def _estate_module():
    path = os.path.join(ROOT, "scripts", "sample-estate")
    loader = importlib.machinery.SourceFileLoader("sample_estate", path)
    spec = importlib.util.spec_from_loader("sample_estate", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


ESTATE = _estate_module()


@pytest.fixture
def estate():
    """A fresh namespace with the sample estate; returns (namespace, kube)."""
    env_file = os.path.join(os.environ["KUBE_TESTENV_DIR"], "env")
    ns = "pyw-" + uuid.uuid4().hex[:10]
    subprocess.run([os.path.join(ROOT, "scripts", "sample-estate"), "--env", env_file, "--namespace", ns],
                   check=True, capture_output=True)
    return ns, ESTATE.Kube(env_file)


async def finish_web_tier(ns, kube, delay):
    """The controller completes web-tier-migration after `delay` seconds."""
    await anyio.sleep(delay)
    base = f"/apis/forklift.konveyor.io/v1beta1/namespaces/{ns}"
    vms = [ESTATE.vm_status(i, n, "Completed", [("VirtualMachineCreation", "Completed", 1, 1)], outcome="Succeeded")
           for i, n in (("vm-2001", "web-01"), ("vm-2002", "web-02"))]
    await anyio.to_thread.run_sync(lambda: kube.status(f"{base}/migrations", "web-tier-migration-1", {
        "completed": ESTATE.now(), "vms": vms,
        "conditions": [ESTATE.cond("Succeeded", "Advisory", "The migration has SUCCEEDED.")]}))
    await anyio.to_thread.run_sync(lambda: kube.status(f"{base}/plans", "web-tier-migration", {
        "conditions": [ESTATE.ready("ready"), ESTATE.cond("Succeeded", "Advisory", "The plan execution has SUCCEEDED.")],
        "migration": {"vms": vms}}))


async def watch_until_done(session, ns, kube):
    seen = []

    async def on_progress(progress, total, message):
        seen.append((progress, message))

    result = {}

    async def call():
        result["r"] = await session.call_tool(
            "watch_plan", {"name": "web-tier-migration", "namespace": ns, "timeout_seconds": 60},
            progress_callback=on_progress)

    with anyio.fail_after(40):
        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            tg.start_soon(finish_web_tier, ns, kube, 1.5)
    r = result["r"]
    assert not r.is_error, r.content[0].text
    assert r.structured_content["ended"] == "succeeded", r.structured_content
    assert "Watch ended: the plan succeeded" in r.content[0].text
    messages = "\n".join(m for _, m in seen)
    assert "web-01: DiskTransfer 40%" in messages, messages
    assert "Succeeded" in messages, messages
    progress = [p for p, _ in seen]
    assert progress == sorted(progress) and len(set(progress)) == len(progress), "progress only grows"
    return seen


async def test_watch_plan_progress_over_stdio(binary, testenv, estate):
    ns, kube = estate
    env = {"PATH": os.environ.get("PATH", ""), "HOME": "/nonexistent", "KUBECONFIG": testenv["KUBECONFIG"]}
    params = StdioServerParameters(command=binary, args=["mcp-server"], env=env)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            seen = await watch_until_done(session, ns, kube)
            assert len(seen) >= 2


@pytest.mark.parametrize("transport", ["streamable", "sse"])
async def test_watch_plan_progress_over_http(server, transport, testenv, estate):
    ns, kube = estate
    async with connect(server, transport, testenv["KUBE_TESTENV_ADMIN_TOKEN"]) as session:
        seen = await watch_until_done(session, ns, kube)
        assert len(seen) >= 2
