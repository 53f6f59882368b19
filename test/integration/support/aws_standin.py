#!/usr/bin/env python3
# A stand-in for the AWS endpoints a node calls (test only): the EC2 instance metadata service
# (IMDSv2 token, the role's credentials, the region), Secrets Manager's GetSecretValue and S3's
# GetObject, on 127.0.0.1. Every signed request is checked by recomputing its SigV4 signature
# with botocore's own signer (botocore.auth.SigV4Auth / S3SigV4Auth, the AWS SDK for Python's
# implementation) from the known secret key and session token; a mismatch gets AWS's 403.
#
# Usage: aws_standin.py CONFIG.json LOG.jsonl  (prints "PORT <n>" once listening)
# CONFIG (re-read on every request, so a test can change it): accessKeyId, secretAccessKey,
# sessionToken, imdsToken, role, region, secrets {SecretId: SecretString}, objects {"/<key>":
# base64}, fail {category: n} (the first n requests of imds | credentials | secretsmanager | s3
# after `fail` last changed get failStatus, default 503), delayMs {category: ms}.
import base64
import datetime
import hashlib
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

CONFIG_PATH, LOG_PATH = sys.argv[1], sys.argv[2]
counts = {}
lock = threading.Lock()
AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
    r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$"
)


def config():
    with open(CONFIG_PATH) as f:
        return json.load(f)


