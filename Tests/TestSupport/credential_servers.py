"""Small credential servers for AWSKit's integration tests, on 127.0.0.1 and a free port.

Usage: credential_servers.py imds|sso     (prints "PORT <n>" once listening)
  imds  IMDSv2: PUT /latest/api/token gives a token; every GET needs it (401 without), then
        serves the region and the role credentials of `keyrescue-role`.
  sso   the IAM Identity Center portal: GET /federation/credentials?role_name=&account_id= with
        x-amz-sso_bearer_token: token-1 answers role credentials (401 for any other token).
"""
import http.server
import json
import sys

MODE = sys.argv[1]
TOKEN = "imds-token-1"
IMDS_CREDS = {"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": "ASIAIMDSTEST", "SecretAccessKey": "imds-secret",
              "Token": "imds-session", "Expiration": "2099-01-01T00:00:00Z", "LastUpdated": "2026-11-25T00:00:00Z"}
SSO_CREDS = {"roleCredentials": {"accessKeyId": "ASIASSOTEST", "secretAccessKey": "sso-secret", "sessionToken": "sso-session",
                                 "expiration": 4070908800000}}


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, kind="text/plain"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        if MODE == "imds" and self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.answer(200, TOKEN)
        self.answer(400, "bad request")

    def do_GET(self):
        if MODE == "imds":
            if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
                return self.answer(401, "IMDSv2 token required")
            paths = {"/latest/meta-data/placement/region": "eu-central-1",
                     "/latest/meta-data/iam/security-credentials/": "keyrescue-role",
                     "/latest/meta-data/iam/security-credentials/keyrescue-role": IMDS_CREDS}
            return self.answer(200, paths[self.path]) if self.path in paths else self.answer(404, "not found")
        if self.path.startswith("/federation/credentials") and "role_name=Rescuer" in self.path and "account_id=123456789012" in self.path:
            if self.headers.get("x-amz-sso_bearer_token") == "token-1":
                return self.answer(200, SSO_CREDS, "application/json")
            return self.answer(401, {"message": "Session token not found or invalid"}, "application/json")
        self.answer(404, "not found")


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"PORT {server.server_address[1]}", flush=True)
server.serve_forever()
