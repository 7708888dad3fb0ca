#!/usr/bin/env python3
"""Azurite's Blob service on 127.0.0.1 for bkp's tests.

Usage: azurite.py CONTAINER [CONTAINER...]

Starts Azurite (installed by tools/install-deps --test into
tests/servers/node_modules, or where BKP_AZURITE_DIR points) on a free
loopback port with its data in a temporary directory, creates the
containers, and prints one JSON line on stdout:
{"endpoint", "account", "key", "sas", "sas_read_only"}. The SAS tokens are
account SAS tokens for the Blob service signed here, independently of bkp's
own Shared Key code. Serves until SIGTERM or until stdin reaches its end
(the test that started it is gone); then stops Azurite by its PID and
removes the directory. When Azurite is not installed it prints
{"error": ...} and exits 1, and the test fails.
"""
import base64
import datetime
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

ACCOUNT = "devstoreaccount1"
# Azurite's well-known development key (public, in Microsoft's docs).
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
VERSION = "2021-12-02"


def azurite_main():
    base = os.environ.get("BKP_AZURITE_DIR") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "node_modules", "azurite")
    return os.path.join(base, "dist", "src", "blob", "main.js")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign(string_to_sign):
    mac = hmac.new(base64.b64decode(KEY), string_to_sign.encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def create_container(endpoint, name):
    """PUT ?restype=container with a Shared Key signature of our own."""
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")
    path = urllib.parse.urlparse(endpoint).path + "/" + name
    # VERB, Content-Encoding, -Language, -Length (empty for 0), -MD5,
    # Content-Type, Date, If-Modified-Since, If-Match, If-None-Match,
    # If-Unmodified-Since, Range.
    to_sign = "\n".join(["PUT", "", "", "", "", "application/octet-stream"] + [""] * 6) + "\n"
    to_sign += f"x-ms-date:{date}\nx-ms-version:{VERSION}\n"
    to_sign += f"/{ACCOUNT}{path}\nrestype:container"
    req = urllib.request.Request(f"{endpoint}/{name}?restype=container", method="PUT", data=b"",
                                 headers={"Content-Type": "application/octet-stream", "x-ms-date": date, "x-ms-version": VERSION,
                                          "Authorization": f"SharedKey {ACCOUNT}:{sign(to_sign)}"})
    try:
        urllib.request.urlopen(req).read()
    except urllib.error.HTTPError as e:
        if e.code != 409:  # ContainerAlreadyExists
            raise


def account_sas(permissions):
    """An account SAS (sv=2019-12-12) for the Blob service, valid a day."""
    start = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5))
    expiry = start + datetime.timedelta(days=1)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    fields = {"sv": "2019-12-12", "ss": "b", "srt": "sco", "sp": permissions,
              "st": start.strftime(fmt), "se": expiry.strftime(fmt), "spr": "https,http"}
    to_sign = "\n".join([ACCOUNT, fields["sp"], fields["ss"], fields["srt"], fields["st"],
                         fields["se"], "", fields["spr"], fields["sv"], ""])
    fields["sig"] = sign(to_sign)
    return urllib.parse.urlencode(fields, quote_via=urllib.parse.quote, safe="")


def main():
    main_js = azurite_main()
    if not os.path.exists(main_js):
        print(json.dumps({"error": f"Azurite is not installed ({main_js} is missing): "
                                   "run tools/install-deps --test"}), flush=True)
        sys.exit(1)
    location = tempfile.mkdtemp(prefix="bkp-azurite-")
    port = free_port()
    child = subprocess.Popen(
        ["node", main_js, "--blobHost", "127.0.0.1", "--blobPort", str(port),
         "--location", location, "--skipApiVersionCheck", "--disableTelemetry", "--silent"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(*_):
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        shutil.rmtree(location, ignore_errors=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    threading.Thread(target=lambda: (sys.stdin.buffer.read(), stop()), daemon=True).start()

    endpoint = f"http://127.0.0.1:{port}/{ACCOUNT}"
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if child.poll() is not None or time.monotonic() > deadline:
                print(json.dumps({"error": "Azurite did not start"}), flush=True)
                stop()
            time.sleep(0.1)
    try:
        for name in sys.argv[1:]:
            create_container(endpoint, name)
    except Exception as e:  # noqa: BLE001 - any failure ends the server
        print(json.dumps({"error": f"creating the containers: {e}"}), flush=True)
        stop()
    print(json.dumps({"endpoint": endpoint, "account": ACCOUNT, "key": KEY,
                      "sas": account_sas("rwdlacup"), "sas_read_only": account_sas("rl")}),
          flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
