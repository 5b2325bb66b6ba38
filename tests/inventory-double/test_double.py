"""Self-test of the forklift-inventory test double (serve.py).

Run:  python3 -m pytest -q tests/inventory-double/test_double.py
Needs pytest and the `openssl` binary (for the TLS test). Each server is a real subprocess
started on port 0; its URL is read from the "LISTENING <url>" line.
"""

import http.client
import json
import os
import re
import select
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import urlsplit

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SERVE = os.path.join(HERE, "serve.py")
ESTATE = os.path.join(HERE, "estate")


def estate(name):
    with open(os.path.join(ESTATE, name + ".json"), encoding="utf-8") as f:
        return json.load(f)


VS = estate("vsphere-main")
OCP = estate("openshift-host")
OV = estate("ovirt-main")
OSP = estate("openstack-main")
VS_UID = VS["provider"]["uid"]
OCP_UID = OCP["provider"]["uid"]
OV_UID = OV["provider"]["uid"]
OSP_UID = OSP["provider"]["uid"]
TOKEN = "sha256~test-token-alice"

VS_BASE = ["id", "variant", "parent", "path", "revision", "name", "selfLink"]
OCP_BASE = ["uid", "version", "namespace", "name", "selfLink", "path", "id"]
PROVIDER_BASE = ["uid", "version", "namespace", "name", "selfLink", "id"]


