#!/usr/bin/env python3
"""A tiny in-memory S3 double with scripted faults, for bkp's retry tests.

Prints {"endpoint": "http://127.0.0.1:PORT"} and serves path-style
PUT/GET/HEAD/DELETE on /BUCKET/KEY (no signature check: moto does that).
The key's last segment picks a fault:
  fail500-N-*   the first N requests to this path get 500 InternalError
  throttle-*    the first request gets 429 SlowDown with Retry-After: 0
  always500-*   every request gets 503 ServiceUnavailable
  forbidden-*   every request gets 403 AccessDenied
  truncate-*    GET declares the full length, sends half, and hangs up
  short-*       GET of a Range answers 206 with one byte less than asked
  lostreply-*   the first PUT stores the object but answers 500
PUT honours If-None-Match: * (412 when the object exists).
Multipart requests (?uploads, ?partNumber&uploadId, ?uploadId) are answered
without storing anything; badpart-* rejects part 2 with 400, badcomplete-*
answers completion with 200 and an <Error> body. DELETE ?uploadId (abort)
is counted: GET /BUCKET/KEY?aborts= answers how many.
GET /BUCKET/KEY?count= answers how many requests that path has seen.
"""
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

objects = {}
counts = {}
aborts = {}
lock = threading.Lock()


def error_xml(code, message):
    return (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
            f'<Message>{message}</Message></Error>').encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=None, length=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        path, _, query = self.path.partition("?")
        body = b""
        if "Content-Length" in self.headers:
            body = self.rfile.read(int(self.headers["Content-Length"]))
        if query == "count=":
            with lock:
                n = counts.get(path, 0)
            return self.reply(200, str(n).encode())
        if query == "aborts=":
            with lock:
                n = aborts.get(path, 0)
            return self.reply(200, str(n).encode())
        with lock:
            counts[path] = n = counts.get(path, 0) + 1
        if "uploads=" in query or "uploadId=" in query:
            return self.multipart(path, query)
        name = path.rsplit("/", 1)[-1]
        if name.startswith("fail500-") and n <= int(name.split("-")[1]):
            return self.reply(500, error_xml("InternalError", "try again"))
        if name.startswith("throttle-") and n == 1:
            return self.reply(429, error_xml("SlowDown", "slow down"), {"Retry-After": "0"})
        if name.startswith("always500-"):
            return self.reply(503, error_xml("ServiceUnavailable", "down for a while"))
        if name.startswith("forbidden-"):
            return self.reply(403, error_xml("AccessDenied", "Access Denied"))
        if self.command == "PUT":
            with lock:
                if self.headers.get("If-None-Match") == "*" and path in objects:
                    return self.reply(412, error_xml("PreconditionFailed", "exists"))
                objects[path] = body
            if name.startswith("lostreply-") and n == 1:
                return self.reply(500, error_xml("InternalError", "stored, reply lost"))
            return self.reply(200, b"", {"ETag": '"x"'})
        if self.command == "DELETE":
            with lock:
                objects.pop(path, None)
            return self.reply(204)
        with lock:
            data = objects.get(path)
        if data is None:
            return self.reply(404, error_xml("NoSuchKey", "The specified key does not exist."))
        if name.startswith("truncate-") and self.command == "GET":
            self.reply(200, data[: len(data) // 2], length=len(data))
            self.close_connection = True
            return None
        rng = self.headers.get("Range")
        if rng and self.command == "GET":
            first, last = (int(x) for x in rng[len("bytes="):].split("-"))
            part = data[first:last + 1]
            if name.startswith("short-"):
                part = part[:-1]
            return self.reply(206, part)
        return self.reply(200, data, length=len(data))

    def multipart(self, path, query):
        name = path.rsplit("/", 1)[-1]
        if self.command == "POST" and "uploads=" in query:
            return self.reply(200, b"<InitiateMultipartUploadResult><UploadId>up-1</UploadId>"
                                   b"</InitiateMultipartUploadResult>")
        if self.command == "PUT":
            if name.startswith("badpart-") and "partNumber=2&" in query:
                return self.reply(400, error_xml("InvalidArgument", "part rejected"))
            return self.reply(200, b"", {"ETag": '"etag"'})
        if self.command == "DELETE":
            with lock:
                aborts[path] = aborts.get(path, 0) + 1
            return self.reply(204)
        if self.command == "POST" and name.startswith("badcomplete-"):
            return self.reply(200, error_xml("InternalError", "completion failed late"))
        return self.reply(200, b"<CompleteMultipartUploadResult/>")

    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = handle_any


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
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(json.dumps({"endpoint": f"http://127.0.0.1:{server.server_port}"}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
