"""EC2 Instance Connect: SendSSHPublicKey, and the keys an instance's IMDS hands its sshd.

SendSSHPublicKey (EC2 Instance Connect API reference,
https://docs.aws.amazon.com/ec2-instance-connect/latest/APIReference/API_SendSSHPublicKey.html)
pushes a key "to the specified EC2 instance for use by the specified user. The key remains for
60 seconds." It only stores the key: the instance's ec2-instance-connect package (its sshd's
AuthorizedKeysCommand) fetches it from the instance metadata service
(/latest/meta-data/managed-ssh-keys/active-keys/USER/) at each login, so pushing to an instance
without the package succeeds and its sshd never asks ("Install EC2 Instance Connect",
https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-connect-set-up.html).
The 60 s is the profile's `eic_key_ttl` (KEYRESCUE_LOCALCLOUD_EIC_TTL overrides it, for tests).
"""
from __future__ import annotations

import re
import threading
import time
import uuid

from .account import ec2_backend
from .json_api import JsonError, answer, error, read_json

_INSTANCE_ID = re.compile(r"^i-[a-f0-9]+$")
_OS_USER = re.compile(r"(^[A-Za-z_][A-Za-z0-9@._-]{0,30}[A-Za-z0-9$_-]?$)|"
                      r"(^(?=.{2,32}$)[0-9]{1,32}[A-Za-z@._-][A-Za-z0-9@._-]*[A-Za-z0-9$_-]?$)")
# "Supported key types: OpenSSH and SSH2 formats; RSA (2048 and 4096 bits) and ED25519" (API reference).
_KEY_TYPES = ("ssh-rsa", "ssh-ed25519")


def check_key(key: str) -> str | None:
    """Why the key is not one SendSSHPublicKey takes, or None."""
    parts = key.strip().split()
    if len(parts) < 2 or parts[0] not in _KEY_TYPES:
        return f"Unsupported key type: send an OpenSSH {' or '.join(_KEY_TYPES)} public key (one line)."
    if "\n" in key.strip():
        return "The public key must be one line."
    return None


class InstanceConnect:
    ACTIONS = ("SendSSHPublicKey",)

    def __init__(self, cloud) -> None:
        self.cloud = cloud
        self._lock = threading.Lock()
        self._keys: dict[tuple[str, str], list[tuple[str, float]]] = {}   # (instance, user) → (key, expiry)

    def handle(self, environ, start_response, call):
        try:
            body = read_json(environ)
            if call.action != "SendSSHPublicKey":
                raise JsonError("UnknownOperationException", f"{call.action} is not supported by the local cloud.")
            self._send(body, call.region)
        except JsonError as e:
            return error(start_response, e)
        return answer(start_response, {"RequestId": str(uuid.uuid4()), "Success": True})

    def _send(self, body: dict, region: str) -> None:
        instance_id, user, key = (str(body.get(k) or "") for k in ("InstanceId", "InstanceOSUser", "SSHPublicKey"))
        if not _INSTANCE_ID.match(instance_id) or not 10 <= len(instance_id) <= 32:
            raise JsonError("InvalidArgsException", f"InstanceId {instance_id!r} is not an instance id (i-…).")
        if not _OS_USER.match(user):
            raise JsonError("InvalidArgsException", f"InstanceOSUser {user!r} is not a valid Linux user name.")
        if not 80 <= len(key) <= 4096:
            raise JsonError("InvalidArgsException", "SSHPublicKey must be 80 to 4096 characters: an OpenSSH public key.")
        why = check_key(key)
        if why:
            raise JsonError("InvalidArgsException", why)
        with self.cloud.lock:
            self.cloud.ensure_region(region)
            backend = ec2_backend(region)
            instance = next((i for i in backend.all_instances() if i.id == instance_id), None)
            if instance is None:
                raise JsonError("EC2InstanceNotFoundException", f"Instance {instance_id} not found in {region}.")
            zone = body.get("AvailabilityZone")
            if zone and zone != instance.placement.zone:
                raise JsonError("EC2InstanceNotFoundException",
                                f"Instance {instance_id} is not in {zone}: it is in {instance.placement.zone}.")
            if instance.state != "running":
                raise JsonError("EC2InstanceStateInvalidException",
                                f"Instance {instance_id} is {instance.state}: start it, then push the key again.")
        with self._lock:
            entries = self._live(instance_id, user)
            entries.append((key.strip(), time.time() + self.cloud.profile.eic_key_ttl))

    def _live(self, instance_id: str, user: str) -> list[tuple[str, float]]:
        now = time.time()
        entries = [e for e in self._keys.get((instance_id, user), []) if e[1] > now]
        self._keys[(instance_id, user)] = entries
        return entries

    def active_keys(self, instance_id: str, user: str) -> list[str]:
        """What IMDS answers for managed-ssh-keys/active-keys/USER/: keys pushed within the TTL."""
        with self._lock:
            return [k for k, _ in self._live(instance_id, user)]
