"""The EC2 part of the local cloud: preconditions, transitions that take time, disks, instances.

Requests arrive here with the cloud's lock held. Actions whose timing the cloud owns
(Start/Stop/TerminateInstances, Attach/DetachVolume, GetConsoleOutput) are answered
here; the others go to moto and are followed by `after`, which gives new volumes and
snapshots their image files and new instances their launch.
"""
from __future__ import annotations

import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from moto.ec2.models.instances import InstanceState

from . import ec2_kms, ec2rules, ec2xml, instance_store, publicip, statereason
from .busy_detach import BusyDetach
from .calls import Call
from .devices import is_nitro
from .disks import DiskStore, first_partition, install_public_key
from .ec2_volumes import VolumeActions
from .runtime import InstanceRuntime, LaunchSpec, Volume

log = logging.getLogger("localcloud.ec2")


@dataclass
class InstanceRecord:
    instance_id: str
    workdir: Path
    worker: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(max_workers=1))
    runtime: InstanceRuntime | None = None
    runtime_up: bool = False        # started and not yet asked to stop
    user_data: bytes | None = None

    @property
    def console(self) -> Path:
        return self.workdir / "console.log"


def _ids(params: dict[str, str], prefix: str) -> list[str]:
    return [v for k, v in sorted(params.items()) if k.startswith(prefix + ".")]


