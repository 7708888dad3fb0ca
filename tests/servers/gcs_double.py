#!/usr/bin/env python3
"""A small local double of Google's OAuth2 token endpoint and the Cloud
Storage JSON API, for bkp's tests (there is no GCS emulator that runs here).

Usage: gcs_double.py --public-key PEM --client-email EMAIL --bucket B
                     [--token-lifetime SECONDS]

Serves on a free 127.0.0.1 port and prints one JSON line on stdout:
{"endpoint": "http://127.0.0.1:P", "token_uri": "http://127.0.0.1:P/token"}
then serves until killed (SIGTERM) or until its stdin closes.

Token endpoint (POST /token): takes the RFC 7523 JWT bearer grant and
checks it the way Google does: RS256 signature against the public half of
the test's key, iss, aud (= this token_uri), scope, iat and exp. A bad
signature or claim gets 400 invalid_grant. Issued tokens expire after
--token-lifetime seconds (default 3600); the object API answers 401 to a
missing, unknown, expired or revoked token.

Object API (the subset bkp uses): media upload and resumable upload
(uploadType=media|resumable, ifGenerationMatch=0), object metadata, media
download with Range (206, 416), list with prefix/maxResults/pageToken,
delete. Objects live in memory.

Test controls (no auth): GET /_stats (token requests, rejected tokens,
storage class per object), POST /_revoke (every issued token becomes
invalid), POST /_fail?count=N&status=S (the next N object requests fail
with S).
"""
import argparse
import base64
import json
import secrets
import sys
import threading
import time
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

SCOPES = {"https://www.googleapis.com/auth/devstorage.read_write",
          "https://www.googleapis.com/auth/devstorage.full_control",
          "https://www.googleapis.com/auth/cloud-platform"}


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class State:
    def __init__(self, args):
        with open(args.public_key, "rb") as f:
            self.public_key = serialization.load_pem_public_key(f.read())
        self.client_email = args.client_email
        self.bucket = args.bucket
        self.lifetime = args.token_lifetime
        self.lock = threading.Lock()
        self.tokens = {}  # token -> expiry (time.time())
        self.objects = {}  # name -> {"data", "class", "generation"}
        self.sessions = {}  # upload id -> {"name", "create_only", "class", "length"}
        self.generation = 0
        self.token_requests = 0
        self.rejected_tokens = 0
        self.fail_count = 0
        self.fail_status = 503
        self.token_uri = None