class Double:
    def __init__(self, *args, cafile=None):
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([sys.executable, SERVE, "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 15)
        line = self.proc.stdout.readline() if ready else ""
        if not line.startswith("LISTENING "):
            self.stop()
            self.log.seek(0)
            raise RuntimeError("double did not start: %r\n%s" % (line, self.log.read().decode()))
        self.url = line.split()[1]
        u = urlsplit(self.url)
        self.scheme, self.host, self.port = u.scheme, u.hostname, u.port
        self.ctx = None
        if cafile:
            self.ctx = ssl.create_default_context(cafile=cafile)

    def conn(self):
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=20, context=self.ctx)
        return http.client.HTTPConnection(self.host, self.port, timeout=20)

    def request(self, path, token=TOKEN, method="GET", body=None, headers=None):
        c = self.conn()
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        raw = r.read()
        c.close()
        return r.status, r.headers, raw

    def json(self, path, token=TOKEN, expect=200, **kw):
        status, headers, raw = self.request(path, token=token, **kw)
        assert status == expect, (path, status, raw[:300])
        return json.loads(raw)

    def control(self, method, path, body=None, expect=(200, 201)):
        status, _, raw = self.request("/_double/" + path, token=None, method=method, body=body)
        assert status in expect, (path, status, raw)
        return json.loads(raw) if raw else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


@pytest.fixture(scope="module")
def dbl():
    d = Double("--default-providers")
    yield d
    d.stop()


@pytest.fixture
def fresh():
    started = []

    def start(*args, **kw):
        d = Double(*args, **kw)
        started.append(d)
        return d

    yield start
    for d in started:
        d.stop()


def vs(path=""):
    return "/providers/vsphere/%s%s" % (VS_UID, path)


def ocp(path=""):
    return "/providers/openshift/%s%s" % (OCP_UID, path)


def assert_empty_404(status, headers, raw, reason=None):
    assert status == 404
    assert raw == b""
    assert headers.get("X-Reason") == reason


# --------------------------------------------------------------------------------------------
# /providers and provider entries (ref §2, §4)
# --------------------------------------------------------------------------------------------

def test_providers_aggregate_detail0(dbl):
    body = dbl.json("/providers?detail=0")
    assert list(body) == sorted(["openshift", "vsphere", "ovirt", "openstack", "ova", "ec2", "hyperv"])
    assert "nutanix" not in body
    assert body["ova"] == [] and body["ec2"] == [] and body["hyperv"] == []
    (v,) = body["vsphere"]
    assert list(v) == PROVIDER_BASE
    assert v["uid"] == v["id"] == VS_UID
    assert v["selfLink"] == "providers/vsphere/" + VS_UID
    assert dbl.json("/providers") == body  # absent detail == 0
    assert dbl.json("/providers/") == body


@pytest.mark.parametrize("detail", ["1", "4", "all", "ALL"])
def test_providers_aggregate_full(dbl, detail):
    body = dbl.json("/providers?detail=" + detail)
    v = body["vsphere"][0]
    assert list(v)[:6] == PROVIDER_BASE
    assert v["type"] == "vsphere"
    assert v["object"]["metadata"]["uid"] == VS_UID
    assert v["object"]["status"]["phase"] == "Ready"
    assert v["product"] == "VMware vCenter Server"
    # db.Count over the whole table: templates and ghost VMs are counted.
    assert (v["vmCount"], v["hostCount"], v["networkCount"], v["datastoreCount"]) == (8, 2, 4, 2)
    o = body["openshift"][0]
    # networkCount = served NADs (the primary-UDN NAD is skipped) + 1 for the pod network.
    assert (o["vmCount"], o["networkCount"], o["storageClassCount"]) == (2, 4, 3)
    assert body["ovirt"][0]["storageDomainCount"] == 2
    assert body["openstack"][0]["volumeTypeCount"] == 2


def test_providers_by_type_and_namespace(dbl):
    assert [p["uid"] for p in dbl.json("/providers/vsphere")] == [VS_UID]
    assert [p["uid"] for p in dbl.json("/providers/vsphere/")] == [VS_UID]
    assert dbl.json("/providers/vsphere?namespace=elsewhere") == []
    assert len(dbl.json("/providers/vsphere?namespace=openshift-mtv")) == 1
    assert dbl.json("/providers/nutanix") == []  # has a handler, just no providers
    agg = dbl.json("/providers?detail=1&namespace=elsewhere")
    assert all(v == [] for v in agg.values())
    assert dbl.json("/providers/vsphere?detail=1")[0] == dbl.json("/providers?detail=1")["vsphere"][0]


def test_provider_get_always_full(dbl):
    p = dbl.json(vs() + "?detail=0")
    assert p["type"] == "vsphere" and "object" in p and p["datacenterCount"] == 1
    o = dbl.json(ocp())
    assert o["type"] == "openshift" and o["object"]["spec"]["type"] == "openshift"


def test_provider_get_with_uid_of_another_type_is_plain_404(dbl):
    assert_empty_404(*dbl.request("/providers/vsphere/" + OCP_UID))
    assert_empty_404(*dbl.request("/providers/openshift/" + VS_UID))


def test_collection_under_other_type_is_500(dbl):
    status, _, raw = dbl.request("/providers/openshift/%s/vms" % VS_UID)
    assert (status, raw) == (500, b"")


# --------------------------------------------------------------------------------------------
# Status codes (ref §6)
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/providers/vsphere/0000-unknown",
    "/providers/vsphere/0000-unknown/vms",
    "/providers/vsphere/0000-unknown/vms/vm-2001",
    "/providers/openshift/0000-unknown/namespaces",
    "/providers/ova/0000-unknown/vms",
])
def test_unknown_provider_uid(dbl, path):
    assert_empty_404(*dbl.request(path), reason="ProviderNotFound")
    # Prepare() looks the provider up before auth: no token still gives the 404.
    assert_empty_404(*dbl.request(path, token=None), reason="ProviderNotFound")


@pytest.mark.parametrize("path", [vs("/vms/vm-9999"), vs("/networks/nope"), ocp("/namespaces/nope"),
                                  "/providers/ovirt/%s/vms/nope" % OV_UID])
def test_unknown_object_id(dbl, path):
    assert_empty_404(*dbl.request(path))


@pytest.mark.parametrize("query", ["detail=x", "detail=1.5", "detail=%201", "limit=-1", "limit=abc",
                                   "offset=-3", "offset=1e2", "limit=1_0"])
def test_bad_params_are_400(dbl, query):
    for path in ("/providers", vs("/vms"), ocp("/namespaces"), vs()):
        status, _, raw = dbl.request(path + "?" + query)
        assert (status, raw) == (400, b""), (path, query)
    # Params are checked before auth.
    assert dbl.request("/providers?" + query, token=None)[0] == 400


def test_missing_or_malformed_token_is_401(dbl):
    for hdr in [None, "Bearer", "Basic Zm9vOmJhcg==", "bearer abc", "Bearer a b", "Token abc"]:
        h = {} if hdr is None else {"Authorization": hdr}
        status, _, raw = dbl.request(vs("/vms"), token=None, headers=h)
        assert (status, raw) == (401, b""), hdr
    assert dbl.request("/providers", token=None)[0] == 401


