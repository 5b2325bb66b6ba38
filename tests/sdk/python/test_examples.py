"""Runs examples/python against the local API server with the sample estate:
the stdio client (server started by the example) and the HTTP client over
Streamable HTTP and SSE, with a bearer token."""
import os
import subprocess
import sys
import uuid

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
EXAMPLES = os.path.join(ROOT, "examples", "python")


@pytest.fixture
def estate_ns():
    ns = "pyex-" + uuid.uuid4().hex[:10]
    subprocess.run([os.path.join(ROOT, "scripts", "sample-estate"), "--env", os.path.join(os.environ["KUBE_TESTENV_DIR"], "env"),
                    "--namespace", ns], check=True, capture_output=True)
    return ns


def run(script, args, env):
    out = subprocess.run([sys.executable, os.path.join(EXAMPLES, script), *args], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_stdio_client_example(binary, testenv, estate_ns):
    env = dict(os.environ, KUBECONFIG=testenv["KUBECONFIG"])
    out = run("stdio_client.py", ["--namespace", estate_ns, "--plan", "web-tier-migration", "--command", binary,
                                  "--watch-seconds", "2"], env)
    assert "connected to kubectl-mtv" in out
    assert "provider vcenter-prod: vsphere https://vcenter.example.com/sdk" in out
    assert "web-tier-migration" in out and "web-01: DiskTransfer 40%" in out
    assert "progress 1: web-tier-migration: phase Executing" in out
    assert 'ended: "timeout"' in out


@pytest.mark.parametrize("transport", ["streamable", "sse"])
def test_http_client_example(server, transport, testenv, estate_ns):
    env = dict(os.environ, KUBERNETES_TOKEN=testenv["KUBE_TESTENV_ADMIN_TOKEN"])
    args = ["--url", server.base, "--namespace", estate_ns, "--transport", transport]
    if server.ca:
        args += ["--cafile", server.ca]
    out = run("http_client.py", args, env)
    assert f"tools over {transport}" in out
    assert "2 Providers in namespace" in out
    assert "plan web-tier-migration: Ready, Executing" in out
    assert "plan legacy-app-migration: StorageRefNotValid" in out
