#!/usr/bin/env python3
"""ci/bench.py - greenroom side by side with moto_server and nginx, and
stagehand's deploy and rehearsal, on this machine, in one run.

Every figure is a median over repeated runs; each competitor is measured in
the same conditions (same machine, same client, same object). A competitor
that is not installed is reported as skipped. Prints a table of figures and
ratios, and writes build/bench.json. Run through ci/bench (which builds and
installs the tools first).
"""
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build"))
GREENROOM = os.path.join(BUILD, "emulator", "greenroom")
STAGEHAND = os.path.join(BUILD, "deployer", "stagehand")
BENCH_HTTP = os.path.join(BUILD, "tests", "bench_http")
AWS = "/usr/bin/aws"
QUICK = os.environ.get("BENCH_QUICK") == "1"
REPEAT = 3 if QUICK else 5
ENV = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
           AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_CONFIG_FILE="/dev/null",
           AWS_SHARED_CREDENTIALS_FILE="/dev/null")
rows = []
results = {}


def row(name, value, unit, target=None, note=""):
    rows.append((name, value, unit, target or "", note))
    results[name] = {"value": value, "unit": unit, "target": target, "note": note}
    v = f"{value:,.2f}" if isinstance(value, float) else str(value)
    print(f"  {name:<58} {v:>14} {unit:<8} {target or '':<16} {note}", flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_http(port, path, timeout=30.0, ok=(200,)):
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=1)
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            d = s.recv(64)
            s.close()
            if d.startswith(b"HTTP/1.") and int(d.split()[1]) in ok:
                return time.perf_counter() - t0
        except (OSError, ValueError, IndexError):
            pass
        time.sleep(0.0005)
    raise RuntimeError(f"no answer on port {port}{path}")


