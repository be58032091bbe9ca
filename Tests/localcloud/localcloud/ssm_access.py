"""May this instance's SSM Agent register? Its instance profile's role must allow it.

The agent registers with the role's credentials (IMDS), calling ssm:UpdateInstanceInformation
among others; AmazonSSMManagedInstanceCore grants it ("AWS managed policy:
AmazonSSMManagedInstanceCore", https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonSSMManagedInstanceCore.html;
Systems Manager user guide, "Configure instance permissions required for Systems Manager",
https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-instance-permissions.html).
moto 5.2.1 knows AWS's managed policies only when MOTO_IAM_LOAD_MANAGED_POLICIES is true: the
cloud sets it (0.6 s, once) so AttachRolePolicy of their ARNs works and their documents are AWS's.

The role's identity policies (attached managed ones at their default version, and inline ones)
are read for `Allow`s of the action and explicit `Deny`s, with `*` wildcards. Conditions,
resources other than `*`, permission boundaries and SCPs are not evaluated.
"""
from __future__ import annotations

import fnmatch
import json
import os

os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")

REGISTER_ACTION = "ssm:UpdateInstanceInformation"


def _statements(document) -> list[dict]:
    doc = json.loads(document) if isinstance(document, str) else document
    statements = doc.get("Statement", []) if isinstance(doc, dict) else []
    return [statements] if isinstance(statements, dict) else [s for s in statements if isinstance(s, dict)]


def _matches(patterns, action: str) -> bool:
    patterns = [patterns] if isinstance(patterns, str) else patterns or []
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns if isinstance(p, str))


def documents_allow(documents, action: str) -> bool:
    """An Allow of `action` and no explicit Deny of it (IAM's evaluation, identity policies only)."""
    allowed = False
    for document in documents:
        for statement in _statements(document):
            if not _matches(statement.get("Action"), action):
                continue
            if statement.get("Effect") == "Deny":
                return False
            allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def role_documents(role) -> list:
    docs = []
    for policy in role.managed_policies.values():
        default = next((v for v in policy.versions if v.is_default), None)
        if default is not None:
            docs.append(default.document)
    docs.extend(role.policies.values())
    return docs


def instance_role(backend, instance):
    """The role of the instance profile associated with the instance, or None."""
    association = backend.iam_instance_profile_associations.get(instance.id)
    if association is None or association.state != "associated":
        return None
    roles = association.iam_instance_profile.roles
    return roles[0] if roles else None


def may_register(backend, instance) -> tuple[bool, str]:
    """(True, role ARN) when the agent may register; else (False, why not)."""
    role = instance_role(backend, instance)
    if role is None:
        return False, f"{instance.id} has no instance profile with a role"
    if not documents_allow(role_documents(role), REGISTER_ACTION):
        return False, f"{role.arn} does not allow {REGISTER_ACTION} (attach AmazonSSMManagedInstanceCore)"
    return True, role.arn
