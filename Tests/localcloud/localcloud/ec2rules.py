"""EC2's documented preconditions, as pure checks on moto's model objects.

Each check raises EC2Error with the code and message style EC2 uses
(EC2 API reference, "Error codes for the Amazon EC2 API").
"""
from __future__ import annotations

import base64
import binascii
import re

from .errors import EC2Error

USER_DATA_LIMIT = 16384   # "User data is limited to 16 KB, in raw form, before it is base64-encoded."

# Linux device names EC2 accepts for EBS (Device naming on Linux instances).
_DEVICE = re.compile(r"/dev/(sd[a-z]|sd[a-z](?:[1-9]|1[0-5])|xvd[a-z]{1,2}|xvd[a-z]{1,2}(?:[1-9]|1[0-5])|hd[a-z])")

STATE_CODES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48,
               "stopping": 64, "stopped": 80}


def decode_user_data(raw: str | None) -> bytes | None:
    if raw is None or raw == "":
        return None
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise EC2Error("InvalidUserData.Malformed", "Invalid BASE64 encoding of user data.") from None
    if len(data) > USER_DATA_LIMIT:
        raise EC2Error("InvalidParameterValue",
                       f"User data is limited to {USER_DATA_LIMIT} bytes; this is {len(data)} bytes.")
    return data


def slot(device: str) -> str:
    """sdf and xvdf name the same attachment point."""
    return re.sub(r"^/dev/(sd|xvd)", "/dev/x", device)


def check_device_name(device: str | None) -> None:
    if not device or not _DEVICE.fullmatch(device):
        raise EC2Error("InvalidParameterValue",
                       f"Value ({device}) for parameter device is invalid. {device} is not a valid EBS device name.")


def check_attach(volume, instance, device: str) -> None:
    check_device_name(device)
    if volume.attachment is not None:
        raise EC2Error("VolumeInUse", f"{volume.id} is already attached to an instance")
    if volume.zone.name != instance._placement.zone:
        raise EC2Error("InvalidVolume.ZoneMismatch",
                       f"The volume '{volume.id}' is not in the same availability zone as instance '{instance.id}'")
    if instance.state not in ("running", "stopped"):
        raise EC2Error("IncorrectState", f"Instance '{instance.id}' is not 'running'.")
    if any(slot(d) == slot(device) for d in instance.block_device_mapping):
        raise EC2Error("InvalidParameterValue",
                       f"Invalid value '{device}' for unixDevice. Attachment point {device} is already in use")


def check_detach(volume, attachment_status: str) -> None:
    if volume.attachment is None:
        raise EC2Error("IncorrectState", f"Volume '{volume.id}' is in the 'available' state.")
    if attachment_status != "attached":
        raise EC2Error("IncorrectState", f"Volume '{volume.id}' is in the '{attachment_status}' state.")
    instance = volume.attachment.instance
    if volume.attachment.device == instance.root_device_name and instance.state != "stopped":
        raise EC2Error("IncorrectState",
                       f"Unable to detach root volume '{volume.id}' from instance '{instance.id}'")


def check_start(instance) -> None:
    if instance.state in ("running", "pending"):
        return
    if instance.state != "stopped":
        raise EC2Error("IncorrectInstanceState",
                       f"The instance '{instance.id}' is not in a state from which it can be started.")
    if instance.root_device_name not in instance.block_device_mapping:
        raise EC2Error("IncorrectInstanceState",
                       f"Invalid value '{instance.id}' for instanceId. Instance does not have a volume "
                       f"attached at root ({instance.root_device_name})")


def check_stop(instance, root_device_type: str) -> None:
    if truthy(instance.disable_api_stop):
        raise EC2Error("OperationNotPermitted",
                       f"The instance '{instance.id}' may not be stopped. Modify its 'disableApiStop' "
                       "instance attribute and try again.")
    if root_device_type == "instance-store":
        raise EC2Error("UnsupportedOperation",
                       f"The instance '{instance.id}' does not have an 'ebs' root device type and cannot be stopped.")
    if instance.state in ("pending", "shutting-down", "terminated"):
        raise EC2Error("IncorrectInstanceState",
                       f"This instance '{instance.id}' is not in a state from which it can be stopped.")


def check_terminate(instance) -> None:
    if truthy(instance.disable_api_termination):
        raise EC2Error("OperationNotPermitted",
                       f"The instance '{instance.id}' may not be terminated. Modify its "
                       "'disableApiTermination' instance attribute and try again.")


def truthy(value) -> bool:
    """moto keeps attributes set by ModifyInstanceAttribute as given ("true", True, …)."""
    return value is True or str(value).lower() == "true"
