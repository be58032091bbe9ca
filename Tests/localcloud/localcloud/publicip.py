"""Public IPv4 addresses across a stop and start.

EC2 user guide, "Amazon EC2 instance IP addressing", public IPv4 addresses
(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-instance-addressing.html): "We release the
public IP address for your instance when it's stopped, hibernated, or terminated. Your stopped or
hibernated instance receives a new public IP address when it is started", unless an Elastic IP address
is associated with it; and "If the public IP address of your instance … has been released, it will not
receive a new one if there is more than one network interface attached to your instance."

moto releases an auto-assigned address at stop and draws a new one at start; it also drops an Elastic
IP of an auto-assigning interface at stop and re-draws for every interface at start. These hooks put
the Elastic IPs back and take the drawn address away when the instance has several interfaces.
"""
from __future__ import annotations


def _elastic_ips(backend, instance) -> dict[str, str]:
    """{network interface id: Elastic IP} for the instance's interfaces."""
    ids = {nic.id for nic in instance.nics.values()}
    return {a.eni.id: a.public_ip for a in backend.addresses if a.eni is not None and a.eni.id in ids}


def after_stop(backend, instance) -> None:
    eips = _elastic_ips(backend, instance)
    for nic in instance.nics.values():
        nic.public_ip = eips.get(nic.id)


def after_start(backend, instance) -> None:
    eips = _elastic_ips(backend, instance)
    several = len(instance.nics) > 1
    for nic in instance.nics.values():
        if nic.id in eips:
            nic.public_ip = eips[nic.id]
        elif several:
            nic.public_ip = None
