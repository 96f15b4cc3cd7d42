"""runtime.py - greenroom's Lambda runtime client for python* functions.

Speaks the Lambda Runtime API (AWS_LAMBDA_RUNTIME_API, served by greenroom
under /_greenroom/runtime/<sandbox>/): GET invocation/next, call the handler
named by _HANDLER ("dir/module.function", relative to LAMBDA_TASK_ROOT),
POST invocation/<id>/response or /error (errors are "Unhandled", with the
error JSON AWS's python runtime produces: errorMessage, errorType,
requestId, stackTrace). Import failures go to /init/error.
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
