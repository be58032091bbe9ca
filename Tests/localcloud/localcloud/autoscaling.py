"""EC2 Auto Scaling in the local cloud: moto keeps the groups; the cloud runs their instances
and does what the group's health checks would.

- Instances a group launches (CreateAutoScalingGroup, SetDesiredCapacity, ExitStandby, a
  replacement, …) go through the same launch as RunInstances (runtime, key pair, user-data,
  KMS key checks with the group's service-linked role as the caller); moto's launch config
  key pair is carried over (moto forgets it).
- Instances moto terminates during a group call (scale-in, TerminateInstanceInAutoScalingGroup)
  are `terminated` at once, as moto has it; their runtimes stop.
- Health: "If the instance status is any state other than running ... [Auto Scaling] considers
  the instance to be unhealthy and launches a replacement" (EC2 Auto Scaling user guide,
  "Health checks for instances in an Auto Scaling group" / "Maintaining the number of
  instances"). An `InService` member that is `stopping`/`stopped` (or terminated through EC2,
  or by a launch that failed) for the profile's `asg_grace` seconds is marked Unhealthy,
  terminated and replaced. Not for `Standby` members
  ("stop and start the instances ... without worrying about Amazon EC2 Auto Scaling
  terminating the instances as part of its health checks", "Temporarily remove instances
  from your Auto Scaling group"), nor while `HealthCheck` is suspended (no marking) or
  `ReplaceUnhealthy` is suspended (marked, not replaced) ("Considerations for suspending
  processes"). With `Launch` suspended the unhealthy member is terminated but not replaced
  ("How suspended processes affect other processes"). A member set Unhealthy through
  SetInstanceHealth is replaced the same way.
"""
from __future__ import annotations

import time

from moto.autoscaling.models import autoscaling_backends
from moto.core.models import DEFAULT_ACCOUNT_ID

from .account import ec2_backend
from .calls import Call

# "any state other than running" is unhealthy; pending is a launch under way.
UNHEALTHY_STATES = ("stopping", "stopped", "shutting-down", "terminated")


def judge(lifecycle: str, state: str, health: str, suspended: frozenset[str], failing_for: float,
          grace: float) -> tuple[bool, str, bool]:
    """The group's health check on one member: (failing: its clock runs, its health status,
    replace it now). `failing_for` is how long it has been seen failing (0 the first time)."""
    if lifecycle != "InService":
        return False, health, False
    failing = "HealthCheck" not in suspended and state in UNHEALTHY_STATES
    if failing and failing_for >= grace:
        health = "Unhealthy"
    return failing, health, health == "Unhealthy" and "ReplaceUnhealthy" not in suspended


class AutoScaling:
    def __init__(self, cloud) -> None:
        self.cloud = cloud
        self._unhealthy_since: dict[str, float] = {}   # instance id → when first seen stopping/stopped

    def handle(self, environ, start_response, call: Call):
        """An Auto Scaling API call: moto answers; the instances it launched or ended are run or stopped."""
        with self.cloud.lock:
            backend = ec2_backend(call.region)
            before = {i.id: i.state for i in backend.all_instances()}
            payload = b"".join(self.cloud.moto(environ, start_response))
            self._adopt(backend, call.region, before)
        return [payload]

    def _adopt(self, backend, region: str, before: dict[str, str]) -> None:
        self.cloud.ec2.reconcile_disks(backend)   # new roots get their images before the launch
        for instance in backend.all_instances():
            if instance.id not in before:
                self._launch(instance, region)
            elif instance.state == "terminated" and before[instance.id] not in ("shutting-down", "terminated"):
                self._stop_runtime(instance.id)

    def _stop_runtime(self, instance_id: str) -> None:
        """moto terminated it at once (scale-in, TerminateInstanceInAutoScalingGroup): its runtime ends too."""
        layer = self.cloud.ec2
        rec = layer.records.get(instance_id)
        if rec is None:
            return
        rec.runtime_up = False

        def stop() -> None:   # after a boot still queued on the worker: the runtime it made
            if rec.runtime is not None:
                rec.runtime.stop(force=True)

        rec.worker.submit(layer._guarded, stop)
        rec.worker.shutdown(wait=False)

    def _launch(self, instance, region: str) -> None:
        group = getattr(instance, "autoscaling_group", None)
        config = getattr(group, "launch_config", None)
        if not instance.key_name and config is not None and config.key_name:
            instance.key_name = config.key_name
        user_data = instance.user_data
        params = {"UserData": user_data.as_bytes().decode()} if hasattr(user_data, "as_bytes") else {}
        if isinstance(user_data, str):
            params = {"UserData": user_data}
        self.cloud.ec2._launch(instance, Call("autoscaling", "RunInstances", None, region, params))

    # health checks ------------------------------------------------------------------
    def check_health(self, region: str) -> None:
        """Called under the cloud's lock, every half second."""
        groups = autoscaling_backends[DEFAULT_ACCOUNT_ID][region].autoscaling_groups
        now = time.monotonic()
        for group in list(groups.values()):
            suspended = {p["ProcessName"] for p in group.suspended_processes}
            for member in list(group.instance_states):
                self._check(group, member, suspended, now, region)

    def _check(self, group, member, suspended: set[str], now: float, region: str) -> None:
        instance = member.instance
        since = self._unhealthy_since.get(instance.id, now)
        failing, health, replace = judge(member.lifecycle_state, instance.state, member.health_status,
                                         frozenset(suspended), now - since, self.cloud.profile.asg_grace)
        if failing:
            self._unhealthy_since.setdefault(instance.id, now)
        else:
            self._unhealthy_since.pop(instance.id, None)
        member.health_status = health
        if replace:
            self._replace(group, member, suspended, region)

    def _replace(self, group, member, suspended: set[str], region: str) -> None:
        backend = ec2_backend(region)
        instance = member.instance
        group.instance_states.remove(member)
        self._unhealthy_since.pop(instance.id, None)
        if instance.state not in ("shutting-down", "terminated"):
            # Termination protection does not stop the group (it is EC2's, not Auto Scaling's).
            self.cloud.ec2._terminate_instance(backend, instance, "TerminateInstances")
        if "Launch" in suspended:
            return
        before = {i.id: i.state for i in backend.all_instances()}
        group.replace_autoscaling_group_instances(1, group.get_propagated_tags())
        self._adopt(backend, region, before)
