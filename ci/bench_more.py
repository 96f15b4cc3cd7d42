#!/usr/bin/env python3
"""ci/bench_more.py - items 6-9 of the benchmarks (issue 13), run by ci/bench.py
after its own items (bench_more.run(bench_module)):

 6. Lambda Invoke warm p50/p99 and cold start (node), stage URL -> AWS_PROXY ->
    warm node p50/p99, the same through an AWS (VTL) integration; a no-op
    request (GET /_greenroom/health, a signed GetFunction) for comparison.
 7. `stagehand deploy` of fixtures/cd-example to a fresh stage and a no-change
    redeploy; the six v0.5 commands one after another for comparison.
 8. `stagehand rehearse` full sweep of the example.
 9. Scale: ListObjectsV2 page time with 100,000 objects vs 1,000;
    PublishVersion time with 1,000 versions vs 10; stack create with 200
    resources.

Rows indented by two spaces say where the time goes (a no-op request, node's
own start, the stack poll interval, server time by operation from greenroom's
journal, an --ephemeral greenroom without fsync).

Concurrency-1 latencies are timed by the curl CLI (one process, one keep-alive
connection, %{time_total} per request; bench_http before dc86d66 waited out a
100 ms poll between requests at concurrency 1); load and bulk PUTs use bench_http.

Every figure is a median over repeats (b.REPEAT); a piece that does not work
is printed as a skipped row with the reason, never a crash. Standalone:
`python3 ci/bench_more.py [6 7 8 9]` (BUILD=... to pick the build dir).
"""
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACCOUNT = "000000000000"
REGION = "us-east-1"
b = None  # the ci/bench.py module (row, Greenroom, bench_http, ...)

HANDLER = """'use strict';
exports.handler = async (event) => ({statusCode: 200, headers: {'content-type': 'text/plain'}, body: 'ok'});
"""


def med(xs):
    return statistics.median(xs) if xs else 0.0


def skipped(name, why):
    why = str(why).strip().splitlines()
    b.row(name, "skipped", "", note=(why[-1] if why else "")[:160])


def client(g, svc):
    import boto3
    from botocore.config import Config
    return boto3.client(svc, endpoint_url=g.url, region_name=REGION, aws_access_key_id="test",
                        aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1}, read_timeout=120))


def bh(*args):
    """bench_http, raising when every request failed or nothing came back."""
    r = b.bench_http(*args)
    if not r:
        raise RuntimeError("bench_http gave no output for " + " ".join(args))
    if r.get("errors", 0) and r.get("errors") == r.get("requests"):
        raise RuntimeError(f"bench_http: all {r['errors']} requests failed ({args[1]})")
    return r


def curl_lat(url, n, sign=None, method="GET"):
    """n sequential requests on one keep-alive connection (the curl CLI, one process, timed
    by curl itself: %{time_total}): {requests, errors, p50_ms, p99_ms, max_ms}. Used for the
    concurrency-1 latencies."""
    with tempfile.NamedTemporaryFile("w", suffix=".curlrc", delete=False) as f:
        for _ in range(n):
            f.write(f'url = "{url}"\noutput = "/dev/null"\n')
        cfg = f.name
    cmd = ["curl", "-s", "-K", cfg, "-X", method, "-H", "Expect:", "-w", "%{http_code} %{time_total}\n"]
    if sign:
        cmd += ["--aws-sigv4", f"aws:amz:{REGION}:{sign}", "-u", "test:test"]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=600).stdout
    finally:
        os.unlink(cfg)
    lat, errors = [], 0
    for line in out.splitlines():
        code, t = line.split()
        if not code.startswith("2"):
            errors += 1
        lat.append(float(t) * 1000.0)
    if not lat or errors == len(lat):
        raise RuntimeError(f"{method} {url}: {errors} of {len(lat)} requests failed")
    lat.sort()

    def pct(p):
        return lat[int((len(lat) - 1) * p)]
    return {"requests": len(lat), "errors": errors, "p50_ms": pct(0.5), "p99_ms": pct(0.99),
            "max_ms": lat[-1]}


def lat_once(url, sign=None, method="GET"):
    """Latency (ms) of one request on a new connection (timed by curl)."""
    r = curl_lat(url, 1, sign, method)
    if r["errors"]:
        raise RuntimeError(f"{method} {url} failed")
    return r["p50_ms"]


