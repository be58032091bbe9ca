"""Volumes encrypted with customer-managed KMS keys: EC2 uses them only for a caller the key
policy lets call kms:CreateGrant (kms_access.py, kms_policy.py).

- StartInstances / RunInstances: the instance goes `pending`, then `stopped` (start) or
  `terminated` (launch) with StateReason Client.InternalError "Client.InternalError: Client
  error on launch" (AWS Knowledge Center, "kms-iam-ec2-permission": "The IAM principal that
  calls the StartInstances API action must have kms:CreateGrant permissions", the instance
  goes from Pending to Stopped with that reason; "encrypted-volumes-stops-immediately": a
  launch goes from pending to terminated with the same reason).
- AttachVolume answers `CustomerKeyHasBeenRevoked` (EC2 API reference, "Error codes": "The
  customer master key cannot be accessed"; reported by users for an attach without
  kms:CreateGrant).
- CreateVolume answers as EC2 does and the volume is gone at once (DescribeVolumes:
  InvalidVolume.NotFound): "The AWS KMS validation for createVolume is asynchronous"
  (kubernetes-sigs/aws-ebs-csi-driver#3010; aws/aws-cli#2604 shows the same).

moto drops the key id of a snapshot's volume and of a volume made from an encrypted
snapshot; the patches below keep it. A block device mapping at the AMI's root device
without a SnapshotId gets the AMI's snapshot (EC2 keeps the AMI's disk and only changes
the volume's settings, e.g. its encryption), so an instance with an encrypted root boots.
"""
from __future__ import annotations

from moto.ec2.models.elastic_block_store import EBSBackend
from moto.ec2.models.instances import Instance, InstanceBackend, InstanceState, StateReason
from moto.ec2.responses.instances import InstanceResponse

from .calls import Call
from .errors import EC2Error
from .kms_access import AUTOSCALING_ROLE, caller_of, customer_key, may_create_grant, service_caller
from .kms_policy import Caller

LAUNCH_FAILURE = StateReason("Client.InternalError: Client error on launch", "Client.InternalError")
ATTACH_REFUSED = ("CustomerKeyHasBeenRevoked", "The encrypted volume was unable to access the KMS key.")


def caller_for(call: Call) -> Caller:
    caller = caller_of(call.access_key)
    if call.service == "autoscaling":   # the group launches, with its service-linked role
        return service_caller(caller.account, AUTOSCALING_ROLE)
    return caller


def volume_usable(volume, caller: Caller, region: str) -> bool:
    if not getattr(volume, "encrypted", False):
        return True
    key = customer_key(region, volume.kms_key_id, caller.account)
    return key is None or may_create_grant(key, caller, region, for_aws_resource=True)


def check_attach(volume, call: Call) -> None:
    if not volume_usable(volume, caller_for(call), call.region):
        raise EC2Error(*ATTACH_REFUSED)


def refuse_launch(layer, instance, call: Call, final: str) -> bool:
    """For a Start/RunInstances whose caller may not use a volume's key: the instance stays
    `pending` for the profile's `launch_fail` seconds, then ends `final` (stopped or
    terminated) with Client.InternalError. True when refused (no runtime starts)."""
    backend = instance.ec2_backend
    caller = caller_for(call)
    volumes = [backend.get_volume(b.volume_id) for b in instance.block_device_mapping.values()]
    if all(volume_usable(v, caller, call.region) for v in volumes):
        return False
    instance._state = InstanceState("pending", 0)
    rec = layer._record(instance)

    def fail() -> None:
        if instance.state != "pending":
            return
        if final == "terminated":
            instance.terminate()
            layer.reconcile_disks(backend)
            rec.worker.shutdown(wait=False)
        else:
            instance.stop()
        instance._reason = LAUNCH_FAILURE.message
        instance.state_reason = StateReason(LAUNCH_FAILURE.message, LAUNCH_FAILURE.code)

    layer.cloud.later(layer.cloud.profile.launch_fail, None, fail)
    return True


def drop_refused_volume(backend, call: Call) -> None:
    """After CreateVolume: a volume whose key the caller may not use disappears."""
    if call.action != "CreateVolume" or not backend.volumes:
        return
    volume = list(backend.volumes.values())[-1]   # the one just made (under the cloud's lock)
    if not volume_usable(volume, caller_for(call), call.region):
        backend.delete_volume(volume.id)


# moto corrections ---------------------------------------------------------------------
_create_snapshot = EBSBackend.create_snapshot
_create_volume = EBSBackend.create_volume
_add_block_device = Instance.add_block_device
_run_instances = InstanceBackend.run_instances
_validate_mapping = InstanceResponse._validate_block_device_mapping


def _mapping_may_omit_size(device_mapping) -> None:
    """moto wants VolumeSize or SnapshotId in every mapping; EC2 takes the AMI's for the root.
    Other devices without either still fail, in moto's create_volume."""
    ebs = device_mapping.get("Ebs")
    if isinstance(ebs, dict) and not ebs.get("VolumeSize") and not ebs.get("SnapshotId"):
        return
    _validate_mapping(device_mapping)


def _snapshot_keeps_key(self, volume_id, *args, **kwargs):
    snapshot = _create_snapshot(self, volume_id, *args, **kwargs)
    if snapshot.kms_key_id is None:
        snapshot.kms_key_id = getattr(self.get_volume(volume_id), "kms_key_id", None)
    return snapshot


def _volume_keeps_key(self, *args, **kwargs):
    volume = _create_volume(self, *args, **kwargs)
    snapshot = self.snapshots.get(volume.snapshot_id) if volume.snapshot_id else None
    if snapshot is not None and snapshot.encrypted and not kwargs.get("kms_key_id"):
        volume.kms_key_id = snapshot.kms_key_id or volume.kms_key_id
        volume.encrypted = True
    return volume


def _root_from_ami(self, size, device_path, snapshot_id, *args, **kwargs):
    if device_path == self.root_device_name and not snapshot_id:
        ami = self.ec2_backend.amis.get(self.image_id)
        snapshot = getattr(ami, "ebs_snapshot", None)
        snapshot_id = snapshot.id if snapshot is not None else None
        size = size or 8
    return _add_block_device(self, size, device_path, snapshot_id, *args, **kwargs)


def _instances_have_roots(self, *args, **kwargs):
    """Block device mappings for data volumes only: the root still comes from the AMI."""
    reservation = _run_instances(self, *args, **kwargs)
    for instance in reservation.instances:
        if instance.root_device_name not in instance.block_device_mapping:
            instance.setup_defaults()
    return reservation


EBSBackend.create_snapshot = _snapshot_keeps_key
EBSBackend.create_volume = _volume_keeps_key
Instance.add_block_device = _root_from_ami
InstanceBackend.run_instances = _instances_have_roots
InstanceResponse._validate_block_device_mapping = staticmethod(_mapping_may_omit_size)
