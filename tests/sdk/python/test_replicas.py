"""Several replicas behind a load balancer, as a Deployment behind a Service
runs them: three `--stateless` servers behind HAProxy (from Debian, round
robin per request) serve the official SDK's Streamable HTTP client, with
consecutive requests landing on different replicas. Stateful replicas behind
the same balancer show why they need session affinity: a clear 404, not a
hang."""
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time

import anyio
import httpx2
import pytest
from mcp import ClientSession, types
from mcp.client.streamable_http import streamable_http_client
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from conftest import Server
from test_watch import estate, finish_web_tier  # noqa: F401  (fixture)

pytestmark = pytest.mark.anyio


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def balanced(binary, testenv, extra, replicas=3):
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    assert os.path.exists(haproxy), "haproxy is installed by scripts/test"
    servers = [Server(binary, testenv, extra=extra) for _ in range(replicas)]
    port = free_port()
    backends = "\n".join(
        f"  server r{i} {s.base.split('//')[1]}" for i, s in enumerate(servers, 1))
    cfg = f"""
global
  maxconn 512
defaults
  mode http
  timeout connect 5s
  timeout client 90s
  timeout server 90s
  option http-server-close
frontend mcp
  bind 127.0.0.1:{port}
  default_backend replicas
backend replicas
  balance roundrobin
  http-response set-header X-Replica %[srv_name]
{backends}
"""
    with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as f:
        f.write(cfg)
    proc = subprocess.Popen([haproxy, "-db", "-f", f.name],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read()
                assert time.time() < deadline, "haproxy did not start"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", servers
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        os.unlink(f.name)
        for s in servers:
            s.stop()


class Replicas:
    """Records which replica answered each request (X-Replica)."""

    def __init__(self):
        self.seen = []

    async def hook(self, response):
        self.seen.append(response.headers.get("x-replica"))


@contextlib.asynccontextmanager
async def sdk_session(base, token, replicas):
    client = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60,
                                event_hooks={"response": [replicas.hook]})
    async with streamable_http_client(base + "/mcp", http_client=client) as streams:
        async with ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            yield session


async def test_stateless_replicas_serve_one_client(binary, testenv, estate, catalogue):  # noqa: F811
    ns, kube = estate
    with balanced(binary, testenv, ["--stateless", "--tools-page-size", "7"]) as (base, servers):
        replicas = Replicas()
        async with sdk_session(base, testenv["KUBE_TESTENV_ADMIN_TOKEN"], replicas) as s:
            # tools/list pages: each cursor is followed on another replica.
            names, cursor, pages = [], None, 0
            while True:
                params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
                page = await s.list_tools(params=params)
                names += [t.name for t in page.tools]
                pages += 1
                cursor = page.next_cursor
                if not cursor:
                    break
            assert pages >= 3 and set(names) == catalogue and len(names) == len(set(names))
            r = await s.call_tool("get_plans", {"namespace": ns})
            assert not r.is_error, r.content[0].text
            assert "web-tier-migration" in r.content[0].text
            r = await s.call_tool("describe_plan", {"name": "web-tier-migration", "namespace": ns})
            assert not r.is_error, r.content[0].text

            # A watch's progress streams on its own POST's response.
            seen, result = [], {}

            async def on_progress(progress, total, message):
                seen.append(message)

            async def call():
                result["r"] = await s.call_tool(
                    "watch_plan", {"name": "web-tier-migration", "namespace": ns, "timeout_seconds": 60},
                    progress_callback=on_progress)

            with anyio.fail_after(40):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(call)
                    tg.start_soon(finish_web_tier, ns, kube, 1.5)
            assert not result["r"].is_error, result["r"].content[0].text
            assert result["r"].structured_content["ended"] == "succeeded"
            assert any("web-01: DiskTransfer 40%" in m for m in seen), seen
        answered = [r for r in replicas.seen if r]
        assert set(answered) == {"r1", "r2", "r3"}, answered
        consecutive = list(zip(answered, answered[1:]))
        assert all(a != b for a, b in consecutive), f"round robin per request: {answered}"

        # Each replica's /metrics parses (strictly, as OpenMetrics text) and counted its share.
        calls = 0
        for srv in servers:
            text = httpx2.get(srv.base + "/metrics").text
            families = {f.name: f for f in text_string_to_metric_families(text)}
            assert "kubectl_mtv_tool_calls" in families and "kubectl_mtv_build_info" in families
            calls += sum(sm.value for sm in families["kubectl_mtv_tool_calls"].samples
                         if sm.name == "kubectl_mtv_tool_calls_total")
            sessions = [sm.value for sm in families["kubectl_mtv_sessions"].samples
                        if sm.labels.get("transport") == "streamable"]
            assert sessions == [0.0], "stateless replicas keep no sessions"
        assert calls == 3, calls


async def test_stateful_replicas_need_affinity(binary, testenv):
    with balanced(binary, testenv, []) as (base, _servers):
        init = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
                "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                           "clientInfo": {"name": "t", "version": "0"}}}
        headers = {"Accept": "application/json, text/event-stream",
                   "Authorization": f"Bearer {testenv['KUBE_TESTENV_ADMIN_TOKEN']}"}
        async with httpx2.AsyncClient(timeout=10) as c:
            r = await c.post(base + "/mcp", json=init, headers=headers)
            assert r.status_code == 200
            sid = r.headers["mcp-session-id"]
            first = r.headers["x-replica"]
            r = await c.post(base + "/mcp", headers={**headers, "Mcp-Session-Id": sid},
                             json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
            assert r.headers["x-replica"] != first
            assert r.status_code == 404
            assert "another replica" in r.json()["error"]["message"]
