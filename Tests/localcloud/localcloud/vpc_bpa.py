"""VPC Block Public Access options per Region (moto has none): DescribeVpcBlockPublicAccessOptions
and ModifyVpcBlockPublicAccessOptions, and the mode reachability.py reads.

EC2 API reference, ModifyVpcBlockPublicAccessOptions: InternetGatewayBlockMode is `off`,
`block-bidirectional` or `block-ingress`; the answer's state is `default-state` until the
first change. AWS applies a change over a short while (`update-in-progress`); here it takes
effect at once and reads `update-complete` (documented in docs/LOCALCLOUD.md).
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from moto.core.models import DEFAULT_ACCOUNT_ID

from .calls import Call
from .ec2xml import iso
from .errors import EC2Error

MODES = ("off", "block-bidirectional", "block-ingress")
_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"


class BlockPublicAccess:
    def __init__(self) -> None:
        self._options: dict[str, tuple[str, str, datetime | None]] = {}   # region → (mode, state, when)

    def mode(self, region: str) -> str:
        return self._options.get(region, ("off", "default-state", None))[0]

    def describe(self, backend, call: Call) -> bytes:
        return self._answer("DescribeVpcBlockPublicAccessOptions", call.region)

    def modify(self, backend, call: Call) -> bytes:
        mode = call.params.get("InternetGatewayBlockMode", "")
        if mode not in MODES:
            raise EC2Error("InvalidParameterValue",
                           f"Value ({mode}) for parameter InternetGatewayBlockMode is invalid. "
                           f"Use one of: {', '.join(MODES)}.")
        self._options[call.region] = (mode, "update-complete", datetime.now(timezone.utc))
        return self._answer("ModifyVpcBlockPublicAccessOptions", call.region)

    def _answer(self, action: str, region: str) -> bytes:
        mode, state, when = self._options.get(region, ("off", "default-state", None))
        stamp = f"<lastUpdateTimestamp>{iso(when)}</lastUpdateTimestamp>" if when else ""
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<{action}Response xmlns="{_NS}">'
                f"<requestId>{uuid.uuid4()}</requestId><vpcBlockPublicAccessOptions>"
                f"<awsAccountId>{DEFAULT_ACCOUNT_ID}</awsAccountId><awsRegion>{region}</awsRegion>"
                f"<state>{state}</state><internetGatewayBlockMode>{mode}</internetGatewayBlockMode>{stamp}"
                "<managedBy>account</managedBy><exclusionsAllowed>allowed</exclusionsAllowed>"
                f"</vpcBlockPublicAccessOptions></{action}Response>").encode()
