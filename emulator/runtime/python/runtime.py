"""runtime.py - greenroom's Lambda runtime client for python* functions.

Speaks the Lambda Runtime API (AWS_LAMBDA_RUNTIME_API, served by greenroom
under /_greenroom/runtime/<sandbox>/): GET invocation/next, call the handler
named by _HANDLER ("dir/module.function", relative to LAMBDA_TASK_ROOT),
POST invocation/<id>/response or /error (errors are "Unhandled", with the
error JSON AWS's python runtime produces: errorMessage, errorType,
requestId, stackTrace). Import failures go to /init/error.

The function's boto3 reaches greenroom through AWS_ENDPOINT_URL, which
botocore reads itself since 1.31 (boto3 1.28); an older botocore (a zip's
own, or an old distribution's) gets it as the default endpoint_url of
Session.create_client, patched in when botocore.session is first imported
(BotocoreEndpoint). Clients given their own endpoint_url keep it.
"""
import http.client
import importlib.util
import json
import os
import sys
import time
import traceback

API = os.environ.get("AWS_LAMBDA_RUNTIME_API", "")
HOSTPORT, _, PATH = API.partition("/")
PREFIX = ("/" + PATH if PATH else "") + "/2018-06-01/runtime"
HOST, _, PORT = HOSTPORT.rpartition(":")

_conn = None


class BotocoreEndpoint:
    """A meta path finder that sees botocore.session imported and, for a
    botocore older than 1.31, makes AWS_ENDPOINT_URL the default
    endpoint_url of Session.create_client. Other imports: one comparison."""

    def find_spec(self, name, path=None, target=None):
        if name != "botocore.session":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module):
            run(module)
            patch_botocore(module)
        loader.exec_module = exec_module
        return spec


def patch_botocore(session_module):
    """Defaults Session.create_client's endpoint_url to AWS_ENDPOINT_URL
    when this botocore does not read the variable itself."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    try:
        import botocore
        version = tuple(int(x) for x in botocore.__version__.split(".")[:2])
    except (ImportError, AttributeError, ValueError):
        return
    cls = getattr(session_module, "Session", None)
    if not endpoint or version >= (1, 31) or cls is None or not hasattr(cls, "create_client"):
        return
    create = cls.create_client

    def create_client(self, service_name, *args, **kwargs):
        if len(args) < 5 and kwargs.get("endpoint_url") is None:
            kwargs["endpoint_url"] = endpoint
        return create(self, service_name, *args, **kwargs)
    create_client.__wrapped__ = create
    cls.create_client = create_client


def request(method, path, body=None, headers=None):
    """One request on the kept-alive connection. Any error ends the runtime
    (greenroom is going away): no retry, which could wait forever on a
    server that is shutting down."""
    global _conn
    if _conn is None:
        _conn = http.client.HTTPConnection(HOST, int(PORT))
    h = dict(headers or {})
    if body is not None:
        h["Content-Type"] = "application/json"
    _conn.request(method, PREFIX + path, body=body, headers=h)
    r = _conn.getresponse()
    data = r.read()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


class Context:
    """The context object AWS's python runtime passes."""

    def __init__(self, request_id, headers):
        self.aws_request_id = request_id
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = None
        cc = headers.get("lambda-runtime-client-context")
        if cc:
            try:
                self.client_context = json.loads(cc)
            except ValueError:
                self.client_context = None
        self._deadline = int(headers.get("lambda-runtime-deadline-ms", "0") or 0)

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline - int(time.time() * 1000))


def error_json(exc, request_id=None, etype=None):
    tb = traceback.extract_tb(exc.__traceback__)
    out = {
        "errorMessage": str(exc),
        "errorType": etype or type(exc).__name__,
    }
    if request_id:
        out["requestId"] = request_id
    out["stackTrace"] = traceback.format_list(tb)
    return out


def load_handler():
    spec = os.environ.get("_HANDLER", "")
    root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    modpath, dot, func = spec.rpartition(".")
    if not dot or not modpath:
        raise ValueError("Bad handler '%s': not enough values to unpack" % spec)
    if root not in sys.path:
        sys.path.insert(0, root)
    filename = os.path.join(root, modpath.replace(".", "/") + ".py")
    if "/" in modpath:
        filename = os.path.join(root, modpath + ".py")
        sys.path.insert(0, os.path.dirname(filename))
    if not os.path.exists(filename):
        mod = importlib.import_module(modpath.replace("/", "."))
    else:
        name = os.path.basename(modpath)
        s = importlib.util.spec_from_file_location(name, filename)
        mod = importlib.util.module_from_spec(s)
        sys.modules[name] = mod
        s.loader.exec_module(mod)
    fn = getattr(mod, func, None)
    if fn is None:
        raise AttributeError("Handler '%s' missing on module '%s'" % (func, modpath))
    return fn


def main():
    sys.meta_path.insert(0, BotocoreEndpoint())
    try:
        handler = load_handler()
    except Exception as exc:  # report and stop, as AWS does
        kind = "Runtime.ImportModuleError"
        if isinstance(exc, AttributeError):
            kind = "Runtime.HandlerNotFound"
        body = error_json(exc, etype=kind)
        body["errorMessage"] = "Unable to import module '%s': %s" % (
            os.environ.get("_HANDLER", ""), exc) if kind == "Runtime.ImportModuleError" else str(exc)
        sys.stderr.write("[ERROR] %s: %s\n" % (kind, body["errorMessage"]))
        request("POST", "/init/error", json.dumps(body),
                {"Lambda-Runtime-Function-Error-Type": kind})
        sys.exit(1)
    while True:
        status, headers, data = request("GET", "/invocation/next")
        if status != 200:
            sys.exit(0)
        rid = headers.get("lambda-runtime-aws-request-id", "")
        try:
            event = json.loads(data) if data else None
        except ValueError:
            event = data.decode("utf-8", "replace")
        etype = None
        try:
            result = handler(event, Context(rid, headers))
            etype = "Runtime.MarshalError"
            body = json.dumps(result)
        except Exception as exc:
            err = error_json(exc, rid, etype)
            if etype:
                err["errorMessage"] = "Unable to marshal response: %s" % exc
            body = json.dumps(err)
            sys.stderr.write("[ERROR] %s: %s\n%s" % (
                err["errorType"], exc, "".join(traceback.format_tb(exc.__traceback__))))
            request("POST", "/invocation/%s/error" % rid, body,
                    {"Lambda-Runtime-Function-Error-Type": err["errorType"],
                     "X-Greenroom-Error-Kind": "Unhandled"})
            continue
        request("POST", "/invocation/%s/response" % rid, body)


if __name__ == "__main__":
    try:
        main()
    except (http.client.HTTPException, OSError):
        sys.exit(0)