def test_deny_token_403_with_forklift_error_message(fresh):
    d = fresh("--default-providers", "--deny-token", "bad-token=system:serviceaccount:demo:viewer")
    status, headers, raw = d.request(vs("/vms"), token="bad-token")
    assert status == 403 and raw == b""
    msg = headers["Forklift-Error-Message"]
    assert msg.startswith('providers.forklift.konveyor.io is forbidden: User "system:serviceaccount:demo:viewer" '
                          'cannot get resource "providers" in API group "forklift.konveyor.io" in the namespace "openshift-mtv"')
    status, headers, _ = d.request("/providers?namespace=team-a", token="bad-token")
    assert status == 403
    assert 'cannot list resource "providers"' in headers["Forklift-Error-Message"]
    assert 'in the namespace "team-a"' in headers["Forklift-Error-Message"]
    assert d.request(vs("/vms"), token="good-token")[0] == 200


def test_accept_token_only(fresh):
    d = fresh("--default-providers", "--accept-token", "t1", "--accept-token", "t2")
    assert d.request(vs("/vms"), token="t1")[0] == 200
    assert d.request(vs("/vms"), token="t2")[0] == 200
    status, _, raw = d.request(vs("/vms"), token="t3")
    assert (status, raw) == (401, b"")


def test_auth_control_grants_per_namespace(dbl):
    try:
        dbl.control("POST", "auth", {"grants": {"ns-user": {"user": "bob", "namespaces": ["team-a"]}},
                                     "deny": {"evil": "mallory"}})
        status, headers, _ = dbl.request(vs("/vms"), token="ns-user")  # CR is in openshift-mtv
        assert status == 403 and 'User "bob"' in headers["Forklift-Error-Message"]
        assert dbl.request("/providers?namespace=team-a", token="ns-user")[0] == 200
        assert dbl.request("/providers", token="ns-user")[0] == 403  # cluster-wide list
        assert dbl.request("/providers", token="evil")[0] == 403
        dbl.control("POST", "auth", {"required": False})
        assert dbl.request(vs("/vms"), token=None)[0] == 200
    finally:
        dbl.control("POST", "auth", {"required": True, "grants": {}, "deny": {}, "accept": None})
    assert dbl.request(vs("/vms"), token=None)[0] == 401


def test_no_auth_flag(fresh):
    d = fresh("--default-providers", "--no-auth")
    assert d.request(vs("/vms"), token=None)[0] == 200


def test_loading_provider_is_206(fresh):
    d = fresh("--default-providers", "--loading", VS_UID)
    for path in (vs(), vs("/vms"), vs("/vms/vm-2001")):
        status, _, raw = d.request(path)
        assert (status, raw) == (206, b"")
    assert d.request(vs("/vms"), token=None)[0] == 206  # parity is checked before auth
    # Still listed (its collector exists); the CR shows it is staging.
    listed = d.json("/providers?detail=1")["vsphere"]
    assert [p["uid"] for p in listed] == [VS_UID] and listed[0]["object"]["status"]["phase"] == "Staging"
    d.control("POST", "providers/" + VS_UID, {"state": "ready"})
    assert d.request(vs("/vms"))[0] == 200
    d.control("POST", "providers/" + OCP_UID, {"state": "loading"})
    assert d.request(ocp("/namespaces"))[0] == 206


def test_parity_wait_then_ready(fresh):
    d = fresh("--default-providers", "--loading", VS_UID, "--parity-wait", "5")
    threading.Timer(0.5, lambda: d.control("POST", "providers/" + VS_UID, {"state": "ready"})).start()
    t0 = time.monotonic()
    assert d.request(vs("/vms"))[0] == 200
    assert time.monotonic() - t0 < 4.5


def test_fault_injection_500(dbl):
    dbl.control("POST", "faults", {"path": "/vms$", "status": 500, "count": 1})
    status, _, raw = dbl.request(vs("/vms"))
    assert (status, raw) == (500, b"")
    assert dbl.request(vs("/vms"))[0] == 200
    dbl.control("POST", "faults", {"path": "/datastores", "status": 500})
    assert dbl.request(vs("/datastores"))[0] == 500
    assert dbl.request(vs("/datastores"))[0] == 500
    dbl.control("DELETE", "faults")
    assert dbl.request(vs("/datastores"))[0] == 200


