"""The deny-untagged fault: an organisation's rule that every created resource carries a tag.

A service control policy that denies ec2:RunInstances (etc.) when `aws:RequestTag/KEY` is null is
evaluated per resource the call creates (AWS Organizations user guide, "Example SCPs for tagging
resources", https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_examples_tagging.html;
EC2 user guide, "Grant permission to tag Amazon EC2 resources during creation"). EC2 then answers
UnauthorizedOperation, "You are not authorized to perform this operation. Encoded authorization failure
message: …" (STS DecodeAuthorizationMessage: an HTTP 403). A DryRun is judged the same way.

EC2's encoded message is opaque; here it is base64url of a JSON document saying what was denied, so a
test can read it. moto drops TagSpecifications of type network-interface: `tag_network_interfaces`
puts them on the instance's interfaces.
"""
from __future__ import annotations

import base64
import json
import re

from .calls import Call
from .errors import EC2Error
from .faults import FaultBook

# What each call creates, as TagSpecification resource types.
CREATES = {
    "RunInstances": ("instance", "volume", "network-interface"),
    "CreateSecurityGroup": ("security-group",),
    "CreateSnapshot": ("snapshot",),
    "CreateVolume": ("volume",),
}
_SPEC = re.compile(r"TagSpecification\.(\d+)\.(ResourceType|Tag\.(\d+)\.(Key|Value))")


def tag_specifications(params: dict[str, str]) -> dict[str, dict[str, str]]:
    """{resource type: {key: value}} from TagSpecification.N.* parameters."""
    types: dict[str, str] = {}
    keys: dict[tuple[str, str], str] = {}
    values: dict[tuple[str, str], str] = {}
    for name, value in params.items():
        match = _SPEC.fullmatch(name)
        if match is None:
            continue
        n, what, m, part = match.groups()
        if what == "ResourceType":
            types[n] = value
        elif part == "Key":
            keys[(n, m)] = value
        else:
            values[(n, m)] = value
    out: dict[str, dict[str, str]] = {}
    for (n, m), key in keys.items():
        if n in types:
            out.setdefault(types[n], {})[key] = values.get((n, m), "")
    return out


def check(faults: FaultBook, call: Call) -> None:
    """Raises UnauthorizedOperation if a deny-untagged fault fires and a created type lacks the tag."""
    if call.service != "ec2" or call.action not in CREATES:
        return
    fault = faults.take(call.action, ("deny-untagged",))
    if fault is None:
        return
    given = tag_specifications(call.params)
    untagged = [t for t in CREATES[call.action] if fault.tag not in given.get(t, {})]
    if not untagged:
        return
    detail = {"allowed": False, "explicitDeny": True, "matchedStatements": {"items": [{
        "statementId": "DenyUntagged", "effect": "DENY",
        "conditions": {"items": [{"key": f"aws:RequestTag/{fault.tag}", "values": {"items": []}}]}}]},
        "context": {"action": f"ec2:{call.action}", "untaggedResourceTypes": untagged}}
    encoded = base64.urlsafe_b64encode(json.dumps(detail).encode()).decode()
    raise EC2Error("UnauthorizedOperation", "You are not authorized to perform this operation. "
                   f"Encoded authorization failure message: {encoded}", status=403)


def tag_network_interfaces(backend, call: Call, instance_ids: list[str]) -> None:
    """RunInstances' network-interface tags, which moto drops, on each new instance's interfaces."""
    tags = tag_specifications(call.params).get("network-interface")
    if not tags:
        return
    for iid in instance_ids:
        instance = backend.get_instance_by_id(iid)
        for nic in (instance.nics.values() if instance is not None else ()):
            backend.create_tags([nic.id], tags)