def error_body(status, reason, message):
    return {"error": {"code": status, "message": message,
                      "errors": [{"reason": reason, "message": message}]}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None

    def log_message(self, *args):
        pass

    # --- replies ---------------------------------------------------------
    def reply(self, status, body=b"", content_type="application/json", headers=()):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def fail(self, status, reason, message):
        self.reply(status, error_body(status, reason, message))

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # --- dispatch --------------------------------------------------------
    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")

    def do_DELETE(self):
        self.route("DELETE")

    def route(self, method):
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        path = url.path
        body = self.body()
        st = self.state
        if path == "/token" and method == "POST":
            return self.token(body)
        if path == "/_stats":
            with st.lock:
                return self.reply(200, {
                    "token_requests": st.token_requests,
                    "rejected_tokens": st.rejected_tokens,
                    "classes": {n: o["class"] for n, o in st.objects.items()}})
        if path == "/_revoke" and method == "POST":
            with st.lock:
                st.tokens.clear()
            return self.reply(200, {})
        if path == "/_fail" and method == "POST":
            with st.lock:
                st.fail_count = int(query.get("count", "1"))
                st.fail_status = int(query.get("status", "503"))
            return self.reply(200, {})
        if not self.authorized():
            return self.fail(401, "authError", "Invalid Credentials")
        with st.lock:
            if st.fail_count > 0:
                st.fail_count -= 1
                return self.fail(st.fail_status, "backendError", "injected failure")
        upload = "/upload/storage/v1/b/"
        meta = "/storage/v1/b/"
        if path.startswith(upload):
            bucket, _, rest = path[len(upload):].partition("/")
            if not self.bucket_ok(bucket) or rest != "o":
                return
            if method == "POST":
                return self.start_upload(query, body)
            if method == "PUT" and query.get("uploadType") == "resumable":
                return self.finish_resumable(query, body)
        elif path.startswith(meta):
            bucket, _, rest = path[len(meta):].partition("/")
            if not self.bucket_ok(bucket):
                return
            if rest == "" and method == "GET":
                # Bucket metadata (bkp init checks that the bucket exists).
                return self.reply(200, json.dumps({"name": self.state.bucket}).encode())
            if rest == "o" and method == "GET":
                return self.list(query)
            if rest.startswith("o/"):
                name = unquote(rest[2:])
                if method == "GET" and query.get("alt") == "media":
                    return self.download(name)
                if method == "GET":
                    return self.metadata(name)
                if method == "DELETE":
                    return self.delete(name)
        self.fail(400, "invalid", f"unsupported request {method} {path}")

    def bucket_ok(self, bucket):
        if unquote(bucket) != self.state.bucket:
            self.fail(404, "notFound", "The specified bucket does not exist.")
            return False
        return True

    # --- OAuth2 ----------------------------------------------------------
    def authorized(self):
        st = self.state
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return False
        with st.lock:
            expiry = st.tokens.get(auth[7:])
            if expiry is None or expiry <= time.time():
                st.rejected_tokens += 1
                return False
        return True

    def token(self, body):
        st = self.state
        with st.lock:
            st.token_requests += 1
        form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}

        def refuse(why):
            self.reply(400, {"error": "invalid_grant", "error_description": why})

        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return self.reply(400, {"error": "unsupported_grant_type",
                                    "error_description": "Invalid grant_type."})
        parts = form.get("assertion", "").split(".")
        if len(parts) != 3:
            return refuse("Invalid JWT: Token must be a short-lived token and in a reasonable timeframe")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            signature = b64url_decode(parts[2])
        except ValueError:
            return refuse("Invalid JWT.")
        if header.get("alg") != "RS256":
            return refuse("Invalid JWT: alg must be RS256")
        try:
            st.public_key.verify(signature, (parts[0] + "." + parts[1]).encode(),
                                 padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return refuse("Invalid JWT Signature.")
        now = time.time()
        if claims.get("iss") != st.client_email:
            return refuse("Invalid JWT: unknown issuer")
        if claims.get("aud") != st.token_uri:
            return refuse("Invalid JWT: audience is not the token endpoint")
        if not set(str(claims.get("scope", "")).split()) & SCOPES:
            return self.reply(400, {"error": "invalid_scope", "error_description": "no storage scope"})
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int) or iat > now + 60 \
                or exp <= now or exp - iat > 3600:
            return refuse("Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                          "reasonable timeframe. Check your iat and exp values")
        token = "ya29." + secrets.token_urlsafe(24)
        with st.lock:
            st.tokens[token] = now + st.lifetime
        self.reply(200, {"access_token": token, "expires_in": st.lifetime,
                         "token_type": "Bearer"})

    # --- objects ---------------------------------------------------------
    def object_json(self, name, obj):
        return {"kind": "storage#object", "bucket": self.state.bucket, "name": name,
                "size": str(len(obj["data"])), "generation": str(obj["generation"]),
                "storageClass": obj["class"]}

    def store(self, name, data, create_only, storage_class):
        st = self.state
        with st.lock:
            if create_only and name in st.objects:
                return None
            st.generation += 1
            obj = {"data": data, "class": storage_class or "STANDARD",
                   "generation": st.generation}
            st.objects[name] = obj
            return obj

    def start_upload(self, query, body):
        name = query.get("name", "")
        if not name:
            return self.fail(400, "required", "Required parameter: name")
        create_only = query.get("ifGenerationMatch") == "0"
        kind = query.get("uploadType")
        if kind == "media":
            obj = self.store(name, body, create_only, None)
            if obj is None:
                return self.fail(412, "conditionNotMet",
                                 "At least one of the pre-conditions you specified did not hold.")
            return self.reply(200, self.object_json(name, obj))
        if kind == "resumable":
            meta = json.loads(body or b"{}")
            if meta.get("name", name) != name:
                return self.fail(400, "invalid", "name in metadata differs")
            if create_only and name in self.state.objects:
                return self.fail(412, "conditionNotMet",
                                 "At least one of the pre-conditions you specified did not hold.")
            upload_id = secrets.token_urlsafe(12)
            length = self.headers.get("X-Upload-Content-Length")
            with self.state.lock:
                self.state.sessions[upload_id] = {
                    "name": name, "create_only": create_only,
                    "class": meta.get("storageClass"),
                    "length": int(length) if length is not None else None}
            host = self.headers.get("Host")
            location = (f"http://{host}/upload/storage/v1/b/{self.state.bucket}/o"
                        f"?uploadType=resumable&upload_id={upload_id}")
            return self.reply(200, b"", headers=[("Location", location)])
        return self.fail(400, "invalid", "unsupported uploadType")

    def finish_resumable(self, query, body):
        with self.state.lock:
            session = self.state.sessions.pop(query.get("upload_id"), None)
        if session is None:
            return self.fail(404, "notFound", "No such upload session")
        if session["length"] is not None and session["length"] != len(body):
            return self.fail(400, "invalid", "upload length differs from X-Upload-Content-Length")
        obj = self.store(session["name"], body, session["create_only"], session["class"])
        if obj is None:
            return self.fail(412, "conditionNotMet",
                             "At least one of the pre-conditions you specified did not hold.")
        self.reply(200, self.object_json(session["name"], obj))

    def get_object(self, name):
        with self.state.lock:
            obj = self.state.objects.get(name)
        if obj is None:
            self.fail(404, "notFound", f"No such object: {self.state.bucket}/{name}")
        return obj

    def metadata(self, name):
        obj = self.get_object(name)
        if obj is not None:
            self.reply(200, self.object_json(name, obj))

    def download(self, name):
        obj = self.get_object(name)
        if obj is None:
            return
        data = obj["data"]
        rng = self.headers.get("Range")
        if not rng:
            return self.reply(200, data, "application/octet-stream")
        spec = rng.removeprefix("bytes=")
        first, _, last = spec.partition("-")
        size = len(data)
        if first == "":
            start, end = max(0, size - int(last)), size - 1
        else:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
        if start >= size or start > end:
            return self.reply(416, error_body(416, "requestedRangeNotSatisfiable",
                                              "The requested range cannot be satisfied."),
                              headers=[("Content-Range", f"bytes */{size}")])
        self.reply(206, data[start:end + 1], "application/octet-stream",
                   headers=[("Content-Range", f"bytes {start}-{end}/{size}")])

    def list(self, query):
        prefix = query.get("prefix", "")
        page = int(query.get("maxResults") or 1000)
        after = b64url_decode(query["pageToken"]).decode() if query.get("pageToken") else None
        with self.state.lock:
            names = sorted(n for n in self.state.objects if n.startswith(prefix)
                           and (after is None or n > after))
            items = [self.object_json(n, self.state.objects[n]) for n in names[:page]]
        out = {"kind": "storage#objects"}
        if items:
            out["items"] = items
        if len(names) > page:
            out["nextPageToken"] = base64.urlsafe_b64encode(
                items[-1]["name"].encode()).decode().rstrip("=")
        self.reply(200, out)

    def delete(self, name):
        with self.state.lock:
            obj = self.state.objects.pop(name, None)
        if obj is None:
            return self.fail(404, "notFound", f"No such object: {self.state.bucket}/{name}")
        self.reply(204, b"")


def exit_with_parent():
    """Ends this server when the test that started it goes away without
    stopping it: the test holds our stdin open and never writes."""

    def watch():
        sys.stdin.buffer.read()
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--public-key", required=True)
    parser.add_argument("--client-email", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--token-lifetime", type=int, default=3600)
    args = parser.parse_args()
    exit_with_parent()
    state = State(args)
    Handler.state = state
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    endpoint = f"http://127.0.0.1:{server.server_port}"
    state.token_uri = endpoint + "/token"
    print(json.dumps({"endpoint": endpoint, "token_uri": state.token_uri}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
