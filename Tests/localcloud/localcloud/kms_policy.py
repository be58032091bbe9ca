"""A KMS key policy's answer for one caller and one action, as a pure function.

AWS KMS developer guide, "Key policies" and "Policy evaluation logic": an explicit Deny in
any statement wins; otherwise an Allow that matches the principal, the action, the resource
and its conditions lets the caller in; otherwise the request is denied. EC2 needs
`kms:CreateGrant` on a customer-managed key to use a volume encrypted with it (EBS user
guide, "Requirements for Amazon EBS encryption": "You must grant users permission to call
... kms:CreateGrant"); an Allow naming the account (`arn:aws:iam::ACCOUNT:root` or the
account id, as the default key policy does) is taken to let every identity of the account
in, since the cloud evaluates no IAM policies.

Conditions: only `kms:GrantIsForAWSResource`, `kms:ViaService` and `kms:CallerAccount` are
known, with StringEquals/StringLike/StringNotEquals/StringNotLike/Bool (and their
`IfExists` forms); a statement with any other condition does not apply.
"""
from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Caller:
    """Who asks: the account and the ARNs that name the identity (user or role)."""
    account: str
    arns: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Request:
    action: str                     # e.g. kms:CreateGrant
    key_arn: str
    caller: Caller
    context: dict[str, str] = field(default_factory=dict)   # condition keys, lower case


def decide(policy: str | dict | None, request: Request) -> str:
    """"allow", "explicit-deny" (a Deny applies) or "implicit-deny" (no Allow applies)."""
    effects = {str(s.get("Effect", "")).lower() for s in _statements(policy) if _applies(s, request)}
    if "deny" in effects:
        return "explicit-deny"
    return "allow" if "allow" in effects else "implicit-deny"


def allows(policy: str | dict | None, request: Request) -> bool:
    return decide(policy, request) == "allow"


def _statements(policy: str | dict | None) -> list[dict]:
    if isinstance(policy, str):
        try:
            policy = json.loads(policy) if policy.strip() else {}
        except ValueError:
            return []
    if not isinstance(policy, dict):
        return []
    statements = policy.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    return [s for s in statements if isinstance(s, dict)]


def _listed(value) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _applies(statement: dict, request: Request) -> bool:
    if "NotPrincipal" in statement or "NotAction" in statement or "NotResource" in statement:
        return False   # not evaluated (docs/LOCALCLOUD.md, What is not faithful)
    return (_principal_matches(statement.get("Principal"), request.caller)
            and any(fnmatch.fnmatchcase(request.action.lower(), a.lower())
                    for a in _listed(statement.get("Action")))
            and any(fnmatch.fnmatchcase(request.key_arn, r) for r in _listed(statement.get("Resource", "*")))
            and _conditions_hold(statement.get("Condition"), request.context))


def _principal_matches(principal, caller: Caller) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    names = _listed(principal.get("AWS"))
    account_names = {"*", caller.account, f"arn:aws:iam::{caller.account}:root"}
    return any(n in account_names or n in caller.arns for n in names)


_OPERATORS = {
    "stringequals": lambda actual, wanted: actual in wanted,
    "stringnotequals": lambda actual, wanted: actual not in wanted,
    "stringlike": lambda actual, wanted: any(fnmatch.fnmatchcase(actual, w) for w in wanted),
    "stringnotlike": lambda actual, wanted: not any(fnmatch.fnmatchcase(actual, w) for w in wanted),
    "bool": lambda actual, wanted: actual.lower() in [w.lower() for w in wanted],
}


def _conditions_hold(conditions, context: dict[str, str]) -> bool:
    if not conditions:
        return True
    if not isinstance(conditions, dict):
        return False
    for operator, pairs in conditions.items():
        name = operator.lower()
        if_exists = name.endswith("ifexists")
        test = _OPERATORS.get(name[:-len("ifexists")] if if_exists else name)
        if test is None or not isinstance(pairs, dict):
            return False
        for key, wanted in pairs.items():
            actual = context.get(key.lower())
            if actual is None:
                if if_exists:
                    continue
                return False
            if not test(actual, _listed(wanted)):
                return False
    return True