def test_unknown_paths_are_gin_404(dbl):
    for path in ["/", "/nope", "/providers/azure", "/providers/vsphere/%s/instances" % VS_UID,
                 ocp("/networks"), "/providers/openstack/%s/instances" % OSP_UID,
                 vs("/tree/host"), vs("/vms/vm-2001/extra"), "/providers/vsphere//vms"]:
        status, headers, raw = dbl.request(path)
        assert (status, raw) == (404, b"404 page not found"), path
        assert headers.get("X-Reason") is None
    assert dbl.request("/providers", method="POST", body={})[0] == 404  # GET only


def test_trailing_slash(dbl):
    assert len(dbl.json(vs("/vms/"))) == 6
    status, headers, _ = dbl.request(vs("/vms/vm-2001/?detail=1"))
    assert status == 301 and headers["Location"] == vs("/vms/vm-2001?detail=1")
    status, headers, _ = dbl.request(vs("/"))
    assert status == 301 and headers["Location"] == vs()


def test_x_watch(dbl):
    assert dbl.request("/providers/vsphere", headers={"X-Watch": "snapshot"})[0] == 400
    assert dbl.request(ocp("/vms"), headers={"X-Watch": ""})[0] == 501


def test_schema(dbl):
    body = dbl.json("/schema", token=None)
    assert "/providers/vsphere/:provider/vms" in body["paths"]
    assert "/providers/nutanix/:provider/storagecontainers" in body["paths"]


def test_json_headers(dbl):
    status, headers, raw = dbl.request(vs("/vms"))
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert int(headers["Content-Length"]) == len(raw)
    assert not raw.endswith(b"\n") and b": " not in raw[:50]


# --------------------------------------------------------------------------------------------
# Detail levels and the vSphere VM exception (ref §3.2)
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("detail", ["", "?detail=0", "?detail=1", "?detail=all"])
def test_vsphere_vms_always_full_without_template_and_ghost(dbl, detail):
    vms = dbl.json(vs("/vms" + detail))
    names = [v["name"] for v in vms]
    assert names == ["web-01", "web-02", "web-03", "db-01", "db-02", "app-01"]
    assert "rhel9-template" not in names and "ghost-vm" not in names
    for v in vms:
        assert v["isTemplate"] is False
        assert "memoryMB" in v and "guestNetworks" in v  # full VM, not VM0/VM1
        assert v["uuid"] and v["host"]


def test_vsphere_template_and_ghost_served_by_id(dbl):
    t = dbl.json(vs("/vms/vm-2007"))
    assert t["isTemplate"] is True and t["name"] == "rhel9-template"
    g = dbl.json(vs("/vms/vm-2008"))
    assert (g["uuid"], g["instanceUuid"], g["host"]) == ("", "", "")


def test_vsphere_per_object_is_full(dbl):
    v = dbl.json(vs("/vms/vm-2004?detail=0"))
    assert v["memoryMB"] == 32768
    assert v["selfLink"] == "providers/vsphere/%s/vms/vm-2004" % VS_UID
    assert [c["category"] for c in v["concerns"]] == ["Critical", "Warning"]


def test_vsphere_detail_levels_networks(dbl):
    d0 = dbl.json(vs("/networks?detail=0"))
    assert [n["name"] for n in d0] == ["VM Network", "dvs-east", "app-vlan20", "db-vlan30"]
    for n in d0:
        assert list(n) == [k for k in VS_BASE if k in n] and len(n) == 7  # all have a variant
    assert d0 == dbl.json(vs("/networks"))
    d1 = dbl.json(vs("/networks?detail=1"))
    assert list(d1[2])[:6] == ["id", "parent", "path", "revision", "name", "selfLink"]
    assert d1[2]["variant"] == "DvPortGroup" and d1[2]["dvSwitch"] == {"kind": "Network", "id": "dvs-60"}
    assert d1[2]["vlanId"] == "20" and d1[2]["host"] is None
    assert d1[1]["host"][0] == {"Host": {"kind": "Host", "id": "host-41"}, "PNIC": ["vmnic1"]}
    # Most resources compare `detail == 0`: a negative detail gives the full object.
    assert dbl.json(vs("/networks?detail=-1")) == d1


