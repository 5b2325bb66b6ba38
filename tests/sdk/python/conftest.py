"""Shared fixtures for the MCP Python SDK tests.

Environment (set by scripts/test):
  KUBECTL_MTV_BIN   the kubectl-mtv binary under test
  KUBE_TESTENV_DIR  the local API server (its env file holds the kubeconfig and tokens)
"""
import os
import uuid
import subprocess

import pytest


def _testenv():
    d = os.environ["KUBE_TESTENV_DIR"]
    env = {}
    with open(os.path.join(d, "env")) as f:
        for line in f:
            line = line.strip()
            if line.startswith("export ") and "=" in line:
                k, v = line[len("export "):].split("=", 1)
                env[k] = v.strip("'")
    return env


@pytest.fixture(scope="session")
def testenv():
    return _testenv()


@pytest.fixture(scope="session")
def binary():
    return os.environ["KUBECTL_MTV_BIN"]


@pytest.fixture(scope="session")
def catalogue(binary):
    """Tool names the server's full catalogue has (`kubectl-mtv tools --json`)."""
    import json
    out = subprocess.run([binary, "tools", "--json"], check=True, capture_output=True).stdout
    return {t["name"] for t in json.loads(out)["tools"]}


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def namespace(testenv):
    """A fresh namespace (the test API server never finishes deleting one)."""
    name = "py-" + uuid.uuid4().hex[:10]
    subprocess.run(
        ["kubectl", "--kubeconfig", testenv["KUBECONFIG"], "create", "namespace", name],
        check=True,
        capture_output=True,
    )
    return name


PROVIDER_SPEC = {
    "type": "vsphere",
    "url": "https://vcenter.example.com/sdk",
    "secret": {"name": "vcenter-credentials", "namespace": "openshift-mtv"},
}


class Server:
    """`kubectl-mtv mcp-server --sse --port 0`, plain or with TLS."""

    def __init__(self, binary, testenv, tls_dir=None, extra=()):
        import re
        args = [binary, "mcp-server", "--sse", "--port", "0", *extra]
        if tls_dir:
            args += ["--cert-file", os.path.join(tls_dir, "server.crt"),
                     "--key-file", os.path.join(tls_dir, "server.key")]
        env = {"PATH": os.environ.get("PATH", ""), "HOME": "/nonexistent", "KUBECONFIG": testenv["KUBECONFIG"]}
        self.proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
        for line in self.proc.stderr:
            m = re.search(r"Listening on (https?://[^ ]+)", line)
            if m:
                self.base = m.group(1).strip()
                break
        else:
            raise RuntimeError("server did not start")

    def stop(self):
        self.proc.terminate()
        assert self.proc.wait(timeout=10) == 0


@pytest.fixture(params=["http", "https"])
def server(request, binary, testenv):
    tls_dir = os.environ["TEST_TLS_DIR"] if request.param == "https" else None
    s = Server(binary, testenv, tls_dir)
    s.ca = os.path.join(os.environ["TEST_TLS_DIR"], "ca.crt") if tls_dir else None
    yield s
    s.stop()
