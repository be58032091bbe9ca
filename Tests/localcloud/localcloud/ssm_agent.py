"""The SSM Agent of each instance, played by the cloud: registration, ping status, command runs.

An instance is a managed node once all of these hold (Systems Manager user guide, "Setting up
Systems Manager for EC2 instances" and "Troubleshooting managed node availability",
https://docs.aws.amazon.com/systems-manager/latest/userguide/troubleshooting-managed-nodes.html):
- its AMI has the agent (`SeedAmi.ssm_agent`: AL2023 here; Debian's AMIs have none);
- it is running and its runtime can run commands in it (namespace instances);
- its instance profile's role allows ssm:UpdateInstanceInformation (ssm_access.py);
- its VPC carries traffic to the SSM endpoint (reachability.py, as for any AWS call from inside).
It registers `ssm_online` seconds (profile) after all hold, then stays Online; a node that no
longer satisfies them (stopped, profile removed, route gone) goes ConnectionLost. Terminated
instances leave the list.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import instance_exec, ssm_access
from .reachability import refusal
from .ssm_commands import Command, Invocation

log = logging.getLogger("localcloud.ssm")


@dataclass
class Node:
    instance_id: str
    region: str
    role_arn: str
    registered: float
    ip: str
    platform_name: str
    platform_version: str
    ping: str = "Online"
    last_ping: float = 0.0


def _os_release(init_pid: int) -> tuple[str, str]:
    fields = {}
    try:
        for line in Path(f"/proc/{init_pid}/root/etc/os-release").read_text().splitlines():
            key, _, value = line.partition("=")
            fields[key] = value.strip().strip('"')
    except OSError:
        pass
    return fields.get("NAME", "Linux"), fields.get("VERSION_ID", "")


class Agents:
    def __init__(self, cloud) -> None:
        self.cloud = cloud
        self.nodes: dict[str, Node] = {}
        self._ready_since: dict[str, float] = {}
        self.waiting: list[tuple[Command, Invocation]] = []   # for a node that is not Online

    def init_pid(self, instance_id: str) -> int | None:
        rec = self.cloud.ec2.records.get(instance_id)
        runtime = rec.runtime if rec is not None and rec.runtime_up else None
        init_pid = getattr(runtime, "init_pid", None)
        return init_pid() if init_pid is not None else None

    def _why_not(self, backend, instance) -> str | None:
        seed = self.cloud.seed_for(instance.image_id)
        if seed is None or not seed.ssm_agent:
            return f"{instance.image_id} has no SSM Agent"
        if instance.state != "running" or self.init_pid(instance.id) is None:
            return f"{instance.id} is {instance.state}"
        allowed, why = ssm_access.may_register(backend, instance)
        if not allowed:
            return why
        gateway = getattr(self.cloud, "gateway", None)
        if gateway is not None:
            return refusal(backend, instance, "ssm", gateway.bpa.mode(backend.region_name))
        return None

    def poll(self, backend) -> None:
        """Called twice a second with the cloud's lock held."""
        now = time.time()
        for instance in backend.all_instances():
            node = self.nodes.get(instance.id)
            if instance.state == "terminated":
                self.nodes.pop(instance.id, None)
                self._ready_since.pop(instance.id, None)
                continue
            why = self._why_not(backend, instance)
            if why is not None:
                self._ready_since.pop(instance.id, None)
                if node is not None and node.ping == "Online":
                    log.info("%s: ConnectionLost (%s)", instance.id, why)
                    node.ping = "ConnectionLost"
                continue
            since = self._ready_since.setdefault(instance.id, now)
            if node is None and now - since >= self.cloud.profile.ssm_online:
                init_pid = self.init_pid(instance.id)
                name, version = _os_release(init_pid) if init_pid else ("Linux", "")
                _, role = ssm_access.may_register(backend, instance)
                node = self.nodes[instance.id] = Node(instance.id, backend.region_name, role, now,
                                                      instance.private_ip or "", name, version)
                log.info("%s: registered with SSM (%s)", instance.id, role)
            if node is not None:
                node.ping, node.last_ping = "Online", now
        self._deliver_waiting()

    def online(self, instance_id: str) -> bool:
        node = self.nodes.get(instance_id)
        return node is not None and node.ping == "Online"

    # commands -------------------------------------------------------------------------
    def deliver(self, command: Command, inv: Invocation, stall: bool) -> None:
        if not self.online(inv.instance_id):
            inv.status, inv.details = "Delayed", "Delayed"
            self.waiting.append((command, inv))
            return
        init_pid = self.init_pid(inv.instance_id)
        inv.status, inv.details, inv.started = "InProgress", "InProgress", time.time()
        threading.Thread(target=self._run, args=(command, inv, init_pid, stall),
                         name=f"ssm-{inv.instance_id}", daemon=True).start()

    def _deliver_waiting(self) -> None:
        still = []
        for command, inv in self.waiting:
            if inv.done:
                continue
            if time.time() - command.requested > command.delivery_timeout:
                inv.finish("DeliveryTimedOut", -1)
            elif self.online(inv.instance_id):
                self.deliver(command, inv, False)
            else:
                still.append((command, inv))
        self.waiting = still

    @staticmethod
    def _run(command: Command, inv: Invocation, init_pid: int | None, stall: bool) -> None:
        deadline = inv.started + command.execution_timeout
        if stall or init_pid is None:   # a stalled command hangs as a stuck script would
            cancelled = inv.cancel.wait(max(0.0, deadline - time.time()))
            inv.finish("Cancelled" if cancelled else "TimedOut", -1)
            return
        try:
            running = instance_exec.start_script(init_pid, inv.instance_id, command.command_id,
                                                 command.commands, command.working_directory)
        except OSError as e:
            inv.finish("Failed", 1, stderr=f"failed to run commands: {e}")
            return
        while True:
            if inv.cancel.wait(0.1):
                running.kill()
                inv.finish("Cancelled", -1, *running.output())
                return
            code = running.proc.poll()
            if code is not None:
                inv.finish("Success" if code == 0 else "Failed", code, *running.output())
                return
            if time.time() >= deadline:
                running.kill()
                inv.finish("TimedOut", -1, *running.output())
                return