@pytest.mark.parametrize("coll", ["datastores", "hosts", "clusters", "datacenters", "folders"])
def test_vsphere_detail0_is_base_resource(dbl, coll):
    d0 = dbl.json(vs("/%s?detail=0" % coll))
    d1 = dbl.json(vs("/%s?detail=1" % coll))
    assert len(d0) == len(d1) > 0
    for a, b in zip(d0, d1):
        assert list(a) == [k for k in VS_BASE if k in b]
        assert len(b) > len(a)
        assert {k: b[k] for k in a} == a


def test_ovirt_vm_three_levels(dbl):
    base = "/providers/ovirt/%s/vms" % OV_UID
    v0 = dbl.json(base + "?detail=0")[0]
    v1 = dbl.json(base + "?detail=1")[0]
    v2 = dbl.json(base + "?detail=2")[0]
    assert list(v0) == ["id", "revision", "path", "name", "selfLink"]
    assert list(v1) == list(v0) + ["cluster", "status", "host", "revisionValidated", "nics", "diskAttachments", "concerns"]
    assert "memory" in v2 and "memory" not in v1 and len(v2) > len(v1)
    assert v0["path"] == "Default/rhel8-db"


def test_openstack_vm_levels_and_shapes(dbl):
    base = "/providers/openstack/%s" % OSP_UID
    v1 = dbl.json(base + "/vms?detail=1")
    assert [v["status"] for v in v1] == ["ACTIVE", "SHUTOFF"]
    assert "imageID" not in v1[0] and v1[1]["imageID"]  # omitempty
    assert v1[0]["attachedVolumes"] == [{"ID": dbl.json(base + "/volumes")[0]["id"]}]
    assert "fault" not in v1[0] and "fault" in dbl.json(base + "/vms?detail=2")[0]
    vt = dbl.json(base + "/volumetypes?detail=1")
    assert [t["name"] for t in vt] == ["ceph-ssd", "ceph-hdd"] and vt[0]["extraSpecs"]["volume_backend_name"] == "ceph-ssd"


def test_openshift_detail_levels(dbl):
    d0 = dbl.json(ocp("/namespaces"))
    assert [n["name"] for n in d0] == ["app-team", "default", "openshift-cnv", "openshift-mtv", "vm-migrations"]
    for n in d0:
        assert list(n) == [k for k in OCP_BASE if k in n] and n["uid"] == n["id"] and n["namespace"] == ""
    d1 = dbl.json(ocp("/namespaces?detail=1"))
    assert all(n["object"]["metadata"]["uid"] == n["uid"] for n in d1)
    scs = dbl.json(ocp("/storageclasses?detail=1"))
    default = [s["name"] for s in scs
               if s["object"]["metadata"].get("annotations", {}).get("storageclass.kubernetes.io/is-default-class") == "true"]
    assert default == ["ceph-rbd-virt"]
    sc = dbl.json(ocp("/storageclasses/" + scs[0]["uid"] + "?detail=0"))  # per-object: full
    assert sc["object"]["provisioner"] == "openshift-storage.rbd.csi.ceph.com"


def test_openshift_vms_nads_pvcs(dbl):
    vms = dbl.json(ocp("/vms?detail=1"))
    assert [(v["name"], v["object"]["status"]["printableStatus"]) for v in vms] == [("fedora-web", "Running"), ("rhel9-db", "Stopped")]
    assert "instance" in vms[0] and "instance" not in vms[1]
    nads = dbl.json(ocp("/networkattachmentdefinitions?detail=1"))
    assert [(n["namespace"], n["name"]) for n in nads] == [("default", "storage-net"), ("vm-migrations", "vlan20-bridge"),
                                                            ("vm-migrations", "vlan30-bridge")]  # UDN skipped
    assert dbl.json(ocp("/networkattachmentdefinitions?namespace=default"))[0]["name"] == "storage-net"
    assert dbl.json(ocp("/vms?namespace=default")) == []
    assert len(dbl.json(ocp("/persistentvolumeclaims?namespace=vm-migrations"))) == 3
    # PVC and DataVolume lists are not paged by the real handlers.
    assert len(dbl.json(ocp("/persistentvolumeclaims?limit=1"))) == 3
    assert len(dbl.json(ocp("/datavolumes?limit=1"))) == 3
    assert len(dbl.json(ocp("/namespaces?limit=2&offset=1"))) == 2


