#!/usr/bin/env python3
"""Test double of Forklift's inventory REST service (`forklift-inventory`).

Standard library only (Python 3.11). It serves the real service's URL layout, JSON shapes,
detail levels, headers and status codes for a small, fixed estate read from ./estate/*.json.

Everything here follows /work/shared/reference/forklift-inventory-api.md ("the reference",
sections cited as "ref §N") and the Forklift code it cites (kubev2v/forklift@d42511bb,
"F", with W/ = pkg/controller/provider/web/). Where the double knowingly differs from the
real service, the comment says so and README.md lists it.

Control endpoints under /_double/ are NOT part of the real API; see README.md.

    python3 serve.py --port 0 --default-providers
    -> prints "LISTENING http://127.0.0.1:<port>" on stdout, logs on stderr.
"""

import argparse
import copy
import datetime
import glob
import hashlib
import json
import os
import re
import signal
import socket
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ESTATE_DIR = os.path.join(HERE, "estate")

# ---------------------------------------------------------------------------------------------
# Static description of the API (ref §2).
# ---------------------------------------------------------------------------------------------

# ref §2: all types have handlers (F W/doc.go All) ...
PROVIDER_TYPES = ["openshift", "vsphere", "ovirt", "openstack", "ova", "ec2", "hyperv", "nutanix"]
# ... but GET /providers lists only these seven: nutanix is missing (F W/provider.go). The real
# body is a Go map, which encoding/json writes with sorted keys.
AGGREGATE_TYPES = sorted(["openshift", "vsphere", "ovirt", "openstack", "ova", "ec2", "hyperv"])

# ref §2 table. tree/... and workloads/<vm> routes exist in the real service but are not served
# by the double (they answer 404 "404 page not found" here).
COLLECTIONS = {
    "vsphere": ["vms", "networks", "datastores", "hosts", "clusters", "datacenters", "folders"],
    "ovirt": ["vms", "networks", "storagedomains", "hosts", "clusters", "datacenters", "disks",
              "diskprofiles", "nicprofiles", "servercpus"],
    "openstack": ["vms", "networks", "subnets", "volumes", "volumetypes", "snapshots", "flavors",
                  "images", "projects", "regions"],
    "openshift": ["vms", "namespaces", "storageclasses", "networkattachmentdefinitions",
                  "persistentvolumeclaims", "datavolumes", "instancetypes", "clusterinstancetypes",
                  "kubevirts"],
    "ova": ["vms", "networks", "disks", "storages"],
    "hyperv": ["vms", "networks", "disks", "storages", "hosts", "clusters"],
    "ec2": ["vms", "networks", "storages", "volumes", "snapshots"],
    "nutanix": ["vms", "networks", "storagecontainers", "hosts", "clusters", "images"],
}

MAX_DETAIL = 9  # detail=all (F pkg/lib/inventory/model/field.go MaxDetail; ref §2 "Query parameters")

# ref §3.1: base `Resource` keys per provider family, in Go struct order. A key is emitted only if
# the full object has it (the estate already applies `omitempty`).
BASE_KEYS = {
    "vsphere": ["id", "variant", "parent", "path", "revision", "name", "selfLink"],
    "ovirt": ["id", "revision", "path", "name", "description", "selfLink"],
    "openstack": ["id", "revision", "path", "name", "selfLink"],
    "openshift": ["uid", "version", "namespace", "name", "selfLink", "path", "id"],
}

# ref §3.2-3.5: VMs have three levels, 0 -> VM0 (= Resource), 1 -> VM1, >=2 -> full VM.
VM1_KEYS = {
    "vsphere": ["revisionValidated", "isTemplate", "powerState", "host", "networks", "disks", "concerns"],
    "ovirt": ["cluster", "status", "host", "revisionValidated", "nics", "diskAttachments", "concerns"],
    "openstack": ["tenantID", "status", "hostID", "revisionValidated", "imageID", "flavorID", "addresses",
                  "attachedVolumes", "concerns"],
}

# Provider types whose inventory lives in the collector's SQL DB (vsphere, ovirt, openstack):
# `name=` is an SQL predicate on the last '/' segment, and limit/offset are SQL LIMIT/OFFSET,
# both applied BEFORE the handler's own filtering (F W/<type>/base.go ListOptions,
# pkg/lib/inventory/model/table.go ListSQL). No ORDER BY: rows come in insertion order.
DB_TYPES = {"vsphere", "ovirt", "openstack"}

# ref §2 `name=`: a value containing '/' is then also matched against `path` - but only when the
# page holds at least 2 rows (F W/*/<coll>.go filter: `if len(*list) < 2 { return }`).
# "trailing": trailing path segments must match (F W/base/handler.go PathMatch; vSphere VMs only).
# "root": first path segment (datacenter / cluster / project) must match (PathMatchRoot).
PATH_FILTER = {
    ("vsphere", "vms"): "trailing",
    ("vsphere", "networks"): "root", ("vsphere", "datastores"): "root",
    ("vsphere", "hosts"): "root", ("vsphere", "clusters"): "root",
    ("ovirt", "vms"): "root", ("ovirt", "networks"): "root", ("ovirt", "storagedomains"): "root",
    ("ovirt", "hosts"): "root", ("ovirt", "clusters"): "root", ("ovirt", "servercpus"): "root",
    ("openstack", "vms"): "root", ("openstack", "networks"): "root", ("openstack", "subnets"): "root",
    ("openstack", "volumes"): "root", ("openstack", "volumetypes"): "root",
    ("openstack", "snapshots"): "root", ("openstack", "flavors"): "root",
    ("openstack", "projects"): "root", ("openstack", "regions"): "root",
}