def node_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.js", HANDLER)
    return buf.getvalue()


def make_role(g):
    iam = client(g, "iam")
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole"}]})
    try:
        iam.create_role(RoleName="bench-role", AssumeRolePolicyDocument=doc)
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    return f"arn:aws:iam::{ACCOUNT}:role/bench-role"


def wait_fn(lam, name, timeout=30):
    t0 = time.time()
    while time.time() - t0 < timeout:
        c = lam.get_function_configuration(FunctionName=name)
        if c.get("State", "Active") == "Active" and c.get("LastUpdateStatus",
                                                           "Successful") != "InProgress":
            return c
        time.sleep(0.01)
    raise RuntimeError(f"function {name} not Active after {timeout}s")


def make_fn(g, name, zipdata=None):
    lam = client(g, "lambda")
    lam.create_function(FunctionName=name, Runtime="nodejs20.x", Handler="index.handler",
                        Role=make_role(g), Code={"ZipFile": zipdata or node_zip()},
                        Timeout=10)
    wait_fn(lam, name)
    return lam


# ------------------------------------------------------------------ 6
def bench_lambda():
    print("\n6. Lambda Invoke (node) and API Gateway stage URL", flush=True)
    g = b.Greenroom()
    try:
        _bench_lambda(g)
    finally:
        g.stop()


def _bench_lambda(g):
    n = 300 if b.QUICK else 2000
    # no-op baselines: what one request costs without Lambda
    try:
        r = curl_lat(f"{g.url}/_greenroom/health", n)
        b.row("no-op GET /_greenroom/health, c=1: p50", r["p50_ms"], "ms",
              note=f"p99 {r['p99_ms']:.3f} ms (baseline)")
    except Exception as e:  # noqa: BLE001
        skipped("no-op GET /_greenroom/health", e)
    name = "bench-fn"
    invoke = f"{g.url}/2015-03-31/functions/{name}/invocations"
    try:
        lam = make_fn(g, name)
        r = curl_lat(f"{g.url}/2015-03-31/functions/{name}", n, "lambda")
        b.row("signed GetFunction (no sandbox), c=1: p50", r["p50_ms"], "ms",
              note=f"p99 {r['p99_ms']:.3f} ms (baseline)")
        t0 = time.perf_counter()
        first = lat_once(invoke, "lambda", "POST")
        b.row("Lambda Invoke node: first invoke after CreateFunction", first, "ms",
              note=f"wall {1000 * (time.perf_counter() - t0):.0f} ms")
        p50, p99 = [], []
        for _ in range(b.REPEAT):
            r = curl_lat(invoke, n, "lambda", "POST")
            if r.get("errors"):
                raise RuntimeError(f"{r['errors']} of {r['requests']} invokes failed")
            p50.append(r["p50_ms"])
            p99.append(r["p99_ms"])
        b.row("Lambda Invoke node warm, c=1: p50", med(p50), "ms", "<= 2 ms")
        b.row("Lambda Invoke node warm, c=1: p99", med(p99), "ms")
        r = bh("--url", invoke, "--method", "POST", "--sign", "lambda",
               "--seconds", "2" if b.QUICK else "4", "--concurrency", "8")
        b.row("Lambda Invoke node warm, c=8: throughput", r["rps"], "req/s",
              note=f"p50 {r['p50_ms']:.2f} ms, errors {r['errors']}")
        # cold: a configuration change retires the warm sandboxes
        cold = []
        for i in range(b.REPEAT * 2):
            lam.update_function_configuration(FunctionName=name,
                                              Environment={"Variables": {"BENCH_N": str(i)}})
            wait_fn(lam, name)
            cold.append(lat_once(invoke, "lambda", "POST"))
        b.row("Lambda Invoke node cold start (after UpdateFunctionConfiguration)", med(cold), "ms",
              note=f"min {min(cold):.1f} max {max(cold):.1f}")
        node = []
        for _ in range(b.REPEAT * 2):
            t0 = time.perf_counter()
            subprocess.run(["node", "-e", ""], check=True)
            node.append((time.perf_counter() - t0) * 1000)
        b.row("  for comparison: `node -e ''` process start to exit", med(node), "ms")
    except Exception as e:  # noqa: BLE001
        traceback.print_exc(file=sys.stderr)
        skipped("Lambda Invoke node", e)
        return
    # API Gateway: {proxy+} ANY AWS_PROXY and /vtl GET AWS (VTL templates)
    try:
        api_id, stage = make_api(g, name)
    except Exception as e:  # noqa: BLE001
        traceback.print_exc(file=sys.stderr)
        skipped("API Gateway stage URL", e)
        return
    for label, path, target in (("AWS_PROXY {proxy+}", "x", "<= 3 ms"),
                                ("AWS integration + VTL", "vtl", "<= 3 ms")):
        try:
            url = f"{g.url}/restapis/{api_id}/{stage}/_user_request_/{path}"
            lat_once(url)
            p50, p99 = [], []
            for _ in range(b.REPEAT):
                r = curl_lat(url, n)
                if r.get("errors"):
                    raise RuntimeError(f"{r['errors']} of {r['requests']} requests failed")
                p50.append(r["p50_ms"])
                p99.append(r["p99_ms"])
            b.row(f"stage URL -> {label} -> warm node, c=1: p50", med(p50), "ms", target)
            b.row(f"stage URL -> {label} -> warm node, c=1: p99", med(p99), "ms")
        except Exception as e:  # noqa: BLE001
            skipped(f"stage URL -> {label}", e)


