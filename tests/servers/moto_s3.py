#!/usr/bin/env python3
"""moto's S3 on 127.0.0.1 with SigV4 checking turned on, for bkp's tests.

Usage: moto_s3.py BUCKET [BUCKET...]

A bucket named NAME:lock is created with Object Lock enabled (and so
versioning).

Starts moto's server on a free loopback port, creates an IAM user allowed
s3:*, an access key for it and the buckets, then turns signature checking
on (POST /moto-api/reset-auth, body 0). Prints one JSON line on stdout:
{"endpoint": ..., "access_key": ..., "secret_key": ...} and serves until
killed (SIGTERM).

One fix: moto 5.2.1 recomputes the signature over the path and query as
werkzeug re-quoted them, not over what the client sent and signed, so a
correctly signed request with reserved characters in its query (prefix=a/b)
or key fails. Here the signature check sees the raw request target, with
the query put in canonical form (sorted, RFC 3986 encoded), which is what
AWS does.

For tests and benchmarks that count requests: every request is logged as
[METHOD, PATH] (path-style, so PATH starts with /BUCKET/); GET
/_bkp/requests answers the log as a JSON list, DELETE /_bkp/requests
answers it and empties it. (Not signed, not S3: a test hook on loopback.)
"""
import json
import os
import sys
import threading
from urllib.parse import quote, unquote

import boto3
import requests
from werkzeug.serving import make_server

import moto.iam.access_control as access_control
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

_local = threading.local()
_original_init = access_control.IAMRequestBase.__init__


def _canonical_target(raw):
    path, _, query = raw.partition("?")
    if not query:
        return path
    pairs = []
    for item in query.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        pairs.append((quote(unquote(name), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return path + "?" + "&".join(f"{n}={v}" for n, v in sorted(pairs))


def _patched_init(self, account_id, method, path, *args, **kwargs):
    raw = getattr(_local, "raw_target", None)
    if raw:
        path = _canonical_target(raw)
    _original_init(self, account_id, method, path, *args, **kwargs)


access_control.IAMRequestBase.__init__ = _patched_init


_requests = []
_requests_lock = threading.Lock()


class RawTarget:
    """WSGI middleware: remembers the request target exactly as sent, and
    logs every request for /_bkp/requests."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "")
        path = environ.get("PATH_INFO", "")
        if path == "/_bkp/requests":
            with _requests_lock:
                body = json.dumps(_requests).encode()
                if method == "DELETE":
                    _requests.clear()
            start_response("200 OK", [("Content-Type", "application/json"),
                                      ("Content-Length", str(len(body)))])
            return [body]
        with _requests_lock:
            _requests.append([method, path])
        _local.raw_target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        return self.app(environ, start_response)


def exit_with_parent():
    """Ends this server when the test that started it goes away without
    stopping it (a crash skips its destructor): the test holds our stdin
    open and never writes, so end of file means it is gone."""

    def watch():
        sys.stdin.buffer.read()
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def main():
    exit_with_parent()
    buckets = sys.argv[1:]
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", 0, RawTarget(app), threaded=True)
    endpoint = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()

    setup = dict(endpoint_url=endpoint, region_name="us-east-1",
                 aws_access_key_id="setup", aws_secret_access_key="setup")
    iam = boto3.client("iam", **setup)
    iam.create_user(UserName="bkp")
    policy = {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    arn = iam.create_policy(PolicyName="bkp-s3", PolicyDocument=json.dumps(policy))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="bkp", PolicyArn=arn)
    key = iam.create_access_key(UserName="bkp")["AccessKey"]
    s3 = boto3.client("s3", **setup)
    for bucket in buckets:
        name, _, option = bucket.partition(":")
        s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=(option == "lock"))
    r = requests.post(endpoint + "/moto-api/reset-auth", data=b"0",
                      headers={"Content-Type": "text/plain"})
    r.raise_for_status()
    print(json.dumps({"endpoint": endpoint, "access_key": key["AccessKeyId"],
                      "secret_key": key["SecretAccessKey"]}), flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