class EC2Layer(VolumeActions):
    def __init__(self, cloud) -> None:
        self.cloud = cloud
        self.disks: DiskStore = cloud.disks
        self.records: dict[str, InstanceRecord] = {}
        # Volumes and snapshots that carry Marketplace product codes (from an AMI that has them).
        self.marketplace: set[str] = set()
        self._handlers: dict[str, Callable[[object, Call], bytes]] = {
            "StartInstances": self._start, "StopInstances": self._stop,
            "TerminateInstances": self._terminate, "AttachVolume": self._attach,
            "DetachVolume": self._detach, "GetConsoleOutput": self._console,
            "DescribeVpcBlockPublicAccessOptions": cloud.gateway.bpa.describe,
            "ModifyVpcBlockPublicAccessOptions": cloud.gateway.bpa.modify,
        }
        self.busy = BusyDetach(self)   # DetachVolume of a volume still mounted inside

    # entry points ------------------------------------------------------------------
    def handle(self, backend, call: Call) -> bytes | None:
        """The answer for actions the cloud owns; None sends the call on to moto."""
        if call.params.get("DryRun", "").lower() == "true":
            return None
        if call.action == "RunInstances":
            ec2rules.decode_user_data(call.params.get("UserData"))
        handler = self._handlers.get(call.action)
        return handler(backend, call) if handler else None

    def after(self, backend, call: Call, known_instances: set[str]) -> None:
        ec2_kms.drop_refused_volume(backend, call)
        self.reconcile_disks(backend)
        if call.action == "RunInstances":
            for instance in backend.all_instances():
                if instance.id not in known_instances:
                    self._launch(instance, call)

    def decorate(self, backend, call: Call, payload: bytes) -> bytes:
        """What moto leaves out of its answers: the product codes of DescribeImages."""
        if call.action != "DescribeImages":
            return payload
        text = payload.decode()
        for ami in backend.amis.values():
            if ami.product_codes and f"<imageId>{ami.id}</imageId>" in text:
                codes = "".join(f"<item><productCode>{c}</productCode><type>marketplace</type></item>"
                                for c in sorted(ami.product_codes))
                text = re.sub(rf"(<imageId>{ami.id}</imageId>(?:(?!</imageId>).)*?)<productCodes/>",
                              lambda m: f"{m.group(1)}<productCodes>{codes}</productCodes>", text, flags=re.S)
        return text.encode()

    # instances ---------------------------------------------------------------------
    def _record(self, instance) -> InstanceRecord:
        rec = self.records.get(instance.id)
        if rec is None:
            workdir = self.cloud.state_dir / "instances" / instance.id
            workdir.mkdir(parents=True, exist_ok=True)
            rec = InstanceRecord(instance.id, workdir)
            rec.console.touch()
            self.records[instance.id] = rec
        return rec

    def _launch(self, instance, call: Call) -> None:
        rec = self._record(instance)
        rec.user_data = ec2rules.decode_user_data(call.params.get("UserData"))
        # moto ignores these two launch parameters
        if call.params.get("DisableApiTermination", "").lower() == "true":
            instance.disable_api_termination = True
        if call.params.get("InstanceInitiatedShutdownBehavior"):
            instance.instance_initiated_shutdown_behavior = call.params["InstanceInitiatedShutdownBehavior"]
        root = instance.block_device_mapping.get(instance.root_device_name)
        seed = self.cloud.seed_for(instance.image_id)
        ami = instance.ec2_backend.amis.get(instance.image_id)
        if ami is not None and ami.root_device_type != "ebs":
            instance.root_device_type = ami.root_device_type   # moto always says "ebs"
        if ami is not None and ami.product_codes:
            instance.product_codes = [{"ProductCodeId": c, "ProductCodeType": "marketplace"}
                                      for c in sorted(ami.product_codes)]
        public_key = None
        if instance.key_name:
            pair = instance.ec2_backend.key_pairs.get(instance.key_name)
            public_key = getattr(pair, "material_public", None) if pair else None
            if isinstance(public_key, bytes):
                public_key = public_key.decode()
        image = self.disks.volume(root.volume_id) if root else None

        def install_key() -> None:
            if seed is not None and public_key and image is not None:
                install_public_key(image, seed.login_user, public_key)

        rec.worker.submit(self._guarded, install_key)
        if not ec2_kms.refuse_launch(self, instance, call, "terminated"):
            self._boot(instance, rec, self.cloud.profile.run, "RunInstances")

    def _boot(self, instance, rec: InstanceRecord, delay: float, action: str) -> None:
        """pending for the profile's delay; then the runtime starts (the OS boots, user-data and
        per-boot scripts run) and the instance is running.

        The OS boots only once EC2 has placed and started the instance: nothing inside it runs
        while it is `pending` (EC2 user guide, "Instance state changes": pending is "preparing to
        enter the running state"; cloud-init runs user-data during the OS's boot). Starting the
        runtime at the launch let a rescue host report ready before it could have on EC2."""
        instance._state = InstanceState("pending", 0)
        began = time.monotonic()
        stall = self.cloud.faults.take(action, ("stall",))
        slow = self.cloud.faults.take(action, ("slow-boot",))
        spec = self._spec(instance, rec)
        late = delay + (slow.seconds if slow is not None else 0.0)

        def start_runtime() -> None:
            waited = time.monotonic() - began
            if self.cloud.runtimes.wait_closed(max(0.0, late - waited)):
                return   # the cloud is stopping: nothing boots any more
            if spec is not None:
                runtime = self.cloud.new_runtime(rec.workdir)
                if runtime is None:
                    log.info("%s: not started, the cloud is stopping", rec.instance_id)
                    return
                rec.runtime = runtime
                runtime.start(spec)
                rec.runtime_up = True
            # The pending delay is behind us already: running as soon as the runtime is up.
            self.cloud.later(0.0, stall, lambda: self._set_state(instance, "pending", "running"))

        rec.worker.submit(self._guarded, start_runtime)

    def _spec(self, instance, rec: InstanceRecord) -> LaunchSpec | None:
        if self.cloud.runtime_kind is None:
            return None
        root = instance.block_device_mapping.get(instance.root_device_name)
        if root is None or first_partition(self.disks.volume(root.volume_id)) is None:
            return None   # nothing bootable: the instance "runs" without running anything
        others = tuple(Volume(b.volume_id, self.disks.volume(b.volume_id), dev)
                       for dev, b in instance.block_device_mapping.items()
                       if dev != instance.root_device_name and b.status != "attaching")
        return LaunchSpec(instance_id=instance.id,
                          root=Volume(root.volume_id, self.disks.volume(root.volume_id), instance.root_device_name),
                          volumes=others, user_data=rec.user_data, console_log=rec.console,
                          cloud_endpoint=self.cloud.endpoint, nitro=is_nitro(instance.instance_type),
                          network=self.cloud.gateway.network_for(instance),
                          instance_store=instance_store.disks_for(instance.ec2_backend, instance.instance_type,
                                                                  instance.id, rec.workdir))

    def _halt(self, instance, rec: InstanceRecord, delay: float, action: str, final: Callable[[], None],
              force: bool) -> None:
        """The runtime stops; `final` runs once both the delay and the stop are done."""
        began = time.monotonic()
        stall = self.cloud.faults.take(action, ("stall",))

        def stop_runtime() -> None:
            rec.runtime_up = False
            if rec.runtime is not None:
                rec.runtime.stop(force=force)
            remaining = max(0.0, delay - (time.monotonic() - began))
            self.cloud.later(remaining, stall, final)

        rec.worker.submit(self._guarded, stop_runtime)

    @staticmethod
    def _set_state(instance, expected: str, new: str) -> None:
        if instance.state == expected:
            instance._state = InstanceState(new, ec2rules.STATE_CODES[new])

    @staticmethod
    def _guarded(fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:
            log.exception("instance work failed")

    def _start(self, backend, call: Call) -> bytes:
        instances = backend.get_multi_instances_by_id(_ids(call.params, "InstanceId"))
        for instance in instances:
            ec2rules.check_start(instance)
        changes = []
        for instance in instances:
            prev = instance.state
            if prev == "stopped":
                self.start_now(instance, "StartInstances", call)
            changes.append((instance.id, prev, instance.state))
        return ec2xml.state_changes("StartInstances", changes)

    def start_now(self, instance, action: str, call: Call | None = None) -> None:
        """A stopped instance starts: StartInstances (`call`, whose caller must be able to use the
        volumes' KMS keys), or EC2 itself for a Spot Instance."""
        instance.start()
        publicip.after_start(instance.ec2_backend, instance)
        if call is not None and ec2_kms.refuse_launch(self, instance, call, "stopped"):
            return
        self._boot(instance, self._record(instance), self.cloud.profile.start, action)

    def _stop(self, backend, call: Call) -> bytes:
        instances = backend.get_multi_instances_by_id(_ids(call.params, "InstanceId"))
        for instance in instances:
            ami = backend.amis.get(instance.image_id)
            ec2rules.check_stop(instance, getattr(ami, "root_device_type", "ebs"))
        reasons = {i.id: statereason.stop_reason(i, call.params) for i in instances}
        force = call.params.get("Force", "").lower() == "true"
        changes = []
        for instance in instances:
            prev = instance.state
            if prev == "running":
                self._stop_instance(instance, "StopInstances", force, reasons[instance.id])
            changes.append((instance.id, prev, instance.state))
        return ec2xml.state_changes("StopInstances", changes)

    def _stop_instance(self, instance, action: str, force: bool = False,
                       reason: tuple[str, str] = statereason.USER_SHUTDOWN) -> None:
        instance._state = InstanceState("stopping", 64)
        statereason.set_reason(instance, reason)

        def final() -> None:
            if instance.state == "stopping":
                instance.stop()
                statereason.set_reason(instance, reason)   # moto's stop() says UserInitiatedShutdown
                publicip.after_stop(instance.ec2_backend, instance)

        self._halt(instance, self._record(instance), self.cloud.profile.stop, action, final, force)

    def stop_with_reason(self, instance, action: str, reason: tuple[str, str]) -> None:
        """EC2 itself stops a running instance (a Spot interruption)."""
        self._stop_instance(instance, action, False, reason)

    def terminate_now(self, backend, instance, action: str) -> None:
        self._terminate_instance(backend, instance, action)

    def _terminate(self, backend, call: Call) -> bytes:
        instances = backend.get_multi_instances_by_id(_ids(call.params, "InstanceId"))
        for instance in instances:
            ec2rules.check_terminate(instance)
        changes = []
        for instance in instances:
            prev = instance.state
            if prev not in ("shutting-down", "terminated"):
                self._terminate_instance(backend, instance, "TerminateInstances")
            changes.append((instance.id, prev, instance.state))
        return ec2xml.state_changes("TerminateInstances", changes)

    def _terminate_instance(self, backend, instance, action: str) -> None:
        instance._state = InstanceState("shutting-down", 32)

        rec = self._record(instance)

        def final() -> None:
            instance.terminate()
            self.reconcile_disks(backend)
            rec.worker.shutdown(wait=False)   # nothing more runs for a terminated instance

        self._halt(instance, rec, self.cloud.profile.terminate, action, final, True)

    def check_self_shutdowns(self, backend) -> None:
        """An instance whose runtime ended by itself (poweroff inside) stops or terminates."""
        for rec in list(self.records.values()):
            if not rec.runtime_up or rec.runtime is None or rec.runtime.is_running():
                continue
            instance = backend.get_instance_by_id(rec.instance_id)
            if instance is None or instance.state != "running":
                continue
            rec.runtime_up = False
            if instance.instance_initiated_shutdown_behavior == "terminate":
                self._terminate_instance(backend, instance, "InstanceInitiatedShutdown")
            else:
                self._stop_instance(instance, "InstanceInitiatedShutdown", reason=statereason.INSTANCE_SHUTDOWN)

    def _console(self, backend, call: Call) -> bytes:
        instance = backend.get_instance(call.params.get("InstanceId", ""))
        rec = self.records.get(instance.id)
        return self.cloud.api.console.output(instance, rec.console if rec else None,
                                             call.params.get("Latest", "").lower() == "true")

    def describe_runtimes(self) -> list[dict]:
        """GET /_localcloud/instances: where each instance runs and its ssh port, if any."""
        out = []
        for rec in self.records.values():
            ssh = rec.runtime.ssh_endpoint() if rec.runtime_up and rec.runtime is not None else None
            out.append({"instance_id": rec.instance_id, "running": bool(rec.runtime_up),
                        "ssh": list(ssh) if ssh else None, "console_log": str(rec.console)})
        return out

    # shutdown ------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stops every runtime the cloud made. The registry closes first (no boot starts one after
        that), then every worker finishes what it is doing (a boot under way completes), so the
        list of runtimes is final when they are stopped: a terminated instance's too, in case
        its boot came after its stop was decided."""
        with self.cloud.lock:
            self.cloud.runtimes.close()
            records = list(self.records.values())
        for rec in records:
            rec.worker.shutdown(wait=True, cancel_futures=True)
        made = self.cloud.runtimes.close()   # now complete: every boot has returned
        for runtime in made:
            self._guarded(lambda r=runtime: r.stop(force=True))
