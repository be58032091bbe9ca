"""Why an instance stopped: StateReason codes and messages, and StopInstances' Hibernate check.

Codes from the EC2 API reference, StateReason
(https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StateReason.html):
"Client.UserInitiatedShutdown: The instance was shut down using the Amazon EC2 API",
"Client.InstanceInitiatedShutdown: The instance was shut down from the operating system of the instance",
"Client.UserInitiatedHibernate: Hibernation was initiated on the instance",
"Server.SpotInstanceShutdown: The instance was stopped because …" (a Spot interruption).
The message repeats the code as "Code: text", as EC2's do ("Client.UserInitiatedShutdown: User initiated
shutdown").
"""
from __future__ import annotations

from moto.ec2.models.instances import StateReason

from .ec2rules import truthy
from .errors import EC2Error

USER_SHUTDOWN = ("Client.UserInitiatedShutdown", "User initiated shutdown")
INSTANCE_SHUTDOWN = ("Client.InstanceInitiatedShutdown", "Instance initiated shutdown")
USER_HIBERNATE = ("Client.UserInitiatedHibernate", "User initiated hibernate")
SPOT_SHUTDOWN = ("Server.SpotInstanceShutdown", "Spot instance shutdown")


def set_reason(instance, reason: tuple[str, str]) -> None:
    code, text = reason
    instance.state_reason = StateReason(f"{code}: {text}", code)


def stop_reason(instance, params: dict[str, str]) -> tuple[str, str]:
    """The reason of a StopInstances call; Hibernate=true needs an instance launched for hibernation.

    StopInstances API reference: hibernation works only "if your instance is enabled for hibernation"
    (HibernationOptions.Configured at launch); otherwise EC2 answers UnsupportedHibernationConfiguration
    ("Error codes for the Amazon EC2 API")."""
    if params.get("Hibernate", "").lower() != "true":
        return USER_SHUTDOWN
    if not hibernation_configured(instance):
        raise EC2Error("UnsupportedHibernationConfiguration",
                       f"The instance '{instance.id}' is not enabled for hibernation: launch it with "
                       "HibernationOptions Configured=true, or stop it without Hibernate.")
    return USER_HIBERNATE


def hibernation_configured(instance) -> bool:
    options = getattr(instance, "hibernation_options", None) or {}
    return truthy(options.get("Configured")) if isinstance(options, dict) else False