def rss_kib(pid, field="VmRSS"):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Greenroom:
    def __init__(self, *args, state=None):
        self.dir = tempfile.mkdtemp(prefix="gr-bench-")
        self.state = state or os.path.join(self.dir, "state")
        self.p = subprocess.Popen([GREENROOM, "--port", "0", "--state-dir", self.state, *args],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.port = int(self.p.stdout.readline())
        self.url = f"http://127.0.0.1:{self.port}"
        wait_http(self.port, "/_greenroom/health")

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def aws(url, *args, check=True):
    return subprocess.run([AWS, "--endpoint-url", url, *args], env=ENV, check=check,
                          capture_output=True, text=True).stdout


def bench_http(*args):
    out = subprocess.run([BENCH_HTTP, *args], capture_output=True, text=True, check=False).stdout
    return json.loads(out.strip().splitlines()[-1]) if out.strip() else {}


def wrk(url, seconds=5, conns=16, script=None):
    if not shutil.which("wrk"):
        return None
    cmd = ["wrk", "-t2", f"-c{conns}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True).stdout
    if "Non-2xx or 3xx responses" in out:
        print("  (wrk saw error answers: the figure would count errors; discarded)", flush=True)
        return None
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    return None


def moto_start():
    if not shutil.which("moto_server"):
        return None
    port = free_port()
    t0 = time.perf_counter()
    p = subprocess.Popen(["moto_server", "-p", str(port)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        wait_http(port, "/moto-api/", timeout=60, ok=(200, 404))
    except RuntimeError:
        p.kill()
        return None
    return p, port, time.perf_counter() - t0


# ------------------------------------------------------------------ 1, 2
def bench_start():
    print("\n1-2. start-up and memory", flush=True)
    times, rss = [], []
    for _ in range(REPEAT * 2):
        t0 = time.perf_counter()
        d = tempfile.mkdtemp(prefix="gr-bench-")
        p = subprocess.Popen([GREENROOM, "--port", "0", "--ephemeral"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
        port = int(p.stdout.readline())
        wait_http(port, "/_greenroom/health")
        times.append(time.perf_counter() - t0)
        time.sleep(0.05)
        rss.append(rss_kib(p.pid))
        p.terminate()
        p.wait()
        shutil.rmtree(d, ignore_errors=True)
    gr = statistics.median(times) * 1000
    row("start to first healthy response: greenroom", gr, "ms", "<= 10 ms")
    mt = []
    for _ in range(REPEAT if not QUICK else 1):
        m = moto_start()
        if m is None:
            break
        p, port, t = m
        mt.append(t)
        moto_rss = rss_kib(p.pid)
        p.terminate()
        p.wait()
    if mt:
        moto = statistics.median(mt) * 1000
        row("start to first healthy response: moto_server", moto, "ms")
        row("start-up ratio moto/greenroom", moto / gr, "x", ">= 50x")
        row("RSS idle: moto_server", moto_rss / 1024, "MiB")
    else:
        row("start to first healthy response: moto_server", "skipped", "", note="not installed")
    row("RSS idle: greenroom", statistics.median(rss) / 1024, "MiB", "<= 8 MiB")


def presign(url, method, key):
    """Presigned URL for key (bucket/key) made by the AWS CLI (GET) or botocore (PUT)."""
    code = (
        "import boto3,sys\n"
        "from botocore.config import Config\n"
        "c=boto3.client('s3',endpoint_url=sys.argv[1],region_name='us-east-1',"
        "aws_access_key_id='test',aws_secret_access_key='test',"
        "config=Config(signature_version='s3v4',s3={'addressing_style':'path'}))\n"
        "b,k=sys.argv[3].split('/',1)\n"
        "print(c.generate_presigned_url('put_object' if sys.argv[2]=='PUT' else 'get_object',"
        "Params={'Bucket':b,'Key':k},ExpiresIn=3600))\n")
    r = subprocess.run([sys.executable, "-c", code, url, method, key], capture_output=True,
                       text=True)
    if r.returncode == 0:
        return r.stdout.strip()
    if method == "GET":
        return aws(url, "s3", "presign", f"s3://{key}", "--expires-in", "3600").strip()
    return None


# ------------------------------------------------------------------ 3, 4
def bench_s3(gr_mixed_rss):
    print("\n3-4. S3 GET 1 KiB (presigned, signature verified), PUT 1 KiB (signed, durable)", flush=True)
    g = Greenroom()
    data = os.path.join(g.dir, "obj.bin")
    with open(data, "wb") as f:
        f.write(os.urandom(1024))
    aws(g.url, "s3", "mb", "s3://bench")
    aws(g.url, "s3", "cp", data, "s3://bench/obj.bin")
    url = presign(g.url, "GET", "bench/obj.bin")
    gr = [wrk(url, 3 if QUICK else 5) for _ in range(REPEAT)]
    gr = [x for x in gr if x]
    if not gr:
        row("S3 GET 1 KiB presigned, wrk -c16: greenroom", "skipped", "", note="wrk missing")
        g.stop()
        return
    grv = statistics.median(gr)
    row("S3 GET 1 KiB presigned, wrk -c16: greenroom", grv, "req/s")
    # nginx serving the same bytes
    ng = nginx_rate(data)
    if ng:
        row("static 1 KiB file, wrk -c16: nginx (ceiling)", ng, "req/s")
        row("greenroom / nginx", grv / ng, "x", ">= 0.5x")
    else:
        row("static 1 KiB file: nginx", "skipped", "", note="nginx missing")
    m = moto_start()
    if m:
        p, port, _ = m
        murl = f"http://127.0.0.1:{port}"
        aws(murl, "s3", "mb", "s3://bench")
        aws(murl, "s3", "cp", data, "s3://bench/obj.bin")
        mu = presign(murl, "GET", "bench/obj.bin")
        mr = statistics.median([x for x in (wrk(mu, 3) for _ in range(REPEAT)) if x] or [0])
        p.terminate()
        p.wait()
        if mr:
            row("S3 GET 1 KiB presigned, wrk -c16: moto_server", mr, "req/s")
            row("greenroom / moto_server", grv / mr, "x", ">= 50x")
    # 4. PUT: a presigned PUT (signed; the signature is verified per request)
    purl = presign(g.url, "PUT", "bench/put.bin")
    if purl:
        rates = []
        for _ in range(REPEAT):
            r = bench_http("--url", purl, "--method", "PUT", "--body-size", "1024",
                           "--seconds", "2" if QUICK else "4", "--concurrency", "16")
            if r and r.get("errors", 1) == 0:
                rates.append(r["rps"])
        if rates:
            row("S3 PUT 1 KiB presigned, 16 conns (fsync before 200)", statistics.median(rates),
                "req/s", ">= 5,000/s")
    # SigV4 header-signed PUTs to unique keys (libcurl signs every request)
    rates = []
    for i in range(REPEAT):
        r = bench_http("--url", f"{g.url}/bench/k{i}", "--method", "PUT", "--sign", "s3",
                       "--body-size", "1024", "--seconds", "2" if QUICK else "4",
                       "--concurrency", "16", "--unique-keys")
        if r and r.get("errors", 1) == 0:
            rates.append(r["rps"])
    if rates:
        row("S3 PUT 1 KiB SigV4 header, unique keys, 16 conns", statistics.median(rates), "req/s",
            ">= 5,000/s")
    gr_mixed_rss.append(rss_kib(g.p.pid))
    g.stop()


def nginx_rate(data):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if not nginx:
        return None
    d = tempfile.mkdtemp(prefix="gr-nginx-")
    os.chmod(d, 0o755)  # nginx workers run as nobody
    shutil.copy(data, os.path.join(d, "obj.bin"))
    os.chmod(os.path.join(d, "obj.bin"), 0o644)
    port = free_port()
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 2; daemon off; pid {d}/nginx.pid; error_log {d}/error.log;
events {{ worker_connections 1024; }}
http {{ access_log off; sendfile on; keepalive_requests 100000;
  server {{ listen 127.0.0.1:{port}; root {d}; }} }}
""")
    p = subprocess.Popen([nginx, "-c", conf, "-p", d], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        wait_http(port, "/obj.bin", 10)
        rates = [x for x in (wrk(f"http://127.0.0.1:{port}/obj.bin", 3 if QUICK else 5)
                             for _ in range(REPEAT)) if x]
        return statistics.median(rates) if rates else None
    except RuntimeError:
        return None
    finally:
        p.terminate()
        p.wait()
        shutil.rmtree(d, ignore_errors=True)


# ------------------------------------------------------------------ 5
def bench_big():
    size_mib = 256 if QUICK else 1024
    print(f"\n5. {size_mib} MiB object PUT and GET", flush=True)
    g = Greenroom()
    aws(g.url, "s3", "mb", "s3://big")
    src = os.path.join(g.dir, "big.bin")
    with open(src, "wb") as f:
        chunk = os.urandom(1 << 20)
        for _ in range(size_mib):
            f.write(chunk)
    purl = presign(g.url, "PUT", "big/big.bin")
    t0 = time.perf_counter()
    subprocess.run(["curl", "-s", "-f", "-o", "/dev/null", "-T", src, "-H", "Expect:", purl],
                   check=True)
    put = time.perf_counter() - t0
    gurl = presign(g.url, "GET", "big/big.bin")
    t0 = time.perf_counter()
    subprocess.run(["curl", "-s", "-f", "-o", "/dev/null", gurl], check=True)
    get = time.perf_counter() - t0
    peak = rss_kib(g.p.pid, "VmHWM")
    row(f"{size_mib} MiB PUT (presigned, MD5+CRC32+CRC64NVME on the fly, fsync)", size_mib / put, "MB/s",
        ">= 500 MB/s")
    row(f"{size_mib} MiB GET (sendfile)", size_mib / get, "MB/s", ">= 500 MB/s")
    row("peak RSS during both", peak / 1024, "MiB", "<= 64 MiB")
    g.stop()


def main():
    if not os.path.exists(GREENROOM):
        sys.exit("build first: ci/bench builds into build/")
    cpu = platform.processor() or platform.machine()
    print(f"machine: {os.cpu_count()} cores, {cpu}, {platform.platform()}; repeats: {REPEAT}")
    print(f"  {'figure':<58} {'value':>14} {'unit':<8} {'target':<16} note")
    mixed = []
    for name, fn in (("start-up", bench_start), ("S3", lambda: bench_s3(mixed)),
                     ("big objects", bench_big)):
        try:
            fn()
        except Exception as e:  # a broken item is a skipped row, never the end of the run
            row(f"{name}", "skipped", "", note=f"{type(e).__name__}: {e}"[:80])
    if mixed:
        row("RSS after the S3 benchmarks (hundreds of thousands of requests)", mixed[0] / 1024,
            "MiB")
    extra = os.path.join(ROOT, "ci", "bench_more.py")
    if os.path.exists(extra):
        sys.path.insert(0, os.path.join(ROOT, "ci"))
        import bench_more  # noqa: E402  (Lambda, API Gateway, stagehand, scale)
        bench_more.run(sys.modules[__name__])
    os.makedirs(BUILD, exist_ok=True)
    with open(os.path.join(BUILD, "bench.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(f"\nwritten: {os.path.join(BUILD, 'bench.json')}")


if __name__ == "__main__":
    main()