def check_sigv4(cfg, method, path, headers, body, service):
    """None when the request is signed right for `service`, else why not."""
    auth = headers.get("authorization", "")
    m = AUTH_RE.match(auth)
    if not m:
        return f"malformed Authorization: {auth[:80]!r}"
    akid, day, region, svc, signed, signature = m.groups()
    if akid != cfg["accessKeyId"]:
        return f"unknown access key {akid}"
    if region != cfg["region"] or svc != service:
        return f"scope {region}/{svc}, expected {cfg['region']}/{service}"
    names = signed.split(";")
    required = ["host", "x-amz-date", "x-amz-security-token"]
    if service == "s3":
        required.append("x-amz-content-sha256")
    if service == "secretsmanager":
        required.append("x-amz-target")
    missing = [h for h in required if h not in names]
    if missing:
        return f"not signed: {', '.join(missing)}"
    if headers.get("x-amz-security-token") != cfg["sessionToken"]:
        return "wrong session token"
    stamp = headers.get("x-amz-date", "")
    try:
        when = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return f"bad x-amz-date {stamp!r}"
    if stamp[:8] != day or abs(time.time() - when.timestamp()) > 300:
        return f"x-amz-date {stamp} outside the 5-minute window or scope day {day}"
    if service == "s3" and headers.get("x-amz-content-sha256") != hashlib.sha256(body).hexdigest():
        return "x-amz-content-sha256 is not the payload's sha256"
    # Re-sign what the client says it signed, with the known credentials, at its timestamp.
    req = AWSRequest(
        method=method,
        url=f"http://{headers['host']}{path}",
        headers={h: headers[h] for h in names if h in headers},
        data=body,
    )
    signer_cls = botocore.auth.S3SigV4Auth if service == "s3" else botocore.auth.SigV4Auth
    signer = signer_cls(
        Credentials(cfg["accessKeyId"], cfg["secretAccessKey"], cfg["sessionToken"]), service, region
    )
    original = botocore.auth.get_current_datetime
    botocore.auth.get_current_datetime = lambda: when.replace(tzinfo=None)
    try:
        signer.add_auth(req)
    finally:
        botocore.auth.get_current_datetime = original
    expected = AUTH_RE.match(req.headers["Authorization"])
    if expected.group(5) != signed:
        return f"SignedHeaders {signed}, botocore signs {expected.group(5)}"
    if expected.group(6) != signature:
        return "signature does not match"
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", ctype="text/plain"):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return status

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        cfg = config()
        path = self.path
        rec = {"method": self.command, "path": path, "headers": headers, "body": body.decode("utf-8", "replace")}
        if path.startswith("/latest/"):
            category = "credentials" if "/iam/security-credentials/" in path else "imds"
        elif self.command == "POST":
            category = "secretsmanager"
        else:
            category = "s3"
        rec["category"] = category
        with lock:
            # A changed `fail` starts counting again.
            fail = json.dumps(cfg.get("fail", {}), sort_keys=True)
            if counts.get("_fail") != fail:
                counts.clear()
                counts["_fail"] = fail
            counts[category] = counts.get(category, 0) + 1
            n = counts[category]
        time.sleep(cfg.get("delayMs", {}).get(category, 0) / 1000)
        if n <= cfg.get("fail", {}).get(category, 0):
            rec["status"] = self.reply(cfg.get("failStatus", 503), "stand-in: not yet")
        else:
            rec.update(self.route(cfg, category, path, headers, body))
        with open(LOG_PATH, "a") as f:
            f.write(json.dumps(rec) + "\n")

    def route(self, cfg, category, path, headers, body):
        if category in ("imds", "credentials"):
            if self.command == "PUT" and path == "/latest/api/token":
                if not headers.get("x-aws-ec2-metadata-token-ttl-seconds", "").isdigit():
                    return {"status": self.reply(400)}
                return {"status": self.reply(200, cfg["imdsToken"])}
            if headers.get("x-aws-ec2-metadata-token") != cfg["imdsToken"]:
                return {"status": self.reply(401)}
            role_path = "/latest/meta-data/iam/security-credentials/"
            if path == role_path:
                return {"status": self.reply(200, cfg["role"])}
            if path == role_path + cfg["role"]:
                expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=6)
                doc = {
                    "Code": "Success",
                    "LastUpdated": "2026-01-01T00:00:00Z",
                    "Type": "AWS-HMAC",
                    "AccessKeyId": cfg["accessKeyId"],
                    "SecretAccessKey": cfg["secretAccessKey"],
                    "Token": cfg["sessionToken"],
                    "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
                return {"status": self.reply(200, json.dumps(doc, indent=2))}
            if path == "/latest/meta-data/placement/region":
                return {"status": self.reply(200, cfg["region"])}
            return {"status": self.reply(404)}
        service = category
        why = check_sigv4(cfg, self.command, path, headers, body, service)
        if why:
            return {
                "status": self.reply(403, json.dumps({"__type": "SignatureDoesNotMatch", "message": why})),
                "sigError": why,
            }
        if service == "secretsmanager":
            if headers.get("x-amz-target") != "secretsmanager.GetSecretValue" or headers.get(
                "content-type"
            ) != "application/x-amz-json-1.1":
                return {"status": self.reply(400, '{"__type":"UnknownOperationException"}'), "sigOk": True}
            secret_id = json.loads(body)["SecretId"]
            if secret_id not in cfg["secrets"]:
                return {
                    "status": self.reply(400, '{"__type":"ResourceNotFoundException","message":"no such secret"}'),
                    "sigOk": True,
                }
            doc = {
                "ARN": secret_id,
                "Name": "stand-in",
                "SecretString": cfg["secrets"][secret_id],
                "VersionId": "00000000-0000-0000-0000-000000000001",
                "VersionStages": ["AWSCURRENT"],
                "CreatedDate": 1.7e9,
            }
            return {"status": self.reply(200, json.dumps(doc), "application/x-amz-json-1.1"), "sigOk": True}
        obj = cfg["objects"].get(path)
        if obj is None:
            return {"status": self.reply(404, "<Error><Code>NoSuchKey</Code></Error>"), "sigOk": True}
        return {"status": self.reply(200, base64.b64decode(obj), "binary/octet-stream"), "sigOk": True}

    do_GET = do_PUT = do_POST = handle_any


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"PORT {server.server_address[1]}", flush=True)
server.serve_forever()