def test_restricted_host_provider(fresh):
    d = fresh("--pod-namespace", "openshift-mtv",
              "--provider", "openshift=11111111-2222-4333-8444-555555555555:openshift-host:vm-migrations/host",
              "--provider", "openshift=22222222-2222-4333-8444-555555555555:openshift-host:team-x/host")
    base = "/providers/openshift/11111111-2222-4333-8444-555555555555"
    assert [n["name"] for n in d.json(base + "/namespaces")] == ["vm-migrations"]
    assert [n["name"] for n in d.json(base + "/networkattachmentdefinitions")] == ["vlan20-bridge", "vlan30-bridge", "storage-net"]
    assert d.json(base + "/networkattachmentdefinitions?namespace=app-team") == []
    assert len(d.json(base + "/vms?namespace=default")) == 2  # the CR namespace wins
    other = "/providers/openshift/22222222-2222-4333-8444-555555555555"
    assert [n["name"] for n in d.json(other + "/namespaces")] == ["team-x"]  # synthesised
    assert d.json(other + "/vms") == [] and len(d.json(other + "/storageclasses")) == 3
    entry = d.json(other)
    assert (entry["vmCount"], entry["networkCount"], entry["namespace"]) == (0, 2, "team-x")


# --------------------------------------------------------------------------------------------
# name / limit / offset (ref §2 query parameters)
# --------------------------------------------------------------------------------------------

def test_name_filter(dbl):
    assert [v["id"] for v in dbl.json(vs("/vms?name=web-02"))] == ["vm-2002"]
    assert dbl.json(vs("/vms?name=web-99")) == []
    assert [v["id"] for v in dbl.json(vs("/vms?name=/dc-east/vm/web/web-01"))] == ["vm-2001"]
    assert [v["id"] for v in dbl.json(vs("/vms?name=web/web-01"))] == ["vm-2001"]
    # The path is only checked when >= 2 rows share the name (real filter() quirk).
    assert [v["id"] for v in dbl.json(vs("/vms?name=databases/web-01"))] == ["vm-2001"]
    assert dbl.json(vs("/vms?name=rhel9-template")) == []  # template skipped even by name
    assert [n["id"] for n in dbl.json(vs("/networks?name=dc-east/db-vlan30"))] == ["dvportgroup-62"]
    assert [n["name"] for n in dbl.json(ocp("/namespaces?name=vm-migrations"))] == ["vm-migrations"]
    assert dbl.json(ocp("/namespaces?name=x/vm-migrations")) == []  # field selector: exact
    assert [v["name"] for v in dbl.json("/providers/ovirt/%s/vms?name=win2019-app" % OV_UID)] == ["win2019-app"]


def test_limit_offset(dbl):
    names = lambda q: [v["name"] for v in dbl.json(vs("/vms?" + q))]
    assert names("limit=2") == ["web-01", "web-02"]
    assert names("limit=2&offset=2") == ["web-03", "db-01"]
    assert names("offset=4") == ["db-02", "app-01"]
    assert names("limit=0") == []
    assert names("offset=100") == []
    # LIMIT/OFFSET are SQL, applied before the template/ghost skip: 3 rows, 1 VM.
    assert names("offset=5&limit=3") == ["app-01"]
    assert [n["name"] for n in dbl.json(vs("/datastores?limit=1&offset=1"))] == ["ds-nfs-01"]
    assert dbl.json("/providers/vsphere?offset=1") == []


# --------------------------------------------------------------------------------------------
# Request recording and control endpoints
# --------------------------------------------------------------------------------------------

def test_request_recording(fresh):
    d = fresh("--default-providers")
    d.control("DELETE", "requests")
    d.request(vs("/vms?detail=4&name=web-01"), token="token-of-alice")
    d.request(ocp("/namespaces"), token="token-of-bob")
    d.request("/providers", token=None)
    d.request("/nope", token=None, headers={"Authorization": "Basic abc"})
    reqs = d.control("GET", "requests")
    assert [(r["method"], r["path"], r["token"], r["status"]) for r in reqs] == [
        ("GET", vs("/vms"), "token-of-alice", 200),
        ("GET", ocp("/namespaces"), "token-of-bob", 200),
        ("GET", "/providers", None, 401),
        ("GET", "/nope", None, 404),
    ]
    assert reqs[0]["query"] == {"detail": ["4"], "name": ["web-01"]}
    assert reqs[0]["rawQuery"] == "detail=4&name=web-01"
    assert reqs[0]["authorization"] == "Bearer token-of-alice"
    assert reqs[3]["authorization"] == "Basic abc"
    assert [r["seq"] for r in reqs] == sorted(r["seq"] for r in reqs)
    d.control("DELETE", "requests")
    assert d.control("GET", "requests") == []


