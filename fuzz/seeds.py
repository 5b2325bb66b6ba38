#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/seed-*)
from the project's tests and fixtures. Re-run after changing a target's
input format; scripts/fuzz reads these seeds and never writes here.

    python3 fuzz/seeds.py
"""
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def write(target, items):
    d = os.path.join(CORPUS, target)
    for f in glob.glob(os.path.join(d, "seed-*")):
        os.remove(f)
    os.makedirs(d, exist_ok=True)
    seen = set()
    for data in items:
        if isinstance(data, str):
            data = data.encode()
        h = hashlib.sha1(data).hexdigest()[:16]
        if h in seen:
            continue
        seen.add(h)
        with open(os.path.join(d, "seed-" + h), "wb") as f:
            f.write(data)
    print(f"{target}: {len(seen)} seeds")


def rust_json(text):
    """A json!({...}) literal of a test, with variables as strings."""
    t = re.sub(r'(?<=[:\[,]) *([a-z_][a-z0-9_]*(?:\.[a-z_]+)*(?:\(\))?)(?= *[,}\]])',
               lambda m: m.group(1) if m.group(1) in ("true", "false", "null") else ' "' + m.group(1) + '"', text)
    t = re.sub(r'&format!\("([^"]*)"[^)]*\)', r'"\1"', t)
    try:
        return json.loads(t)
    except ValueError:
        return None


def test_calls():
    """(tool, arguments) pairs called by the integration tests."""
    out = []
    pat = re.compile(r'"([a-z_]+)",\s*json!\((\{.*?\})\)\s*\)', re.S)
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "*.rs"))):
        text = open(path).read()
        for m in pat.finditer(text):
            args = rust_json(m.group(2))
            if isinstance(args, dict):
                out.append((m.group(1), args))
    return out


def tool_names():
    """The registry's tool order with every toolset (the tool byte's index)."""
    exe = os.path.join(ROOT, "target", "debug", "kubectl-mtv")
    if not os.path.exists(exe):
        subprocess.run(["cargo", "build", "-q", "--bin", "kubectl-mtv"], cwd=ROOT, check=True)
    out = subprocess.run([exe, "tools", "--toolsets", "all", "--json"], capture_output=True, check=True)
    return [t["name"] for t in json.loads(out.stdout)["tools"]]


def rpc(i, method, params=None):
    m = {"jsonrpc": "2.0", "id": i, "method": method}
    if params is not None:
        m["params"] = params
    return json.dumps(m, separators=(",", ":"))


def call(i, tool, args, token=None):
    p = {"name": tool, "arguments": args}
    if token is not None:
        p["_meta"] = {"progressToken": token}
    return rpc(i, "tools/call", p)


def jsonrpc_seeds(calls):
    init = rpc(0, "initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                  "clientInfo": {"name": "t", "version": "0"}})
    inited = '{"jsonrpc":"2.0","method":"notifications/initialized"}'
    lines = [
        rpc(1, "ping"), rpc(2, "tools/list"), rpc(3, "tools/list", {"cursor": "MTA"}),
        rpc(4, "logging/setLevel", {"level": "debug"}), rpc(5, "resources/list"),
        rpc(6, "prompts/list"), rpc(7, "completion/complete", {}),
        '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":9}}',
        '{"jsonrpc":"2.0","id":8,"result":{}}', '{"jsonrpc":"2.0","id":"x"', "[]", "{}", "null",
        '{"jsonrpc":"1.0","id":1,"method":"ping"}', rpc(10, "no/such"),
        call(11, "no_such_tool", {}),
    ]
    seeds = []
    # Mode '0' (uninitialized): the handshake itself and requests before it.
    seeds.append("0" + init + "\n" + inited + "\n" + rpc(1, "tools/list"))
    seeds.append("0" + rpc(1, "tools/list"))
    seeds.append("0" + "[" + init + "]")
    for l in lines:
        seeds.append("1" + l)
    for i, (tool, args) in enumerate(calls):
        seeds.append("1" + call(100 + i, tool, args, token=("p%d" % i) if i % 3 == 0 else None))
    # Batches (2025-03-26), cancellation of a running call, a repeated id.
    seeds.append("2[" + rpc(1, "ping") + "," + call(2, "get_plans", {"namespace": "ns"}) + ',{"jsonrpc":"2.0","method":"notifications/initialized"},{"x":1}]')
    seeds.append("3" + call(5, "get_plans", {"namespace": "ns", "watch": True}, token=5) +
                 '\n{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5,"reason":"x"}}')
    seeds.append("4" + call(5, "get_plans", {}) + "\n" + call(5, "get_plans", {}))
    return seeds


def http_seeds():
    init = rpc(0, "initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                  "clientInfo": {"name": "t", "version": "0"}})
    init_old = rpc(0, "initialize", {"protocolVersion": "2024-11-05", "capabilities": {},
                                      "clientInfo": {"name": "t", "version": "0"}})
    A = "Accept: application/json, text/event-stream\nContent-Type: application/json\n"
    sep = "\n----\n"

    def post(path, body, headers=""):
        return f"POST {path}\n{A}{headers}\n{body}"

    sid = "Mcp-Session-Id: {sid}\nMCP-Protocol-Version: 2025-06-18\n"
    streamable = sep.join([
        post("/mcp", init),
        post("/mcp", '{"jsonrpc":"2.0","method":"notifications/initialized"}', sid),
        post("/mcp", rpc(1, "tools/list"), sid),
        post("/mcp", call(2, "get_plans", {"namespace": "ns"}, token="t"), sid),
        f"DELETE /mcp\n{sid}\n",
    ])
    sse = sep.join([
        "GET /sse\nHost: localhost:8080\n\n",
        post("/messages?sessionId={sid}", init_old),
        post("/messages?sessionId={sid}", rpc(1, "tools/list")),
        post("/messages?sessionId={sid}", call(2, "get_providers", {"namespace": "ns"})),
    ])
    seeds = [
        "\x01" + streamable, "\x05" + streamable, "\x01" + sse, "\x81" + sse,
        "\x00" + post("/mcp", init, "Authorization: Bearer abc\n"),
        "\x00" + post("/mcp", init),
        "\x01" + post("/mcp", init, "Host: evil.example\n"),
        "\x01" + post("/mcp", init, "Origin: http://evil.example\nHost: localhost\n"),
        "\x01OPTIONS /mcp\nOrigin: http://localhost:3000\n\n",
        "\x09" + post("/mcp", init),
        "\x09" + post("/mcp", init, f"Content-Length: 99999999\n"),
        "\x41" + post("/mcp", init),
        "\x11" + post("/mcp", "[" + init + "]"),
        "\x21" + post("/mcp", rpc(1, "tools/list"), "MCP-Protocol-Version: 2099-01-01\n"),
        "\x05" + post("/mcp", rpc(1, "tools/list"), "MCP-Protocol-Version: 2025-03-26\n"),
        "\x01GET /mcp\n\n", "\x01PUT /sse\n\n", "\x01GET /healthz\n\n", "\x01GET /readyz\n\n",
        "\x01GET /metrics\n\n", "\x01GET /nowhere\n\n",
        "\x01" + post("/mcp", init, "Accept: text/html\n"),
        "\x01" + post("/messages", "{}"),
        "\x01" + post("/messages?sessionId=0123", "{}"),
    ]
    return seeds


def tool_args_seeds(calls, names):
    seeds = []
    resources = [os.path.basename(p)[len("forklift.konveyor.io_"):-len(".yaml")]
                 for p in sorted(glob.glob(os.path.join(ROOT, "crds", "forklift.konveyor.io_*.yaml")))]

    def resource_of(tool):
        for i, plural in enumerate(resources):
            singular = plural[:-1]
            if tool.endswith("_" + plural) or tool.endswith("_" + singular):
                return i
        return 0

    for tool, args in calls:
        if tool in names:
            seeds.append(bytes([names.index(tool), resource_of(tool)]) + json.dumps(args).encode())
    # Coercion: strings where the schema wants booleans, integers, objects.
    for tool, args in [
        ("get_plans", {"namespace": "ns", "all_namespaces": "false", "limit": "20", "watch": "True"}),
        ("create_provider", {"name": "p", "spec": '{"type": "vsphere", "url": "https://vc"}', "dry_run": "true"}),
        ("patch_plan", {"name": "p", "patch": '{"spec": {"warm": true}}'}),
        ("patch_plan", {"name": "p", "patch": '[{"op": "remove", "path": "/spec/url"}]'}),
        ("create_plan", {"name": "p", "spec": {"targetNamespace": "x", "provider": {}, "map": {}, "vms": [{"id": 3}]}}),
        ("get_inventory", {"provider": "vc", "resource": "vms", "query": "where memoryMB > 4096 limit '3'"}),
        ("explain_resource", {"kind": "Plan", "path": "spec.vms"}),
    ]:
        seeds.append(bytes([names.index(tool), resource_of(tool)]) + json.dumps(args).encode())
    return seeds


def query_seeds():
    texts = set()
    files = [os.path.join(ROOT, "src", "tools", "inventory", "query", f)
             for f in ("parser.rs", "eval.rs", "mod.rs", "path.rs")]
    files += [os.path.join(ROOT, "tests", "inventory.rs")]
    for path in files:
        text = open(path).read()
        tests = text[text.find("mod tests"):] if "mod tests" in text else text
        for m in re.finditer(r'"((?:[^"\\\n]|\\.)*)"', tests):
            s = re.sub(r'\\(.)', lambda e: {"n": "\n", "t": "\t"}.get(e.group(1), e.group(1)), m.group(1))
            if 2 <= len(s) <= 160 and re.search(r"[=<>~]| by | like |limit|select|where|len|any\(|sum\(|\bis\b", s):
                texts.add(s)
    seeds = sorted(texts)
    # With items of unusual shapes after a NUL.
    seeds.append('name like "w%" order by memoryMB desc\0[{"name":"web","memoryMB":1},{"name":null},1,"x",[2]]')
    seeds.append("sum(disks[*].capacity) > 1Ki\0" + '[{"disks":[{"capacity":1e308},{"capacity":-1}]}]')
    return seeds


def crd_seeds():
    seeds = []
    for path in sorted(glob.glob(os.path.join(ROOT, "crds", "forklift.konveyor.io_*.yaml"))):
        if os.path.getsize(path) <= 16 * 1024:
            seeds.append(open(path, "rb").read())
    seeds.append(open(os.path.join(ROOT, "codegen", "tests", "fixtures", "example.io_widgets.yaml"), "rb").read())
    text = open(os.path.join(ROOT, "codegen", "src", "crd.rs")).read()
    m = re.search(r'const MINI: &str = r#"(.*?)"#;', text, re.S)
    seeds.append(m.group(1).encode())
    return seeds


def main():
    calls = test_calls()
    names = tool_names()
    write("jsonrpc", jsonrpc_seeds(calls))
    write("http_request", http_seeds())
    write("tool_args", tool_args_seeds(calls, names))
    write("inventory_query", query_seeds())
    write("crd", crd_seeds())


if __name__ == "__main__":
    main()
