"""Who called what: parses a WSGI request into (service, action, access key, region).

The access key id comes from the SigV4 Authorization header's Credential scope or a
presigned URL's X-Amz-Credential; the service from the same scope, else from the
request's shape (Query `Version`, JSON `X-Amz-Target`), else S3 (path-style REST).
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")
_QUERY_VERSIONS = {"2016-11-15": "ec2", "2011-06-15": "sts", "2010-05-08": "iam", "2014-11-06": "ssm"}
_TARGET_PREFIXES = {"AmazonSSM": "ssm", "TrentService": "kms", "AWSEC2InstanceConnectService": "ec2-instance-connect"}
_XML_CODE = re.compile(rb"<Code>([^<]+)</Code>")
_JSON_TYPE = re.compile(rb'"__type"\s*:\s*"(?:[^"#]*#)?([^"]+)"')


@dataclass
class Call:
    service: str
    action: str
    access_key: str | None
    region: str
    params: dict[str, str] = field(default_factory=dict)


def parse_credential(environ: dict) -> tuple[str | None, str | None, str | None]:
    """(access key id, region, service) from Authorization or X-Amz-Credential."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = _CREDENTIAL.search(auth)
    if match:
        return match.group(1), match.group(3), match.group(4)
    query = parse_qs(environ.get("QUERY_STRING", ""))
    cred = query.get("X-Amz-Credential", [""])[0].split("/")
    if len(cred) >= 5:
        return cred[0], cred[2], cred[3]
    legacy = query.get("AWSAccessKeyId", [None])[0]   # SigV2 presigned S3 URLs
    return legacy, None, "s3" if legacy else None


def parse_call(environ: dict, body: bytes) -> Call:
    access_key, region, service = parse_credential(environ)
    params: dict[str, str] = {}
    ctype = environ.get("CONTENT_TYPE", "")
    if ctype.startswith("application/x-www-form-urlencoded") or (
            environ.get("REQUEST_METHOD") == "GET" and "Action=" in environ.get("QUERY_STRING", "")):
        raw = body.decode("utf-8", "replace") if body else environ.get("QUERY_STRING", "")
        params = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if params.get("Action"):
        action = params["Action"]
        service = service or _QUERY_VERSIONS.get(params.get("Version", ""), "ec2")
    elif target:
        prefix, _, action = target.partition(".")
        service = service or _TARGET_PREFIXES.get(prefix, prefix.lower())
    else:
        service = service or "s3"
        action = s3_action(environ) if service == "s3" else environ.get("REQUEST_METHOD", "?")
    return Call(service=service, action=action, access_key=access_key,
                region=region or "us-east-1", params=params)


_S3_SUBRESOURCES = {
    "lifecycle": "BucketLifecycleConfiguration", "publicAccessBlock": "PublicAccessBlock",
    "policy": "BucketPolicy", "encryption": "BucketEncryption", "tagging": "BucketTagging",
    "versioning": "BucketVersioning", "location": "BucketLocation", "acl": "BucketAcl",
}


def s3_action(environ: dict) -> str:
    """The S3 operation name a path-style REST request stands for."""
    method = environ.get("REQUEST_METHOD", "GET")
    parts = [p for p in environ.get("PATH_INFO", "/").split("/") if p]
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if not parts:
        return "ListBuckets"
    if len(parts) == 1:
        for key, name in _S3_SUBRESOURCES.items():
            if key in query:
                verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(method, method)
                return verb + name
        if "delete" in query:
            return "DeleteObjects"
        return {"PUT": "CreateBucket", "HEAD": "HeadBucket", "DELETE": "DeleteBucket",
                "GET": "ListObjectsV2" if query.get("list-type") == ["2"] else "ListObjects"}.get(method, method)
    return {"PUT": "PutObject", "GET": "GetObject", "HEAD": "HeadObject",
            "DELETE": "DeleteObject", "POST": "PostObject"}.get(method, method)


def error_code(body: bytes) -> str | None:
    """The error code of an error answer: <Code> in XML (EC2, S3, STS), __type in JSON (SSM, KMS)."""
    match = _XML_CODE.search(body) or _JSON_TYPE.search(body)
    return match.group(1).decode("utf-8", "replace") if match else None


class CallLog:
    """Every action called, in order (GET /_localcloud/calls)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict] = []

    def record(self, call: Call) -> dict:
        with self._lock:
            entry = {"seq": len(self._entries) + 1, "time": time.time(), "service": call.service,
                     "action": call.action, "access_key_id": call.access_key,
                     "region": call.region, "status": None, "error_code": None,
                     "client_token": call.params.get("ClientToken"),
                     "dry_run": call.params.get("DryRun", "").lower() == "true"}
            self._entries.append(entry)
            return entry

    @staticmethod
    def answered(entry: dict, body) -> list[bytes] | object:
        """The answer passed through; an error answer's code noted in `entry` on the way."""
        status = entry.get("status")
        if not isinstance(status, int) or status < 400:
            return body
        data = b"".join(body)
        entry["error_code"] = error_code(data)
        return [data]

    def entries(self) -> list[dict]:
        with self._lock:
            return [dict(e) for e in self._entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