def test_register_provider_at_runtime(fresh):
    d = fresh()
    assert all(v == [] for v in d.json("/providers").values())
    uid = "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"
    assert_empty_404(*d.request("/providers/vsphere/%s/vms" % uid), reason="ProviderNotFound")
    reg = d.control("POST", "providers", {"type": "vsphere", "uid": uid, "estate": "vsphere-main",
                                          "namespace": "mtv-test", "name": "my-vsphere"})
    assert reg["state"] == "ready"
    p = d.json("/providers?detail=1")["vsphere"][0]
    assert (p["uid"], p["namespace"], p["name"]) == (uid, "mtv-test", "my-vsphere")
    assert p["object"]["metadata"] == {**p["object"]["metadata"], "uid": uid, "namespace": "mtv-test", "name": "my-vsphere"}
    vms = d.json("/providers/vsphere/%s/vms" % uid)
    assert vms[0]["selfLink"] == "providers/vsphere/%s/vms/vm-2001" % uid
    # A CR passed verbatim is served as `object`.
    cr = {"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Provider",
          "metadata": {"name": "from-cr", "namespace": "ns-cr", "uid": "cr-uid-1", "resourceVersion": "77"},
          "spec": {"type": "openshift", "url": ""}, "status": {"phase": "Ready"}}
    d.control("POST", "providers", {"type": "openshift", "uid": "cr-uid-1", "object": cr})
    e = d.json("/providers/openshift/cr-uid-1")
    assert (e["name"], e["namespace"], e["version"], e["object"]) == ("from-cr", "ns-cr", "77", cr)
    d.control("DELETE", "providers/" + uid)
    assert_empty_404(*d.request("/providers/vsphere/%s/vms" % uid), reason="ProviderNotFound")
    assert d.request("/_double/providers", token=None, method="POST", body={"type": "vsphere"})[0] == 400
    assert d.request("/_double/providers", token=None, method="POST",
                     body={"type": "vsphere", "uid": "x", "estate": "openshift-host"})[0] == 400
    d.control("POST", "reset")
    assert d.control("GET", "providers") == []


# --------------------------------------------------------------------------------------------
# TLS, start-up and shutdown
# --------------------------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
def test_tls(fresh, tmp_path):
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=forklift-inventory.konveyor-forklift.svc",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    d = fresh("--default-providers", "--cert", str(cert), "--key", str(key), cafile=str(cert))
    assert d.url.startswith("https://127.0.0.1:")
    assert [p["uid"] for p in d.json("/providers/vsphere")] == [VS_UID]
    assert d.request(vs("/vms"), token=None)[0] == 401
    # An untrusting client fails the handshake; the server keeps serving.
    bad = http.client.HTTPSConnection(d.host, d.port, timeout=10, context=ssl.create_default_context())
    with pytest.raises(ssl.SSLError):
        bad.request("GET", "/providers")
    bad.close()
    # Plain HTTP against the TLS port gets no HTTP answer.
    plain = http.client.HTTPConnection(d.host, d.port, timeout=10)
    with pytest.raises((http.client.HTTPException, ConnectionError, OSError)):
        plain.request("GET", "/providers")
        plain.getresponse()
    plain.close()
    assert d.request("/schema", token=None)[0] == 200


def test_listening_line_and_sigterm(fresh):
    d = fresh("--host", "127.0.0.1")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", d.url)
    d.proc.send_signal(signal.SIGTERM)
    assert d.proc.wait(10) == 0


def test_bad_flags_exit_2():
    r = subprocess.run([sys.executable, SERVE, "--provider", "vsphere=u1:openshift-host"], capture_output=True, text=True, timeout=20)
    assert r.returncode == 2 and "bad provider" in r.stderr
    r = subprocess.run([sys.executable, SERVE, "--cert", "x.pem"], capture_output=True, text=True, timeout=20)
    assert r.returncode == 2


