"""The cloud's own endpoints under /_localcloud and the fault answers per service."""
from __future__ import annotations

import json

from .calls import Call
from .errors import ec2_error_xml, query_error_xml, s3_error_xml


def json_response(start_response, status: str, payload) -> list[bytes]:
    body = json.dumps(payload, indent=1).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


# Launch errors of the faults capacity-host, instance-limit, vcpu-limit: (status, code, message).
# Codes and wording from "Error codes for the Amazon EC2 API"
# (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html); the page gives no
# HTTP status for InsufficientCapacityOnHost: 400 is this cloud's choice, kept here.
LAUNCH_ERRORS = {
    "capacity-host": ("400 Bad Request", "InsufficientCapacityOnHost",
                      "There is not enough capacity on the host to launch or start the instance."),
    "instance-limit": ("400 Bad Request", "InstanceLimitExceeded",
                       "You have requested more instances (1) than your current instance limit of 0 allows "
                       "for the specified instance type. Please visit http://aws.amazon.com/contact-us/ec2-request "
                       "to request an adjustment to this limit."),
    "vcpu-limit": ("400 Bad Request", "VcpuLimitExceeded",
                   "You have requested more vCPU capacity than your current vCPU limit of 0 allows for the "
                   "instance bucket that the specified instance type belongs to. Please visit "
                   "http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit."),
}


def fault_response(call: Call, kind: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """The answer AWS gives for a throttled call or a server error, in the service's protocol."""
    if kind in LAUNCH_ERRORS:
        status, code, message = LAUNCH_ERRORS[kind]
        return status, [("Content-Type", "text/xml")], ec2_error_xml(code, message)
    if kind == "capacity":
        if call.service == "ec2":
            return "500 Internal Server Error", [("Content-Type", "text/xml")], ec2_error_xml(
                "InsufficientInstanceCapacity", "We currently do not have sufficient capacity in the Availability Zone you requested.")
        kind = "500"
    if call.service in ("ssm", "kms", "ec2-instance-connect"):
        code, status = {"throttle": ("ThrottlingException", "400 Bad Request"),
                        "500": ("InternalServerError", "500 Internal Server Error"),
                        "503": ("ServiceUnavailable", "503 Service Unavailable")}[kind]
        body = json.dumps({"__type": code, "message": f"localcloud fault: {code}"}).encode()
        return status, [("Content-Type", "application/x-amz-json-1.1")], body
    if call.service == "s3":
        code, status = {"throttle": ("SlowDown", "503 Slow Down"),
                        "500": ("InternalError", "500 Internal Server Error"),
                        "503": ("ServiceUnavailable", "503 Service Unavailable")}[kind]
        return status, [("Content-Type", "application/xml")], s3_error_xml(code, f"localcloud fault: {code}")
    if call.service == "ec2":
        code, status = {"throttle": ("RequestLimitExceeded", "503 Service Unavailable"),
                        "500": ("InternalError", "500 Internal Server Error"),
                        "503": ("Unavailable", "503 Service Unavailable")}[kind]
        message = "Request limit exceeded." if kind == "throttle" else \
            "An internal error has occurred" if kind == "500" else "The service is unavailable. Please try again shortly."
        return status, [("Content-Type", "text/xml")], ec2_error_xml(code, message)
    code, status = {"throttle": ("Throttling", "400 Bad Request"),
                    "500": ("InternalFailure", "500 Internal Server Error"),
                    "503": ("ServiceUnavailable", "503 Service Unavailable")}[kind]
    return status, [("Content-Type", "text/xml")], query_error_xml(code, "Rate exceeded" if kind == "throttle" else code)
