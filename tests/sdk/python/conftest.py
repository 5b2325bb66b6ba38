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
