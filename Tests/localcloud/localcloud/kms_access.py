"""Who may use which KMS key, read from moto's IAM, STS and KMS state (kms_policy.py decides).

Also answers KMS CreateGrant itself when its key policy refuses the caller, and CreateGrant
with DryRun (moto ignores the parameter and would create the grant): KMS developer guide,
"Testing your permissions": a DryRun call "will always fail", with DryRunOperationException
when it would have succeeded and AccessDeniedException when the caller lacks permission.
"""
from __future__ import annotations

import io
import json

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.iam.models import get_account_id_from, iam_backends
from moto.kms.models import kms_backends

from .calls import Call
from .kms_policy import Caller, Request, decide

# The identity EC2 Auto Scaling launches with (its service-linked role), for ASG launches.
AUTOSCALING_ROLE = "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"


def caller_of(access_key: str | None) -> Caller:
    """The account and ARNs of the identity behind an access key (moto's IAM users and roles)."""
    account = get_account_id_from(access_key) if access_key else DEFAULT_ACCOUNT_ID
    arns: set[str] = set()
    key = iam_backends[account]["aws"].access_keys.get(access_key or "")
    if key is not None:
        if getattr(key, "role_arn", None):
            arns.add(key.role_arn)
        elif getattr(key, "user_name", None):
            arns.add(f"arn:aws:iam::{account}:user/{key.user_name}")
    return Caller(account, frozenset(arns))


def service_caller(account: str, role: str) -> Caller:
    return Caller(account, frozenset({f"arn:aws:iam::{account}:{role}"}))


def customer_key(region: str, key_id: str | None, account: str = DEFAULT_ACCOUNT_ID):
    """moto's Key for a customer-managed key id/ARN/alias; None for AWS managed keys (aliases
    alias/aws/*, which EC2 may always use) and for no key at all."""
    if not key_id:
        return None
    backend = kms_backends[account][region]
    try:
        key = backend.describe_key(key_id)
    except Exception:
        return _MISSING
    if any(alias.startswith("alias/aws/") for alias in getattr(key, "aliases", {}) or {}):
        return None
    return key


class _MissingKey:
    """A key id that names no key: nobody may use it."""
    arn = "arn:aws:kms:::key/missing"
    policy = ""
    key_state = "NotFound"


_MISSING = _MissingKey()



def grant_decision(key, caller: Caller, region: str, for_aws_resource: bool) -> str:
    """kms_policy.decide for kms:CreateGrant by `caller`, directly or through EC2."""
    context = {"kms:calleraccount": caller.account,
               "kms:grantisforawsresource": "true" if for_aws_resource else "false"}
    if for_aws_resource:
        context["kms:viaservice"] = f"ec2.{region}.amazonaws.com"
    return decide(key.policy, Request("kms:CreateGrant", key.arn, caller, context))


def may_create_grant(key, caller: Caller, region: str, for_aws_resource: bool) -> bool:
    return key.key_state == "Enabled" and grant_decision(key, caller, region, for_aws_resource) == "allow"


def create_grant_answer(environ: dict, call: Call) -> tuple[str, list, bytes] | None:
    """KMS CreateGrant: AccessDeniedException when the key policy refuses the caller,
    DryRunOperationException for an allowed DryRun; None lets moto answer."""
    if call.service != "kms" or call.action != "CreateGrant":
        return None
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    try:
        params = json.loads(body or b"{}")
    except ValueError:
        return None
    caller = caller_of(call.access_key)
    key = customer_key(call.region, params.get("KeyId"), caller.account)
    if key is None or key is _MISSING:
        return None   # moto answers NotFoundException as KMS does
    decision = grant_decision(key, caller, call.region, for_aws_resource=False)
    if decision != "allow":
        who = next(iter(caller.arns), f"arn:aws:iam::{caller.account}:root")
        why = ("with an explicit deny in a resource-based policy" if decision == "explicit-deny"
               else "because no resource-based policy allows the kms:CreateGrant action")
        return _json_error("AccessDeniedException",
                           f"User: {who} is not authorized to perform: kms:CreateGrant on resource: {key.arn} "
                           f"{why}. Ask the key's administrator to allow kms:CreateGrant in its key policy.")
    if params.get("DryRun") is True:
        return _json_error("DryRunOperationException",
                           "The request would have succeeded, but the DryRun option is set.")
    return None


def _json_error(code: str, message: str) -> tuple[str, list, bytes]:
    body = json.dumps({"__type": code, "message": message}).encode()
    return "400 Bad Request", [("Content-Type", "application/x-amz-json-1.1")], body