def make_api(g, fn):
    apigw = client(g, "apigateway")
    lam = client(g, "lambda")
    api = apigw.create_rest_api(name="bench")["id"]
    root = [r for r in apigw.get_resources(restApiId=api)["items"] if r["path"] == "/"][0]["id"]
    fn_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn}"
    uri = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{fn_arn}/invocations"
    proxy = apigw.create_resource(restApiId=api, parentId=root, pathPart="{proxy+}")["id"]
    apigw.put_method(restApiId=api, resourceId=proxy, httpMethod="ANY", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=proxy, httpMethod="ANY", type="AWS_PROXY",
                          integrationHttpMethod="POST", uri=uri)
    vtl = apigw.create_resource(restApiId=api, parentId=root, pathPart="vtl")["id"]
    apigw.put_method(restApiId=api, resourceId=vtl, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(
        restApiId=api, resourceId=vtl, httpMethod="GET", type="AWS", integrationHttpMethod="POST",
        uri=uri, passthroughBehavior="WHEN_NO_TEMPLATES",
        requestTemplates={"application/json":
                          '{"path":"$context.resourcePath","q":"$input.params(\'q\')",'
                          '"stage":"$context.stage"}'})
    apigw.put_method_response(restApiId=api, resourceId=vtl, httpMethod="GET", statusCode="200")
    apigw.put_integration_response(
        restApiId=api, resourceId=vtl, httpMethod="GET", statusCode="200",
        responseTemplates={"application/json":
                           '#set($r = $input.path(\'$\')){"status":$r.statusCode,'
                           '"body":"$util.escapeJavaScript($r.body)"}'})
    lam.add_permission(FunctionName=fn, StatementId="apigw", Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com",
                       SourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api}/*/*/*")
    apigw.create_deployment(restApiId=api, stageName="bench")
    return api, "bench"


# ------------------------------------------------------------------ 7, 8
def stagehand_env():
    return dict(b.ENV, CI="true")


def project_copy():
    d = tempfile.mkdtemp(prefix="gr-bench-proj-")
    p = os.path.join(d, "cd-example")
    shutil.copytree(os.path.join(ROOT, "fixtures", "cd-example"), p, symlinks=True)
    shutil.rmtree(os.path.join(p, "_meta"), ignore_errors=True)
    return d, p


def sh(g, proj, *args, timeout=300, env=None, stdout_only=False):
    """Run stagehand in proj against g; returns (seconds, exit code, output tail)."""
    t0 = time.perf_counter()
    r = subprocess.run([b.STAGEHAND, *args, "--endpoint-url", g.url], cwd=proj,
                       env=env or stagehand_env(), capture_output=True, text=True,
                       timeout=timeout)
    dt = time.perf_counter() - t0
    if stdout_only and r.returncode == 0:
        return dt, r.returncode, r.stdout
    return dt, r.returncode, (r.stdout + r.stderr).strip()


def check_sh(res, what):
    dt, rc, out = res
    if rc != 0:
        raise RuntimeError(f"{what}: exit {rc}: " + " | ".join(out.splitlines()[-3:]))
    return dt


def bench_deploy():
    print("\n7. stagehand deploy of fixtures/cd-example", flush=True)
    if not os.path.exists(b.STAGEHAND):
        skipped("stagehand deploy", "stagehand not built")
        return
    fresh, again = [], []
    try:
        for _ in range(b.REPEAT):
            g = b.Greenroom()
            d, p = project_copy()
            try:
                fresh.append(check_sh(sh(g, p, "deploy", "-s", "dev", "-r", REGION), "deploy"))
                for _ in range(2):
                    again.append(check_sh(sh(g, p, "deploy", "-s", "dev", "-r", REGION),
                                          "redeploy"))
            finally:
                g.stop()
                shutil.rmtree(d, ignore_errors=True)
        b.row("stagehand deploy cd-example, fresh stage", med(fresh), "s", "<= 1 s",
              note=f"min {min(fresh):.3f}")
        b.row("stagehand deploy cd-example, no-change redeploy", med(again), "s", "<= 0.3 s",
              note=f"min {min(again):.3f}")
    except Exception as e:  # noqa: BLE001
        skipped("stagehand deploy cd-example", e)
    # where the time goes: the deploy with the stack poll interval at 20 ms; the calls it makes
    try:
        fast, calls = [], None
        env = dict(stagehand_env(), STAGEHAND_POLL_MS="20")
        for _ in range(b.REPEAT):
            g = b.Greenroom()
            d, p = project_copy()
            try:
                fast.append(check_sh(sh(g, p, "deploy", "-s", "dev", "-r", REGION, env=env),
                                     "deploy"))
                calls = calls or journal_summary(g)
            finally:
                g.stop()
                shutil.rmtree(d, ignore_errors=True)
        b.row("  same, fresh stage, STAGEHAND_POLL_MS=20 (default 250)", med(fast), "s")
        if calls:
            b.row("  calls made by a fresh deploy (greenroom journal)", calls[0], "calls",
                  note=f"server time {calls[1]:.0f} ms; top: {calls[2]}")
    except Exception as e:  # noqa: BLE001
        skipped("stagehand deploy, poll 20 ms", e)
    # the six v0.5 commands one after another
    steps = (("project", "init", "-c"), ("meta", "sync"), ("resources", "deploy"),
             ("function", "deploy", "-a"), ("event", "deploy", "-a"), ("endpoint", "deploy", "-a"))
    try:
        tot, per = [], {s[0]: [] for s in steps}
        for _ in range(b.REPEAT):
            g = b.Greenroom()
            d, p = project_copy()
            try:
                t = 0.0
                for s in steps:
                    dt = check_sh(sh(g, p, *s, "-s", "dev", "-r", REGION), " ".join(s))
                    per[s[0]].append(dt)
                    t += dt
                tot.append(t)
            finally:
                g.stop()
                shutil.rmtree(d, ignore_errors=True)
        b.row("six v0.5 commands one after another, fresh stage", med(tot), "s",
              note=", ".join(f"{k} {med(v):.2f}" for k, v in per.items()))
        if fresh:
            b.row("v0.5 six commands / stagehand deploy", med(tot) / med(fresh), "x")
    except Exception as e:  # noqa: BLE001
        skipped("six v0.5 commands", e)


def journal_summary(g):
    """(number of AWS calls, total server latency ms, top operations) from greenroom's journal."""
    import urllib.request
    calls, since = [], 0
    for _ in range(100):
        with urllib.request.urlopen(f"{g.url}/_greenroom/calls?since={since}") as r:
            d = json.load(r)
        cs = [c for c in d.get("calls", []) if c.get("service") != "_greenroom"]
        calls += cs
        nxt = d.get("next", since)
        if not d.get("calls") or nxt == since:
            break
        since = nxt
    if not calls:
        return None
    by = {}
    for c in calls:
        k = f"{c['service']}:{c['operation']}"
        by[k] = by.get(k, 0) + 1
    top = ", ".join(f"{k} x{v}" for k, v in sorted(by.items(), key=lambda x: -x[1])[:4])
    return len(calls), sum(float(c.get("latencyMs") or 0) for c in calls), top


def bench_rehearse():
    print("\n8. stagehand rehearse full sweep of cd-example", flush=True)
    if not os.path.exists(b.STAGEHAND):
        skipped("stagehand rehearse", "stagehand not built")
        return
    times, kinds = [], {}
    summary = ""
    try:
        for _ in range(1 if b.QUICK else b.REPEAT):
            # the command: --endpoint-url of a greenroom on this machine; the
            # cases run on 2 x cores clones of it, every kind (crash too)
            dt, out = rehearse_once("--output", "json")
            times.append(dt)
            res = json.loads(out[out.index("{"):])["result"]
            cases = res.get("cases", [])
            summary = (f"{len(cases)} cases over N={res.get('calls')} calls, "
                       f"{res.get('violations')} violations")
            for c in cases:
                kinds.setdefault(c.get("kind", "?"), []).append(float(c.get("ms", 0)))
            if dt > 60:
                break  # one sweep over a minute is enough to say the target is missed
        b.row("stagehand rehearse, full sweep (all k, all kinds, --endpoint-url)", med(times), "s",
              "well under 60 s", note=f"{summary}; {len(times)} run(s)")
        if not b.QUICK:
            dt, out = rehearse_once("--greenroom", b.GREENROOM, "--output", "json")
            b.row("  the same on rehearse's own greenrooms (--greenroom)", dt, "s")
            dt, out = rehearse_once("--jobs", "1", "--output", "json")
            b.row("  on the --endpoint-url greenroom itself (--jobs 1: one at a time, no crash)", dt,
                  "s")
        # where the time goes: per case, by fault kind
        for k, v in kinds.items():
            b.row(f"  rehearse: per case, kind {k}", med(v), "ms",
                  note=f"{len(v)} cases, {sum(v) / 1000 / len(times):.1f} s of the sweep")
    except subprocess.TimeoutExpired:
        skipped("stagehand rehearse full sweep", "did not finish in 600 s")
    except Exception as e:  # noqa: BLE001
        skipped("stagehand rehearse full sweep", e)
    # a sample of cases (no timeout kind) against a durable and an --ephemeral greenroom (no
    # fsync): where the server time goes (greenroom's journal)
    n = 24 if b.QUICK else 40
    for label, gargs in (("durable state dir", ()), ("--ephemeral, no fsync", ("--ephemeral",))):
        try:
            per, top = [], ""
            for _ in range(1 if b.QUICK else 2):
                stats = {}
                dt, out = rehearse_once("--kinds=error,throttle,reset,kill", f"--max-cases={n}",
                                        "--seed=1", "--output", "json", gargs=gargs,
                                        stats=stats)
                res = json.loads(out[out.index("{"):])["result"]
                per += [float(c.get("ms", 0)) for c in res.get("cases", [])]
                top = top or stats.get("top", "")
            b.row(f"  rehearse sample, {label}: per case", med(per), "ms", note=top)
        except Exception as e:  # noqa: BLE001
            skipped(f"  rehearse sample, {label}", e)
    try:
        restore_time()
    except Exception as e:  # noqa: BLE001
        skipped("  snapshot restore", e)


def server_time(g):
    """Greenroom's journal: 'calls N, server ms S; top operations by server time'."""
    import urllib.request
    calls, since = [], 0
    for _ in range(1000):
        with urllib.request.urlopen(f"{g.url}/_greenroom/calls?since={since}") as r:
            d = json.load(r)
        calls += d.get("calls", [])
        nxt = d.get("next", since)
        if not d.get("calls") or nxt == since:
            break
        since = nxt
    by = {}
    for c in calls:
        x = by.setdefault(c["operation"], [0, 0.0])
        x[0] += 1
        x[1] += float(c.get("latencyMs") or 0)
    tot = sum(v[1] for v in by.values()) or 1.0
    top = sorted(by.items(), key=lambda x: -x[1][1])[:3]
    return (f"{len(calls)} calls, server {tot / 1000:.1f} s: " +
            ", ".join(f"{k} {100 * v[1] / tot:.0f}% ({v[1] / v[0]:.2f} ms x{v[0]})"
                      for k, v in top))


def rehearse_once(*extra, gargs=(), stats=None):
    g = b.Greenroom(*gargs)
    d, p = project_copy()
    try:
        dt, rc, out = sh(g, p, "rehearse", "-s", "dev", "-r", REGION, *extra, timeout=600,
                         stdout_only=True)
        if rc != 0:
            raise RuntimeError(f"rehearse exit {rc}: " + " | ".join(out.splitlines()[-3:]))
        if stats is not None:
            stats["top"] = server_time(g)
        return dt, out
    finally:
        g.stop()
        shutil.rmtree(d, ignore_errors=True)


def restore_time():
    """The deployed example in greenroom: snapshot save and restore times (ms)."""
    import urllib.request

    def post(path, body):
        req = urllib.request.Request(g.url + path, data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        t0 = time.perf_counter()
        with urllib.request.urlopen(req) as r:
            r.read()
        return (time.perf_counter() - t0) * 1000

    g = b.Greenroom()
    d, p = project_copy()
    try:
        check_sh(sh(g, p, "deploy", "-s", "dev", "-r", REGION), "deploy")
        save = [post("/_greenroom/snapshots", json.dumps({"name": f"s{i}"})) for i in range(5)]
        rest = [post("/_greenroom/snapshots/s0/restore", "{}") for _ in range(10)]
        again = []
        for _ in range(3):
            post("/_greenroom/snapshots/s0/restore", "{}")
            again.append(check_sh(sh(g, p, "deploy", "-s", "dev", "-r", REGION), "redeploy"))
        b.row("  snapshot restore of the deployed example", med(rest), "ms",
              note=f"save {med(save):.1f} ms; no-change deploy after restore {med(again):.3f} s")
    finally:
        g.stop()
        shutil.rmtree(d, ignore_errors=True)


# ------------------------------------------------------------------ 9
def bench_scale():
    print("\n9. scale", flush=True)
    for name, fn in (("ListObjectsV2 100,000 vs 1,000 objects", scale_list),
                     ("PublishVersion 1,000 vs 10 versions", scale_publish),
                     ("CreateStack with 200 resources", scale_stack)):
        try:
            fn()
        except Exception as e:  # noqa: BLE001
            traceback.print_exc(file=sys.stderr)
            skipped(name, e)


def fill_bucket(g, bucket, n):
    s3 = client(g, "s3")
    s3.create_bucket(Bucket=bucket)
    t0 = time.perf_counter()
    r = bh("--url", f"{g.url}/{bucket}/k", "--unique-keys", "--requests", str(n), "--concurrency",
           "16", "--method", "PUT", "--sign", "s3", "--body-size", "10")
    if r.get("errors"):
        raise RuntimeError(f"{r['errors']} of {n} PUTs failed")
    return time.perf_counter() - t0


def list_page(g, bucket, reps, start_after=None):
    """Median ms of a full 1,000-key ListObjectsV2 page (first page, or after start_after)."""
    q = f"{g.url}/{bucket}?list-type=2&max-keys=1000"
    if start_after:
        q += f"&start-after={start_after}"
    return curl_lat(q, reps, "s3")["p50_ms"]


def scale_list():
    g = b.Greenroom()
    try:
        big = 100000
        t_small = fill_bucket(g, "small", 1000)
        t_big = fill_bucket(g, "big", big)
        b.row("  PUT 100,000 objects of 10 B (c=16, SigV4, fsync each)", big / t_big, "req/s",
              note=f"{t_big:.1f} s; 1,000 in {t_small:.2f} s")
        reps = 20 if b.QUICK else 50
        s1, b1, b2, b3 = [], [], [], []
        for _ in range(b.REPEAT):
            s1.append(list_page(g, "small", reps))
            b1.append(list_page(g, "big", reps))
            # keys k-0..k-99999 sort as strings: "k-5" is about half way through, "k-98" near
            # the end (a continuation token resumes the same way as start-after)
            b2.append(list_page(g, "big", reps, "k-5"))
            b3.append(list_page(g, "big", reps, "k-98"))
        b.row("ListObjectsV2 1,000-key page, 1,000 objects", med(s1), "ms")
        b.row("ListObjectsV2 1,000-key page, 100,000 objects: first page", med(b1), "ms")
        b.row("ListObjectsV2 1,000-key page, 100,000 objects: start-after mid", med(b2), "ms")
        b.row("ListObjectsV2 1,000-key page, 100,000 objects: start-after end", med(b3), "ms")
        b.row("ListObjectsV2 page ratio 100k/1k (first page)", med(b1) / med(s1), "x", "<= 1.5")
        b.row("ListObjectsV2 page ratio 100k mid/1k (start-after)", med(b2) / med(s1), "x",
              "<= 1.5")
        b.row("ListObjectsV2 page ratio 100k end/1k (start-after)", med(b3) / med(s1), "x",
              "<= 1.5")
    finally:
        g.stop()


def scale_publish():
    g = b.Greenroom()
    try:
        name = "bench-ver"
        lam = make_fn(g, name)
        url = f"{g.url}/2015-03-31/functions/{name}/versions"
        samples = 5 if b.QUICK else 10

        def publish(i, timed):
            # a configuration change (Description is not part of a version's configuration)
            lam.update_function_configuration(FunctionName=name,
                                              Environment={"Variables": {"BENCH_N": str(i)}})
            if timed:
                return lat_once(url, "lambda", "POST")
            lam.publish_version(FunctionName=name)
            return 0.0

        at10, at1000 = [], []
        i = 0
        while i < 10 - samples // 2:
            publish(i, False)
            i += 1
        for _ in range(samples):
            at10.append(publish(i, True))
            i += 1
        t0 = time.perf_counter()
        while i < 1000 - samples // 2:
            publish(i, False)
            i += 1
        fill = time.perf_counter() - t0
        for _ in range(samples):
            at1000.append(publish(i, True))
            i += 1
        last = lam.publish_version(FunctionName=name)["Version"]
        b.row("PublishVersion with ~10 versions", med(at10), "ms")
        b.row("PublishVersion with ~1,000 versions", med(at1000), "ms",
              note=f"last version {last}; filled at {(i - 2 * samples) / fill:.0f} pairs/s (boto3)")
        b.row("PublishVersion ratio 1,000/10", med(at1000) / med(at10), "x", "<= 1.5")
    finally:
        g.stop()


def stack_template(n):
    res = {f"Topic{i}": {"Type": "AWS::SNS::Topic"} for i in range(n // 2)}
    res.update({f"Queue{i}": {"Type": "AWS::SQS::Queue"} for i in range(n - n // 2)})
    return json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": res})


def create_stack(cfn, name, body, timeout=300):
    t0 = time.perf_counter()
    cfn.create_stack(StackName=name, TemplateBody=body)
    while time.perf_counter() - t0 < timeout:
        s = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        if s == "CREATE_COMPLETE":
            return time.perf_counter() - t0
        if not s.endswith("IN_PROGRESS"):
            raise RuntimeError(f"stack {name}: {s}")
        time.sleep(0.005)
    raise RuntimeError(f"stack {name} not complete after {timeout}s")


def scale_stack():
    g = b.Greenroom()
    try:
        cfn = client(g, "cloudformation")
        one, many = [], []
        for i in range(b.REPEAT):
            one.append(create_stack(cfn, f"one{i}", stack_template(2)))
            many.append(create_stack(cfn, f"many{i}", stack_template(200)))
        b.row("CreateStack 2 resources (SNS topic + SQS queue) to CREATE_COMPLETE",
              med(one) * 1000, "ms")
        b.row("CreateStack 200 resources (100 topics + 100 queues)", med(many) * 1000, "ms",
              note=f"{med(many) * 1000 / 200:.2f} ms per resource")
    finally:
        g.stop()


ITEMS = {"6": bench_lambda, "7": bench_deploy, "8": bench_rehearse, "9": bench_scale}


def run(bench_module, only=None):
    global b
    b = bench_module
    for k, fn in ITEMS.items():
        if only and k not in only:
            continue
        try:
            fn()
        except Exception as e:  # noqa: BLE001
            traceback.print_exc(file=sys.stderr)
            skipped(f"item {k}", e)


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(ROOT, "ci"))
    import bench as bench_module  # noqa: E402
    print(f"  {'figure':<58} {'value':>14} {'unit':<8} {'target':<16} note")
    run(bench_module, set(sys.argv[1:]) or None)