# --------------------------------------------------------------------------------------------
# Estate consistency (ids referenced across collections exist; selfLinks; vSphere paths)
# --------------------------------------------------------------------------------------------

def test_selflinks_relative_everywhere(dbl):
    for uid, ptype, est in [(VS_UID, "vsphere", VS), (OCP_UID, "openshift", OCP), (OV_UID, "ovirt", OV), (OSP_UID, "openstack", OSP)]:
        key = "uid" if ptype == "openshift" else "id"
        for coll in est["collections"]:
            items = dbl.json("/providers/%s/%s/%s?detail=1" % (ptype, uid, coll))
            assert isinstance(items, list)
            for it in items:
                assert it["selfLink"] == "providers/%s/%s/%s/%s" % (ptype, uid, coll, it[key])


def test_vsphere_estate_is_consistent():
    c = VS["collections"]
    by_id = {coll: {o["id"]: o for o in items} for coll, items in c.items()}
    every = {}
    for items in by_id.values():
        every.update(items)
    kind_coll = {"Folder": "folders", "Datacenter": "datacenters", "Cluster": "clusters", "Host": "hosts",
                 "Network": "networks", "Datastore": "datastores", "VM": "vms"}

    def path_of(o):  # F W/vsphere/base.go PathBuilder
        parts = [o["name"]]
        node = o
        while True:
            kind, pid = node["parent"]["kind"], node["parent"]["id"]
            if kind not in kind_coll:
                break
            parent = by_id[kind_coll[kind]][pid]
            if kind == "Folder" and parent["parent"]["kind"] == "":
                break
            parts.append(parent["name"])
            node = parent
        return "/" + "/".join(reversed(parts))

    for coll, items in c.items():
        for o in items:
            assert o["path"] == path_of(o), o["id"]
            assert o["selfLink"] == "providers/vsphere/{uid}/%s/%s" % (coll, o["id"])
    for f in c["folders"]:
        for ch in f["children"]:
            assert ch["id"] in by_id[kind_coll[ch["kind"]]]
            assert by_id[kind_coll[ch["kind"]]][ch["id"]]["parent"]["id"] == f["id"]
    for vm in c["vms"]:
        assert vm["host"] == "" or vm["host"] in by_id["hosts"]
        for n in vm["networks"]:
            assert n["id"] in by_id["networks"]
        for d in vm["disks"]:
            assert d["datastore"]["id"] in by_id["datastores"]
            assert d["file"].startswith("[%s] " % by_id["datastores"][d["datastore"]["id"]]["name"])
        for nic in vm["nics"] or []:
            assert nic["network"] in vm["networks"]
        for con in vm["concerns"]:
            assert con["category"] in ("Critical", "Warning", "Information")
    for h in c["hosts"]:
        assert h["cluster"] in by_id["clusters"]
    assert 4096 <= min(v["memoryMB"] for v in c["vms"]) and max(v["memoryMB"] for v in c["vms"]) <= 32768


def test_openshift_estate_is_consistent():
    c = OCP["collections"]
    nss = {n["name"] for n in c["namespaces"]}
    scs = {s["name"] for s in c["storageclasses"]}
    for coll, items in c.items():
        for it in items:
            md = it["object"]["metadata"]
            assert (it["uid"], it["id"], it["name"], it["version"], it["namespace"]) == (
                md["uid"], md["uid"], md["name"], md["resourceVersion"], md.get("namespace", ""))
            assert not it["namespace"] or it["namespace"] in nss
    pvcs = {(p["namespace"], p["name"]): p for p in c["persistentvolumeclaims"]}
    for dv in c["datavolumes"]:
        assert (dv["namespace"], dv["name"]) in pvcs
    for vm in c["vms"]:
        spec = vm["object"]["spec"]["template"]["spec"]
        for v in spec["volumes"]:
            assert (vm["namespace"], v["dataVolume"]["name"]) in pvcs
        for n in spec["networks"]:
            if "multus" in n:
                ns, name = n["multus"]["networkName"].split("/")
                assert any(x["namespace"] == ns and x["name"] == name for x in c["networkattachmentdefinitions"])
    for p in c["persistentvolumeclaims"]:
        assert p["object"]["spec"]["storageClassName"] in scs