# OpenShift (ref §3.6) is served live from the cluster; paging is a slice of the built list,
# except PVCs and DataVolumes, whose handlers do not page at all (F W/ocp/persistentvolumeclaim.go,
# datavolume.go have no Page.Slice).
OCP_UNPAGED = {"persistentvolumeclaims", "datavolumes"}
OCP_NAMESPACED = {"vms", "networkattachmentdefinitions", "persistentvolumeclaims", "datavolumes",
                  "instancetypes", "kubevirts"}
# Restricted host provider (ref §3.6): these lists are forced into the CR namespace.
OCP_RESTRICTED_TO_NS = {"vms", "persistentvolumeclaims", "datavolumes", "instancetypes", "kubevirts"}

GI = re.compile(r"^[+-]?[0-9]+$")  # what Go's strconv.Atoi accepts


def go_atoi(s):
    if not GI.match(s):
        raise ValueError(s)
    return int(s)


def go_json(obj):
    """Serialize like Go's encoding/json (gin ctx.JSON): compact, HTML-safe escapes, no newline."""
    s = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    s = (s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
         .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return s.encode("utf-8")


def log(msg):
    sys.stderr.write("[inventory-double] %s %s\n" % (datetime.datetime.now().strftime("%H:%M:%S.%f")[:-3], msg))
    sys.stderr.flush()


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------------
# Estates.
# ---------------------------------------------------------------------------------------------

class Estate:
    def __init__(self, name, data, path):
        self.name = name
        self.path = path
        self.type = data["type"]
        self.provider = data.get("provider", {})
        self.collections = data.get("collections", {})
        key = "uid" if self.type == "openshift" else "id"
        for coll, items in self.collections.items():
            if coll not in COLLECTIONS.get(self.type, []):
                raise ValueError("%s: collection %r is not a %s route (ref §2)" % (path, coll, self.type))
            seen = set()
            for it in items:
                if it[key] in seen:
                    raise ValueError("%s: duplicate %s %r in %s" % (path, key, it[key], coll))
                seen.add(it[key])

    def items(self, coll):
        return self.collections.get(coll, [])


def load_estates(dirs):
    estates = {}
    for d in dirs:
        for f in sorted(glob.glob(os.path.join(d, "*.json"))):
            name = os.path.splitext(os.path.basename(f))[0]
            with open(f, encoding="utf-8") as fh:
                estates[name] = Estate(name, json.load(fh), f)
    return estates


# ---------------------------------------------------------------------------------------------
# Mutable state: providers, auth, faults, recorded requests.
# ---------------------------------------------------------------------------------------------

class HTTPError(Exception):
    def __init__(self, status, headers=None, text=None):
        super().__init__(status)
        self.status = status
        self.headers = headers or {}
        self.text = text


class State:
    def __init__(self, estates, pod_namespace, parity_wait):
        self.lock = threading.RLock()
        self.estates = estates
        self.pod_namespace = pod_namespace
        self.parity_wait = parity_wait
        self.providers = {}  # uid -> registration dict (insertion ordered)
        self.auth = {"required": True, "accept": None, "deny": {}, "grants": {}}
        self.faults = []
        self.requests = []
        self.seq = 0
        self.initial = None

    # -- providers -----------------------------------------------------------------------------
    def register(self, spec):
        """Upsert a provider registration. spec keys: type, uid, estate, namespace, name, state,
        object (the Provider CR as JSON), version. Unknown keys are rejected."""
        allowed = {"type", "uid", "estate", "namespace", "name", "state", "object", "version"}
        bad = set(spec) - allowed
        if bad:
            raise ValueError("unknown keys: %s" % ", ".join(sorted(bad)))
        uid = spec.get("uid")
        if not uid or not isinstance(uid, str):
            raise ValueError("'uid' is required")
        with self.lock:
            cur = dict(self.providers.get(uid, {}))
            cur.update({k: v for k, v in spec.items() if v is not None})
            ptype = cur.get("type")
            if ptype not in PROVIDER_TYPES:
                raise ValueError("'type' must be one of %s" % ", ".join(PROVIDER_TYPES))
            est_name = cur.get("estate")
            if not est_name:
                cands = [e for e in self.estates.values() if e.type == ptype]
                if not cands:
                    raise ValueError("no estate of type %s" % ptype)
                est_name = cands[0].name
            est = self.estates.get(est_name)
            if est is None:
                raise ValueError("unknown estate %r (have: %s)" % (est_name, ", ".join(sorted(self.estates))))
            if est.type != ptype:
                raise ValueError("estate %r is of type %s, not %s" % (est_name, est.type, ptype))
            cur["estate"] = est_name
            obj = cur.get("object") or {}
            md = obj.get("metadata", {}) if isinstance(obj, dict) else {}
            cur.setdefault("name", md.get("name") or est.provider.get("name", est_name))
            cur.setdefault("namespace", md.get("namespace") or est.provider.get("namespace", "openshift-mtv"))
            cur.setdefault("version", md.get("resourceVersion") or est.provider.get("resourceVersion", "1"))
            cur.setdefault("state", "ready")
            if cur["state"] not in ("ready", "loading"):
                raise ValueError("'state' must be 'ready' or 'loading'")
            self.providers[uid] = cur
            return dict(cur)

    def unregister(self, uid=None):
        with self.lock:
            if uid is None:
                self.providers.clear()
                return True
            return self.providers.pop(uid, None) is not None

    def provider(self, uid):
        with self.lock:
            p = self.providers.get(uid)
            return dict(p) if p else None

    def provider_list(self):
        with self.lock:
            return [dict(p) for p in self.providers.values()]

    def estate_of(self, p):
        return self.estates[p["estate"]]

    # -- faults --------------------------------------------------------------------------------
    def take_fault(self, method, path):
        with self.lock:
            for f in self.faults:
                if f.get("method", "GET") not in (method, "*"):
                    continue
                if not re.search(f["path"], path):
                    continue
                if f.get("count") is not None:
                    f["count"] -= 1
                    if f["count"] <= 0:
                        self.faults.remove(f)
                return f.get("status", 500)
        return None

    # -- request log ---------------------------------------------------------------------------
    def record(self, entry):
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.requests.append(entry)
            return entry

    def snapshot_initial(self):
        with self.lock:
            self.initial = (copy.deepcopy(self.providers), copy.deepcopy(self.auth))

    def reset(self):
        with self.lock:
            provs, auth = copy.deepcopy(self.initial)
            self.providers = provs
            self.auth = auth
            self.faults = []
            self.requests = []


# ---------------------------------------------------------------------------------------------
# Building responses.
# ---------------------------------------------------------------------------------------------

def with_self_link(obj, uid):
    out = dict(obj)
    if "selfLink" in out:
        out["selfLink"] = out["selfLink"].replace("{uid}", uid)
    return out


def project(obj, family, keys):
    return {k: obj[k] for k in keys if k in obj}


def content(obj, ptype, coll, detail):
    """`Content(detail)` of the real REST types (ref §3.2). Note the real comparisons: most
    resources use `detail == 0` (so a negative detail gives the full object), VMs `detail < 1`
    and `detail < 2`."""
    base = BASE_KEYS[ptype]
    if coll == "vms" and ptype in VM1_KEYS:
        if detail < 1:
            return project(obj, ptype, base)
        if detail < 2:
            return project(obj, ptype, base + VM1_KEYS[ptype])
        return obj
    if detail == 0:
        return project(obj, ptype, base)
    return obj


def path_match(absolute, relative):
    """F W/base/handler.go PathMatch: trailing segments of `relative` equal those of `absolute`."""
    a = absolute.lstrip("/").split("/")
    r = relative.lstrip("/").split("/")
    if len(r) > len(a):
        return False
    return a[len(a) - len(r):] == r


def path_match_root(absolute, path):
    """F W/base/handler.go PathMatchRoot: same first segment."""
    return absolute.lstrip("/").split("/")[0] == path.lstrip("/").split("/")[0]


def is_unsupported_udn(nad_item):
    """F M/ocp/model.go NetworkConfig.IsUnsupportedUdn: primary or layer3 OVN overlay NADs are skipped."""
    try:
        cfg = json.loads(nad_item["object"]["spec"]["config"])
    except Exception:
        return False
    return cfg.get("type") == "ovn-k8s-cni-overlay" and (cfg.get("role") == "primary" or cfg.get("topology") == "layer3")


class Request:
    """Parsed request parameters after `Prepare` (F W/base/handler.go)."""

    def __init__(self, query, headers):
        self.query = query
        self.headers = headers
        self.detail = 0
        self.limit = None
        self.offset = 0
        self.watch = False

    def q(self, key):
        """Go url.Values.Get: first value or ''."""
        v = self.query.get(key)
        return v[0] if v else ""

    def page(self, items):
        start = self.offset
        end = len(items) if self.limit is None else start + self.limit
        return items[start:end]


class Inventory:
    def __init__(self, state):
        self.state = state

    # -- provider CR / entries (ref §3.3, §3.6, §4) --------------------------------------------
    def cr_object(self, p):
        if p.get("object"):
            return p["object"]
        est = self.state.estate_of(p)
        ts = est.provider.get("creationTimestamp", "2025-09-01T00:00:00Z")
        conds = [
            {"type": "ConnectionTestSucceeded", "status": "True", "reason": "Tested", "category": "Required",
             "message": "Connection test, succeeded.", "lastTransitionTime": ts},
            {"type": "InventoryCreated", "status": "True", "reason": "Completed", "category": "Required",
             "message": "The inventory has been loaded.", "lastTransitionTime": ts},
            {"type": "Ready", "status": "True", "category": "Required", "message": "The provider is ready.",
             "lastTransitionTime": ts},
            {"type": "Validated", "status": "True", "reason": "Completed", "category": "Advisory",
             "message": "Validation has been completed.", "lastTransitionTime": ts},
        ]
        phase = "Ready"
        if p.get("state") == "loading":
            conds = [c for c in conds if c["type"] in ("ConnectionTestSucceeded", "Validated")]
            phase = "Staging"
        spec = copy.deepcopy(est.provider.get("spec", {"type": p["type"]}))
        if isinstance(spec.get("secret"), dict) and spec["secret"].get("namespace"):
            spec["secret"]["namespace"] = p["namespace"]
        return {
            "kind": "Provider", "apiVersion": "forklift.konveyor.io/v1beta1",
            "metadata": {"name": p["name"], "namespace": p["namespace"], "uid": p["uid"],
                         "resourceVersion": p["version"], "generation": 1, "creationTimestamp": ts},
            "spec": spec,
            "status": {"phase": phase, "conditions": conds, "observedGeneration": 1},
        }

    def is_restricted_host(self, p):
        """F pkg/apis/forklift/v1beta1/provider.go IsRestrictedHost (ref §3.6). The double only
        applies it when started with --pod-namespace."""
        if p["type"] != "openshift" or self.state.pod_namespace is None:
            return False
        spec = self.cr_object(p).get("spec", {})
        return not spec.get("url") and p["namespace"] != self.state.pod_namespace

    def provider_entry(self, p, detail, req):
        uid = p["uid"]
        r = {"uid": uid, "version": p["version"], "namespace": p["namespace"], "name": p["name"],
             "selfLink": "providers/%s/%s" % (p["type"], uid), "id": uid}
        if detail == 0:
            return r
        r["type"] = p["type"]
        r["object"] = self.cr_object(p)
        est = self.state.estate_of(p)
        n = lambda c: len(est.items(c))
        if p["type"] == "vsphere":  # F W/vsphere/provider.go AddDerived (counts = whole tables)
            d = est.provider.get("derived", {})
            r.update({"apiVersion": d.get("apiVersion", ""), "product": d.get("product", ""),
                      "instanceUuid": d.get("instanceUuid", ""),
                      "datacenterCount": n("datacenters"), "clusterCount": n("clusters"), "hostCount": n("hosts"),
                      "vmCount": n("vms"), "networkCount": n("networks"), "datastoreCount": n("datastores")})
        elif p["type"] == "openshift":  # F W/ocp/provider.go AddCount
            r["vmCount"] = len(self.ocp_list(p, "vms", req))
            r["networkCount"] = len(self.ocp_list(p, "networkattachmentdefinitions", req)) + 1
            r["storageClassCount"] = len(self.ocp_list(p, "storageclasses", req))
        elif p["type"] == "ovirt":  # F W/ovirt/provider.go
            r.update({"datacenterCount": n("datacenters"), "clusterCount": n("clusters"), "hostCount": n("hosts"),
                      "vmCount": n("vms"), "networkCount": n("networks"), "storageDomainCount": n("storagedomains")})
        elif p["type"] == "openstack":  # F W/openstack/provider.go
            r.update({"regionCount": n("regions"), "projectCount": n("projects"), "vmCount": n("vms"),
                      "imageCount": n("images"), "volumeCount": n("volumes"), "volumeTypeCount": n("volumetypes"),
                      "networkCount": n("networks")})
        return r

    def type_list(self, ptype, req):
        """ListContent of a type's ProviderHandler: filter by CR namespace, then page (ref §2, §4)."""
        ns = req.q("namespace")
        out = []
        for p in self.state.provider_list():
            if p["type"] != ptype:
                continue
            if ns and ns != p["namespace"]:
                continue
            out.append(self.provider_entry(p, req.detail, req))
        return req.page(out)

    # -- collections ---------------------------------------------------------------------------
    def db_list(self, p, coll, req):
        """vsphere / ovirt / openstack collections (ref §2, §3.2)."""
        ptype = p["type"]
        est = self.state.estate_of(p)
        rows = list(est.items(coll))
        if ptype == "vsphere" and coll == "clusters":
            rows = [r for r in rows if not r.get("variant")]  # F W/vsphere/cluster.go realCluster
        name = req.q("name")
        if name:
            last = name.split("/")[-1]
            rows = [r for r in rows if r.get("name") == last]
        rows = req.page(rows)  # SQL LIMIT/OFFSET: before the path filter and the VM skips below
        mode = PATH_FILTER.get((ptype, coll))
        if mode and name and len(name.split("/")) >= 2 and len(rows) >= 2:
            match = path_match if mode == "trailing" else path_match_root
            rows = [r for r in rows if match(r.get("path", ""), name)]
        detail = req.detail
        if ptype == "vsphere" and coll == "vms":
            # ref §3.2 vSphere exception (F W/vsphere/vm.go List): always MaxDetail, and templates
            # and ghost VMs (empty uuid, instanceUuid and host) are skipped.
            detail = MAX_DETAIL
            rows = [r for r in rows if not r.get("isTemplate")
                    and not (r.get("uuid", "") == "" and r.get("instanceUuid", "") == "" and r.get("host", "") == "")]
        return [content(with_self_link(r, p["uid"]), ptype, coll, detail) for r in rows]

    def ocp_list(self, p, coll, req):
        """OpenShift collections, served 'live' (ref §3.6, F W/ocp/base.go). Returns full items."""
        est = self.state.estate_of(p)
        items = list(est.items(coll))
        restricted = self.is_restricted_host(p)
        ns = req.q("namespace")
        name = req.q("name")
        name_ok = lambda it: not name or it["name"] == name  # field selector metadata.name
        if coll == "namespaces":
            if restricted:  # only the CR namespace (client.Get, no name filter)
                found = [it for it in items if it["name"] == p["namespace"]]
                items = found or [self.synthetic_namespace(p["namespace"])]
            else:
                items = [it for it in items if name_ok(it)]  # cluster-scoped: namespace= ignored
        elif coll == "networkattachmentdefinitions":
            if ns:
                if restricted and ns not in (p["namespace"], "default"):
                    return []
                wanted = [ns]
            elif restricted:
                wanted = [p["namespace"], "default"]
            else:
                wanted = [None]
            out = []
            for w in wanted:
                out.extend(it for it in items if (w is None or it["namespace"] == w) and name_ok(it)
                           and not is_unsupported_udn(it))
            items = out
        elif coll in OCP_NAMESPACED:
            eff_ns = ns
            if restricted and coll in OCP_RESTRICTED_TO_NS:
                eff_ns = p["namespace"]  # appended InNamespace() wins over the request's
            items = [it for it in items if (not eff_ns or it["namespace"] == eff_ns) and name_ok(it)]
        else:
            items = [it for it in items if name_ok(it)]
        return [with_self_link(it, p["uid"]) for it in items]

    def synthetic_namespace(self, ns):
        u = str(uuid.UUID(bytes=hashlib.sha256(("ns/" + ns).encode()).digest()[:16], version=4))
        return {"uid": u, "version": "1", "namespace": "", "name": ns,
                "selfLink": "providers/openshift/{uid}/namespaces/" + u, "id": u,
                "object": {"metadata": {"name": ns, "uid": u, "resourceVersion": "1",
                                        "creationTimestamp": "2025-09-01T00:00:00Z",
                                        "labels": {"kubernetes.io/metadata.name": ns}},
                           "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}}

    def collection_list(self, p, coll, req):
        if p["type"] == "openshift":
            items = self.ocp_list(p, coll, req)
            out = [content(it, "openshift", coll, req.detail) for it in items]
            return out if coll in OCP_UNPAGED else req.page(out)
        if p["type"] in DB_TYPES:
            return self.db_list(p, coll, req)
        return []

    def collection_get(self, p, coll, oid, req):
        if p["type"] == "openshift":
            # F W/ocp/*.go Get: list (with the request's filters) and pick metadata.uid.
            for it in self.ocp_list(p, coll, req):
                if it["uid"] == oid:
                    return it
            return None
        est = self.state.estate_of(p)
        for it in est.items(coll):
            if it.get("id") == oid:
                return with_self_link(it, p["uid"])  # per-object GET: MaxDetail (ref §3.2)
        return None

    # -- /schema (F pkg/lib/inventory/web/handler.go SchemaHandler) ----------------------------
    def schema(self):
        paths = ["/schema", "/providers", "/providers/"]
        for t in PROVIDER_TYPES:
            root = "/providers/" + t
            paths += [root, root + "/", root + "/:provider"]
            for c in COLLECTIONS[t]:
                paths += ["%s/:provider/%s" % (root, c), "%s/:provider/%s/" % (root, c), "%s/:provider/%s/:id" % (root, c)]
        return {"paths": paths}


# ---------------------------------------------------------------------------------------------
# HTTP layer.
# ---------------------------------------------------------------------------------------------

def provider_dump(p):
    """Stand-in for Go's `%v` of the *api.Provider at the end of the 403 message (abbreviated)."""
    if p is None:
        return "&{{ } {     0 ...} ...}"
    return "&{{Provider forklift.konveyor.io/v1beta1} {%s  %s  %s %s 1 ...} ...}" % (
        p["name"], p["namespace"], p["uid"], p["version"])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "inventory-double"
    timeout = 120
    state = None  # set by main
    inventory = None

    # Go's net/http sends no Server header; keep Date only.
    def send_response(self, code, message=None):
        self._status = code
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def log_message(self, fmt, *args):
        log("%s %s" % (self.address_string(), fmt % args))

    def handle(self):
        try:
            super().handle()
        except (ssl.SSLError, ConnectionError, socket.timeout, OSError) as e:
            log("connection closed: %s" % e)

    # -- helpers -------------------------------------------------------------------------------
    def _send(self, status, body=b"", ctype=None, headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v.encode("ascii", "replace").decode("ascii"))
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status, obj, headers=None):
        self._send(status, go_json(obj), "application/json; charset=utf-8", headers)

    def _gin_404(self):
        # gin's default NoRoute response.
        self._send(404, b"404 page not found", "text/plain")

    def _bearer(self):
        """F W/base/auth.go Token: exactly two fields, the first 'Bearer'."""
        fields = (self.headers.get("Authorization") or "").split()
        if len(fields) == 2 and fields[0] == "Bearer":
            return fields[1]
        return ""

    def do_GET(self):
        self._dispatch()

    def do_HEAD(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def do_PATCH(self):
        self._dispatch()

    def do_OPTIONS(self):
        self._dispatch()

    def _dispatch(self):
        self._status = None
        url = urlsplit(self.path)
        path = unquote(url.path)
        if path == "/_double" or path.startswith("/_double/"):
            try:
                self._control(path, parse_qs(url.query, keep_blank_values=True))
            except HTTPError as e:
                self._json(e.status, {"error": e.text or ""})
            except Exception as e:  # pragma: no cover - a bug in the double
                log("control error: %r" % e)
                self._json(500, {"error": repr(e)})
            return
        query = parse_qs(url.query, keep_blank_values=True)
        entry = self.state.record({
            "time": now_rfc3339(), "method": self.command, "path": path, "rawQuery": url.query,
            "query": query, "token": self._bearer() or None,
            "authorization": self.headers.get("Authorization"), "status": None})
        # Drain any request body so keep-alive keeps working.
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        try:
            self._route(path, url.query, query)
        except HTTPError as e:
            if e.text is not None:
                self._send(e.status, e.text.encode(), "text/plain", e.headers)
            else:
                self._send(e.status, b"", None, e.headers)
        except Exception as e:  # pragma: no cover - a bug in the double
            log("internal error: %r" % e)
            self._send(500)
        entry["status"] = self._status

    # -- routing (gin router semantics) --------------------------------------------------------
    def _match(self, path):
        """Return (kind, params) for a registered route, else None."""
        if path == "/schema":
            return ("schema", {})
        if path in ("/providers", "/providers/"):
            return ("providers", {})
        seg = path.split("/")[1:]
        if len(seg) < 2 or seg[0] != "providers" or seg[1] not in PROVIDER_TYPES:
            return None
        t = seg[1]
        rest = seg[2:]
        if rest in ([], [""]):
            return ("type", {"type": t})
        if rest[0] == "":
            return None
        if len(rest) == 1:
            return ("provider", {"type": t, "uid": rest[0]})
        if rest[1] not in COLLECTIONS[t]:
            return None
        if len(rest) == 2 or (len(rest) == 3 and rest[2] == ""):
            return ("list", {"type": t, "uid": rest[0], "coll": rest[1]})
        if len(rest) == 3:
            return ("get", {"type": t, "uid": rest[0], "coll": rest[1], "id": rest[2]})
        return None

    def _route(self, path, raw_query, query):
        m = self._match(path) if self.command == "GET" else None
        if m is None:
            # gin RedirectTrailingSlash: GET /x/ -> 301 /x when only /x is a route.
            if self.command == "GET" and path.endswith("/") and len(path) > 1 and self._match(path[:-1]):
                loc = path[:-1] + ("?" + raw_query if raw_query else "")
                body = ('<a href="%s">Moved Permanently</a>.\n\n' % loc).encode()
                self._send(301, body, "text/html; charset=utf-8", {"Location": loc})
                return
            self._gin_404()
            return
        kind, params = m
        if kind == "schema":  # no Prepare, no auth
            self._json(200, self.inventory.schema())
            return
        req = self._prepare(query, params.get("uid"), params.get("type"))
        p = req.provider
        fault = self.state.take_fault("GET", path)
        if fault:
            raise HTTPError(fault)  # ref §6 "DB/k8s error -> 500, empty body"
        inv = self.inventory
        if kind == "providers":
            # F W/provider.go: every type's ListContent; watch is ignored here.
            self._json(200, {t: inv.type_list(t, req) for t in AGGREGATE_TYPES})
        elif kind == "type":
            if req.watch and params["type"] != "openshift":
                raise HTTPError(400)  # ref §6: X-Watch on /providers/<type> (non-ocp) -> 400
            self._json(200, inv.type_list(params["type"], req))
        elif kind == "provider":
            if p["type"] != params["type"]:
                raise HTTPError(404)  # ref §6: provider GET with a uid of another type -> 404
            self._json(200, inv.provider_entry(p, MAX_DETAIL, req))
        else:
            if p["type"] != params["type"]:
                # Not in the reference. The real handlers then query a DB / client of the wrong kind
                # (ocp: "Collector is not an openshift collector") and answer 500 (F W/ocp/base.go
                # UserClient). The double answers 500 too.
                raise HTTPError(500)
            if req.watch:
                # ref §6: ocp collections 501; the others would upgrade to a websocket, which the
                # double does not do (gorilla answers 400 to a request that is not an upgrade).
                raise HTTPError(501 if p["type"] == "openshift" else 400)
            if kind == "list":
                self._json(200, inv.collection_list(p, params["coll"], req))
            else:
                obj = inv.collection_get(p, params["coll"], params["id"], req)
                if obj is None:
                    raise HTTPError(404)  # ref §6: object id not found -> 404, empty, no X-Reason
                self._json(200, obj)

    def _prepare(self, query, uid, ptype):
        """F W/base/handler.go Prepare, in its order: page (400), watch, detail (400),
        provider (404 X-Reason / 206), then auth (401 / 403)."""
        req = Request(query, self.headers)
        for key in ("limit", "offset"):  # F pkg/lib/inventory/web/handler.go setPage
            v = req.q(key)
            if v:
                try:
                    n = go_atoi(v)
                except ValueError:
                    raise HTTPError(400)
                if n < 0:
                    raise HTTPError(400)
                setattr(req, key, n)
        req.watch = "X-Watch" in self.headers
        d = req.q("detail")
        if d:
            if d.lower() == "all":
                req.detail = MAX_DETAIL
            else:
                try:
                    req.detail = go_atoi(d)
                except ValueError:
                    raise HTTPError(400)
        req.provider = None
        if uid:
            p = self.state.provider(uid)
            if p is None:
                raise HTTPError(404, {"X-Reason": "ProviderNotFound"})  # ref §6
            if p["state"] == "loading":
                # ref §6: the server polls up to 10 s for parity, then 206 with an empty body.
                deadline = time.monotonic() + self.state.parity_wait
                while p and p["state"] == "loading" and time.monotonic() < deadline:
                    time.sleep(0.05)
                    p = self.state.provider(uid)
                if p is None:
                    raise HTTPError(404, {"X-Reason": "ProviderNotFound"})
                if p["state"] == "loading":
                    raise HTTPError(206)
            req.provider = p
        self._authorize(req)
        return req

    def _authorize(self, req):
        """ref §5 / F W/base/auth.go Permit with AUTH_REQUIRED. TokenReview -> 401;
        SubjectAccessReview (get on the named CR, or list in ?namespace=) -> 403."""
        with self.state.lock:
            auth = copy.deepcopy(self.state.auth)
        if not auth["required"]:
            return
        token = self._bearer()
        if not token:
            raise HTTPError(401)
        p = req.provider
        if p is not None:
            verb, ns = "get", p["namespace"]
        else:
            verb, ns = "list", req.q("namespace")
        user = None
        if token in auth["deny"]:
            user = auth["deny"][token] or "test-user"
        elif token in auth["grants"]:
            g = auth["grants"][token]
            if g.get("namespaces") is not None and ns not in g["namespaces"]:
                user = g.get("user") or "test-user"
        elif auth["accept"] is not None and token not in auth["accept"]:
            raise HTTPError(401)  # TokenReview: not authenticated
        if user is not None:
            msg = ('providers.forklift.konveyor.io is forbidden: User "%s" cannot %s resource "providers" '
                   'in API group "forklift.konveyor.io" in the namespace "%s" (%s)'
                   % (user, verb, ns, provider_dump(p)))
            raise HTTPError(403, {"Forklift-Error-Message": msg})

    # -- control endpoints (NOT part of the real API) ------------------------------------------
    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except ValueError as e:
            raise HTTPError(400, text="invalid JSON: %s" % e)

    def _control(self, path, query):
        st = self.state
        method = self.command
        body = self._body() if method in ("POST", "PUT", "PATCH", "DELETE") else {}
        parts = path.rstrip("/").split("/")[2:]  # after /_double
        head = parts[0] if parts else ""
        if head == "health" and method == "GET":
            return self._json(200, {"ok": True})
        if head == "estates" and method == "GET":
            return self._json(200, {n: {"type": e.type, "collections": {c: len(v) for c, v in e.collections.items()},
                                        "provider": {k: e.provider.get(k) for k in ("name", "namespace", "uid")}}
                                    for n, e in st.estates.items()})
        if head == "providers":
            if len(parts) == 1:
                if method == "GET":
                    return self._json(200, st.provider_list())
                if method == "POST":
                    specs = body if isinstance(body, list) else [body]
                    try:
                        out = [st.register(s) for s in specs]
                    except (ValueError, TypeError, AttributeError) as e:
                        raise HTTPError(400, text=str(e))
                    return self._json(201, out if isinstance(body, list) else out[0])
                if method == "DELETE":
                    st.unregister()
                    return self._json(200, [])
            elif len(parts) == 2:
                uid = parts[1]
                if method == "GET":
                    p = st.provider(uid)
                    if p is None:
                        raise HTTPError(404, text="no such provider")
                    return self._json(200, p)
                if method in ("POST", "PATCH"):
                    if st.provider(uid) is None and "type" not in body:
                        raise HTTPError(404, text="no such provider")
                    try:
                        return self._json(200, st.register(dict(body, uid=uid)))
                    except (ValueError, TypeError, AttributeError) as e:
                        raise HTTPError(400, text=str(e))
                if method == "DELETE":
                    if not st.unregister(uid):
                        raise HTTPError(404, text="no such provider")
                    return self._json(200, {"deleted": uid})
        if head == "requests" and len(parts) == 1:
            if method == "GET":
                with st.lock:
                    return self._json(200, list(st.requests))
            if method == "DELETE":
                with st.lock:
                    st.requests = []
                return self._json(200, [])
        if head == "auth" and len(parts) == 1:
            if method in ("POST", "PUT", "PATCH"):
                try:
                    apply_auth(st, body)
                except (ValueError, TypeError, AttributeError) as e:
                    raise HTTPError(400, text=str(e))
            if method in ("GET", "POST", "PUT", "PATCH"):
                with st.lock:
                    return self._json(200, st.auth)
        if head == "faults" and len(parts) == 1:
            if method == "POST":
                f = {"path": body.get("path", ""), "status": int(body.get("status", 500)),
                     "count": body.get("count"), "method": body.get("method", "GET")}
                try:
                    re.compile(f["path"])
                except re.error as e:
                    raise HTTPError(400, text="bad path regex: %s" % e)
                with st.lock:
                    st.faults.append(f)
                return self._json(201, f)
            if method == "GET":
                with st.lock:
                    return self._json(200, list(st.faults))
            if method == "DELETE":
                with st.lock:
                    st.faults = []
                return self._json(200, [])
        if head == "reset" and len(parts) == 1 and method == "POST":
            st.reset()
            return self._json(200, {"reset": True})
        raise HTTPError(404, text="unknown control endpoint %s %s" % (method, path))


def apply_auth(st, body):
    """Merge an auth update: keys required (bool), accept (list|null), deny ({token: user}),
    grants ({token: {user, namespaces: [..]|null}}). A present key replaces the old value."""
    allowed = {"required", "accept", "deny", "grants"}
    bad = set(body) - allowed
    if bad:
        raise ValueError("unknown keys: %s" % ", ".join(sorted(bad)))
    with st.lock:
        a = st.auth
        if "required" in body:
            a["required"] = bool(body["required"])
        if "accept" in body:
            a["accept"] = None if body["accept"] is None else list(body["accept"])
        if "deny" in body:
            d = body["deny"]
            a["deny"] = {t: "test-user" for t in d} if isinstance(d, list) else dict(d)
        if "grants" in body:
            a["grants"] = {t: {"user": g.get("user", "test-user"), "namespaces": g.get("namespaces")}
                           for t, g in body["grants"].items()}


# ---------------------------------------------------------------------------------------------
# Start-up.
# ---------------------------------------------------------------------------------------------

def parse_provider_flag(s):
    """TYPE=UID[:ESTATE[:NAMESPACE/NAME]]"""
    if "=" not in s:
        raise argparse.ArgumentTypeError("--provider wants TYPE=UID[:ESTATE[:NAMESPACE/NAME]]")
    ptype, rest = s.split("=", 1)
    bits = rest.split(":")
    spec = {"type": ptype, "uid": bits[0]}
    if len(bits) > 1 and bits[1]:
        spec["estate"] = bits[1]
    if len(bits) > 2 and bits[2]:
        if "/" not in bits[2]:
            raise argparse.ArgumentTypeError("NAMESPACE/NAME expected in %r" % s)
        spec["namespace"], spec["name"] = bits[2].split("/", 1)
    if len(bits) > 3:
        raise argparse.ArgumentTypeError("too many ':' in %r" % s)
    return spec


def token_user(s):
    t, _, u = s.partition("=")
    return t, (u or "test-user")


def build_parser():
    ap = argparse.ArgumentParser(description="Test double of Forklift's forklift-inventory REST service.")
    ap.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default 0)")
    ap.add_argument("--cert", help="PEM certificate (chain): serve HTTPS")
    ap.add_argument("--key", help="PEM private key for --cert")
    ap.add_argument("--estate-dir", action="append", default=None,
                    help="directory of estate *.json files (repeatable; default ./estate)")
    ap.add_argument("--provider", action="append", default=[], type=parse_provider_flag,
                    metavar="TYPE=UID[:ESTATE[:NS/NAME]]", help="register a provider (repeatable)")
    ap.add_argument("--default-providers", action="store_true",
                    help="register every estate under the uid/namespace/name written in it")
    ap.add_argument("--loading", action="append", default=[], metavar="UID",
                    help="mark a registered provider as loading (answers 206)")
    ap.add_argument("--parity-wait", type=float, default=0.0, metavar="SECONDS",
                    help="how long a request waits for a loading provider before 206 (real: 10; default 0)")
    ap.add_argument("--no-auth", action="store_true", help="behave as AUTH_REQUIRED=false (no token checks)")
    ap.add_argument("--accept-token", action="append", default=[], metavar="TOKEN",
                    help="accept only these bearer tokens (repeatable); others get 401")
    ap.add_argument("--deny-token", action="append", default=[], metavar="TOKEN[=USER]",
                    help="authenticated but SAR-denied token -> 403 (repeatable)")
    ap.add_argument("--pod-namespace", default=None, metavar="NS",
                    help="POD_NAMESPACE of the real service; enables restricted-host scoping of "
                         "openshift providers whose CR lives elsewhere (default: off)")
    return ap


def main(argv=None):
    args = build_parser().parse_args(argv)
    if bool(args.cert) != bool(args.key):
        sys.stderr.write("--cert and --key go together\n")
        return 2
    estates = load_estates(args.estate_dir or [DEFAULT_ESTATE_DIR])
    state = State(estates, args.pod_namespace, args.parity_wait)
    state.auth["required"] = not args.no_auth
    if args.accept_token:
        state.auth["accept"] = [t for t in args.accept_token]
    state.auth["deny"] = dict(token_user(t) for t in args.deny_token)
    try:
        if args.default_providers:
            for e in estates.values():
                state.register({"type": e.type, "uid": e.provider["uid"], "estate": e.name})
        for spec in args.provider:
            state.register(spec)
        for uid in args.loading:
            state.register({"uid": uid, "state": "loading"})
    except ValueError as e:
        sys.stderr.write("bad provider: %s\n" % e)
        return 2
    state.snapshot_initial()

    Handler.state = state
    Handler.inventory = Inventory(state)
    server_cls = ThreadingHTTPServer
    if ":" in args.host:
        class V6(ThreadingHTTPServer):
            address_family = socket.AF_INET6
        server_cls = V6
    server = server_cls((args.host, args.port), Handler)
    server.daemon_threads = True
    scheme = "http"
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(args.cert, args.key)
        # Handshake lazily, in the per-connection thread, so one slow client can't block accept().
        server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        scheme = "https"
    port = server.server_address[1]
    host = "[%s]" % args.host if ":" in args.host else args.host
    url = "%s://%s:%d" % (scheme, host, port)

    def _stop(signum, frame):
        log("signal %d: shutting down" % signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log("estates: %s; providers: %s; auth required: %s" % (
        ", ".join("%s(%s)" % (n, e.type) for n, e in estates.items()),
        ", ".join("%s=%s(%s)" % (p["type"], p["uid"], p["estate"]) for p in state.provider_list()) or "none",
        state.auth["required"]))
    sys.stdout.write("LISTENING %s\n" % url)
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
