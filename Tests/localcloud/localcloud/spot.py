"""Spot Instances launched through RunInstances' InstanceMarketOptions, their requests, interruptions.

- RunInstances with MarketType spot makes a Spot Instance request per instance, as EC2 does
  (DescribeSpotInstanceRequests shows its type and interruption behaviour). SpotMarketOptions
  (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_SpotMarketOptions.html): "For RunInstances,
  persistent Spot Instance requests are only supported when the instance interruption behavior is either
  hibernate or stop"; stop and hibernate need a persistent request ("Behavior of Spot Instance
  interruptions"). The error code EC2 gives for breaking either is not documented:
  InvalidParameterCombination here.
- POST /_localcloud/spot/interrupt stops such an instance (persistent, behaviour stop) with StateReason
  Server.SpotInstanceShutdown; its request is open again ("Get the status of a Spot Instance request":
  "If the request is persistent, the request is opened again after your Spot Instance is interrupted").
- POST /_localcloud/spot/restore is EC2 starting it again when capacity returns; "If you detach the root
  volume and Amazon EC2 attempts to start the Spot Instance, the instance will fail to start and Amazon
  EC2 will terminate the stopped instance" ("Behavior of Spot Instance interruptions",
  https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/interruption-behavior.html).
"""
from __future__ import annotations

from moto.ec2.models.spot_requests import SpotInstanceRequest
from moto.ec2.utils import random_spot_request_id

from . import statereason
from .calls import Call
from .errors import EC2Error

_OPTIONS = "InstanceMarketOptions.SpotOptions."


def spot_options(params: dict[str, str]) -> dict[str, str] | None:
    if params.get("InstanceMarketOptions.MarketType") != "spot":
        return None
    return {"type": params.get(_OPTIONS + "SpotInstanceType", "one-time"),
            "behaviour": params.get(_OPTIONS + "InstanceInterruptionBehavior", "terminate"),
            "price": params.get(_OPTIONS + "MaxPrice", "")}


def check_launch(call: Call) -> None:
    options = spot_options(call.params) if call.action == "RunInstances" else None
    if options is None:
        return
    if options["type"] == "persistent" and options["behaviour"] == "terminate":
        raise EC2Error("InvalidParameterCombination",
                       "A persistent Spot Instance request launched by RunInstances needs "
                       "InstanceInterruptionBehavior stop or hibernate.")
    if options["behaviour"] in ("stop", "hibernate") and options["type"] != "persistent":
        raise EC2Error("InvalidParameterCombination",
                       f"InstanceInterruptionBehavior {options['behaviour']} needs SpotInstanceType persistent.")


class _RequestFor(SpotInstanceRequest):
    """moto's request model, for an instance RunInstances already launched (moto's would launch one)."""

    def __init__(self, instance, **kwargs) -> None:
        self._given = instance
        super().__init__(**kwargs)

    def launch_instance(self):
        return self._given


def record_requests(backend, call: Call, instance_ids: list[str]) -> None:
    options = spot_options(call.params)
    if options is None:
        return
    for iid in instance_ids:
        instance = backend.get_instance_by_id(iid)
        request = _RequestFor(
            instance, ec2_backend=backend, spot_request_id=random_spot_request_id(), price=options["price"],
            image_id=instance.image_id, spot_instance_type=options["type"], valid_from=None, valid_until=None,
            launch_group=None, availability_zone_group=None, key_name=instance.key_name,
            security_groups=[g.id for g in instance.security_groups], user_data=None,
            instance_type=instance.instance_type, placement=instance._placement.zone, kernel_id=None,
            ramdisk_id=None, monitoring_enabled=False, subnet_id=instance.subnet_id, tags={},
            spot_fleet_id=None, instance_interruption_behaviour=options["behaviour"])
        backend.spot_instance_requests[request.id] = request
        instance.spot_instance_request_id = request.id


def _request_of(backend, instance_id: str):
    return next((r for r in backend.spot_instance_requests.values() if r.instance.id == instance_id), None)


def interrupt(ec2layer, backend, instance_id: str) -> dict:
    """EC2 reclaims the capacity: the instance stops (Server.SpotInstanceShutdown)."""
    instance = backend.get_instance(instance_id)
    request = _request_of(backend, instance.id)
    if request is None or request.type != "persistent" or request.instance_interruption_behaviour != "stop":
        raise ValueError(f"{instance.id} is not a Spot Instance of a persistent request with interruption "
                         "behaviour stop: launch it with InstanceMarketOptions (SpotInstanceType persistent, "
                         "InstanceInterruptionBehavior stop)")
    if instance.state != "running":
        raise ValueError(f"{instance.id} is {instance.state}: only a running Spot Instance can be interrupted")
    ec2layer.stop_with_reason(instance, "SpotInterruption", statereason.SPOT_SHUTDOWN)
    request.state, request._status_code = "open", "instance-stopped-no-capacity"
    request.status_message = "Your Spot Instance was stopped because there is no Spot capacity available."
    return {"instance_id": instance.id, "state": instance.state, "spot_instance_request_id": request.id}


def restore(ec2layer, backend, instance_id: str) -> dict:
    """EC2 starts the stopped Spot Instance again; without a root volume it is terminated instead."""
    instance = backend.get_instance(instance_id)
    request = _request_of(backend, instance.id)
    if request is None or request._status_code != "instance-stopped-no-capacity" or instance.state != "stopped":
        raise ValueError(f"{instance.id} is not a Spot Instance stopped by an interruption "
                         "(POST /_localcloud/spot/interrupt first, and wait for it to be stopped)")
    if instance.root_device_name not in instance.block_device_mapping:
        ec2layer.terminate_now(backend, instance, "SpotRestore")
        request.state, request._status_code = "closed", "instance-terminated-no-capacity"
    else:
        ec2layer.start_now(instance, "SpotRestore")
        request.state, request._status_code = "active", "fulfilled"
    request.status_message = ""
    return {"instance_id": instance.id, "state": instance.state, "spot_instance_request_id": request.id}
