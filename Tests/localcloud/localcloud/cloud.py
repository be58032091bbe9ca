"""The local cloud: WSGI middleware around moto's server app, one port for every service.

  request → /_localcloud/* control endpoints
          → call log (action + caller's access key id) → injected faults
          → EC2: preconditions, timed transitions, disks, instances (ec2.py), else moto
          → SSM Run Command and managed nodes (ssm.py), EC2 Instance Connect (instance_connect.py)
          → everything else: moto as is (S3 path-style, SSM parameters, STS, IAM, KMS)
"""
from __future__ import annotations

import io
import json
import logging
import shutil
import socket
import threading
import time
from pathlib import Path

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from . import disk_release, sweep
from . import moto_patches  # noqa: F401  (pending instances, root at the AMI's device name)
from . import key_pairs  # noqa: F401  (EC2's key pair fingerprints)
from .account import SeedAmi, add_internet_gateway, ec2_backend, register_seed_amis
from .autoscaling import AutoScaling
from .calls import CallLog, parse_call
from .ratelimit import RequestLimits
from .control import fault_response, json_response
from .disks import DiskStore
from .ec2 import EC2Layer
from .ec2api import CONTROL as API_CONTROL, ApiRules
from .errors import EC2Error, ec2_error_xml
from .faults import FaultBook
from .instance_connect import InstanceConnect
from .kms_access import create_grant_answer
from .gateway import Gateway
from .profiles import Profile
from .runtime import RuntimeRegistry, runtime_factory
from .scheduler import Scheduler
from .ssm import SSM

log = logging.getLogger("localcloud")


class LocalCloud:
    def __init__(self, state_dir: Path, seed_dir: Path | None, profile: Profile,
                 runtime_kind: str | None = "namespace", endpoint: str = "") -> None:
        self.state_dir = state_dir
        self.seed_dir = seed_dir
        self.profile = profile
        self.runtime_kind = runtime_kind if seed_dir is not None else None
        self.endpoint = endpoint
        self.lock = threading.RLock()
        self.faults = FaultBook()
        self.calls = CallLog()
        self.limits = RequestLimits() if profile.throttles else None
        self.scheduler = Scheduler(self.lock, self.faults)
        self.disks = DiskStore(state_dir)
        self.gateway = Gateway(self)   # what instances reach from inside (VPC routes, BPA)
        self.ec2 = EC2Layer(self)
        self.api = ApiRules(self)
        self.autoscaling = AutoScaling(self)
        self.ssm = SSM(self)                             # Run Command, managed nodes (ssm.py)
        self.instance_connect = InstanceConnect(self)    # SendSSHPublicKey, keys for IMDS
        self.seeds: list[SeedAmi] = []
        self._regions: set[str] = set()
        # Every runtime made, closed at shutdown: no instance starts once the shutdown began.
        self.runtimes = RuntimeRegistry(runtime_factory(self.runtime_kind) if self.runtime_kind else None)
        self.moto = DomainDispatcherApplication(create_backend_app)
        self._closed = threading.Event()
        self._monitor_thread = threading.Thread(target=self._monitor, name="monitor", daemon=True)
        self._monitor_thread.start()

    # services for ec2.py ------------------------------------------------------------------
    def later(self, delay: float, stall, callback) -> None:
        self.scheduler.later(delay, callback, stall)

    def seed_for(self, image_id: str) -> SeedAmi | None:
        return next((s for s in self.seeds if s.image_id == image_id), None)

    def new_runtime(self, workdir: Path):
        """A fresh runtime for one boot; None once the cloud's shutdown began."""
        if self.runtime_kind is None:
            raise RuntimeError("this cloud runs no instances")
        return self.runtimes.new(workdir)

    def ensure_region(self, region: str) -> None:
        with self.lock:
            if region in self._regions:
                return
            backend = ec2_backend(region)
            add_internet_gateway(backend)
            if self.seed_dir is not None:
                for seed in register_seed_amis(region, self.seed_dir):
                    self.seeds.append(seed)
                    ami = backend.amis[seed.image_id]
                    self.disks.snapshot_sources[ami.ebs_snapshot.id] = seed.image
                    if ami.product_codes:
                        self.ec2.marketplace.add(ami.ebs_snapshot.id)
            self._regions.add(region)

    # WSGI -----------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_localcloud/"):
            return self._control(environ, start_response, path[len("/_localcloud/"):])
        body = b""
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
        call = parse_call(environ, body)
        refused = self.gateway.refused(environ, call)
        if refused is not None:   # never reaches AWS: no call-log entry either
            return self.gateway.blackhole(environ, refused)
        entry = self.calls.record(call)
        if call.service == "s3" and body and environ.get("REQUEST_METHOD") == "PUT":
            # curl --data-binary sends application/x-www-form-urlencoded; S3 stores the bytes as
            # they are, moto would parse them as a form and store nothing.
            environ["CONTENT_TYPE"] = "application/octet-stream"

        def recording_start_response(status, headers, exc_info=None):
            entry["status"] = int(status.split()[0])
            return start_response(status, headers, exc_info)

        if self.limits is not None and call.service == "ec2" and not self.limits.admit(call.region, call.action):
            entry["throttled"] = True
            status, headers, payload = fault_response(call, "throttle")
            recording_start_response(status, headers + [("Content-Length", str(len(payload)))])
            return self.calls.answered(entry, [payload])
        launch_errors = ("capacity", "capacity-host", "instance-limit", "vcpu-limit")
        kinds = ("throttle", "500", "503", "delay", "drop") + launch_errors
        if call.params.get("DryRun", "").lower() == "true":
            kinds = tuple(k for k in kinds if k not in launch_errors)   # a DryRun asks about permissions only
        fault = self.faults.take(call.action, kinds)
        if fault is not None:
            if fault.kind == "delay":
                time.sleep(fault.seconds)
            elif fault.kind == "drop":
                entry["status"] = "dropped"
                self._drop(environ)
                return []
            else:
                status, headers, payload = fault_response(call, fault.kind)
                recording_start_response(status, headers + [("Content-Length", str(len(payload)))])
                return self.calls.answered(entry, [payload])
        if call.service in ("ec2", "ssm", "autoscaling"):
            self.ensure_region(call.region)
        if call.service == "ec2":
            return self.calls.answered(entry, self._ec2(environ, recording_start_response, call))
        if call.service == "autoscaling":
            return self.calls.answered(entry, self.autoscaling.handle(environ, recording_start_response, call))
        if call.service == "ssm" and call.action in SSM.ACTIONS:
            return self.calls.answered(entry, self.ssm.handle(environ, recording_start_response, call))
        if call.service == "ec2-instance-connect":
            return self.calls.answered(entry, self.instance_connect.handle(environ, recording_start_response, call))
        refused = create_grant_answer(environ, call)   # KMS CreateGrant: key policy, DryRun
        if refused is not None:
            status, headers, payload = refused
            recording_start_response(status, headers + [("Content-Length", str(len(payload)))])
            return self.calls.answered(entry, [payload])
        return self.calls.answered(entry, self.moto(environ, recording_start_response))

    def _ec2(self, environ, start_response, call):
        with self.lock:
            backend = ec2_backend(call.region)
            try:
                answer = self.api.before(backend, call, lambda query: self._moto_query(environ, query)) \
                    or self.ec2.handle(backend, call)
            except EC2Error as e:
                return self._respond(start_response, e.status, e.body())
            except Exception as e:   # moto's own errors (InvalidInstanceID.NotFound, …) as moto words them
                code = getattr(e, "error_type", None) or getattr(e, "code", None)
                if not isinstance(code, str):
                    raise
                status = getattr(e, "code", 400)
                return self._respond(start_response, status if isinstance(status, int) else 400,
                                     ec2_error_xml(code, getattr(e, "message", str(e))))
            if answer is not None:
                return self._respond(start_response, 200, answer)
            known = {i.id for i in backend.all_instances()}
            captured: dict = {}

            def capture(status, headers, exc_info=None):
                captured["status"], captured["headers"] = status, headers

            payload = b"".join(self.moto(environ, capture))
            if captured.get("status", "").startswith("200"):
                self.ec2.after(backend, call, known)
                payload = self.ec2.decorate(backend, call, payload)
                self.api.after(backend, call, payload)
            headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
            start_response(captured["status"], headers + [("Content-Length", str(len(payload)))])
            return [payload]

    def _moto_query(self, environ, query: str) -> str:
        """moto's answer to an EC2 Query request made on the side (e.g. DescribeInstances)."""
        inner = dict(environ, CONTENT_LENGTH=str(len(query)))
        inner["wsgi.input"] = io.BytesIO(query.encode())
        return b"".join(self.moto(inner, lambda status, headers, exc_info=None: None)).decode()

    @staticmethod
    def _respond(start_response, status: int, body: bytes):
        reason = {200: "OK", 400: "Bad Request", 500: "Internal Server Error", 503: "Service Unavailable"}
        start_response(f"{status} {reason.get(status, 'Error')}",
                       [("Content-Type", "text/xml;charset=UTF-8"), ("Content-Length", str(len(body)))])
        return [body]

    @staticmethod
    def _drop(environ) -> None:
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _control(self, environ, start_response, what: str):
        method = environ.get("REQUEST_METHOD", "GET")
        if what == "faults" and method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                spec = json.loads(environ["wsgi.input"].read(length) or b"{}")
                fault = self.faults.add(spec)
            except (ValueError, TypeError) as e:
                return json_response(start_response, "400 Bad Request", {"error": str(e)})
            return json_response(start_response, "201 Created", fault.__dict__)
        if what == "faults" and method == "GET":
            return json_response(start_response, "200 OK", self.faults.list())
        if what == "faults" and method == "DELETE":
            self.faults.clear()
            return json_response(start_response, "200 OK", [])
        if what == "calls" and method == "GET":
            return json_response(start_response, "200 OK", self.calls.entries())
        if what == "transitions" and method == "GET":
            return json_response(start_response, "200 OK", moto_patches.transitions())
        if what == "reset" and method == "POST":
            self.faults.clear()
            self.calls.clear()
            return json_response(start_response, "200 OK", {"reset": ["faults", "calls"]})
        if what == "amis" and method == "GET":
            return json_response(start_response, "200 OK", [s.as_json() for s in self.seeds])
        if what == "instances" and method == "GET":
            with self.lock:
                return json_response(start_response, "200 OK", self.ec2.describe_runtimes())
        if what in API_CONTROL:
            return self._api_control(environ, start_response, method, what)
        if what == "health":
            return json_response(start_response, "200 OK", {"ok": True, "profile": self.profile.name,
                                                            "instances": self.runtime_kind})
        return json_response(start_response, "404 Not Found", {"error": f"no control endpoint {method} /_localcloud/{what}"})

    def _api_control(self, environ, start_response, method: str, what: str):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            spec = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
            if not isinstance(spec, dict):
                raise ValueError("the body must be a JSON object")
            with self.lock:
                status, payload = self.api.control(self._backend_for, method, what, spec)
        except (ValueError, TypeError) as e:
            return json_response(start_response, "400 Bad Request", {"error": str(e)})
        except Exception as e:   # moto's NotFound for an unknown instance id
            code = getattr(e, "error_type", None) or getattr(e, "code", None)
            if not isinstance(code, str):
                raise
            return json_response(start_response, "400 Bad Request", {"error": f"{code}: {getattr(e, 'message', e)}"})
        return json_response(start_response, status, payload)

    def _backend_for(self, region: str):
        self.ensure_region(region)
        return ec2_backend(region)

    # background -------------------------------------------------------------------------
    def _monitor(self) -> None:
        while not self._closed.wait(0.5):
            try:
                with self.lock:
                    for region in self._regions:
                        self.ec2.check_self_shutdowns(ec2_backend(region))
                        self.autoscaling.check_health(region)
                        self.ssm.poll(region)
                        self.ec2.busy.poll(ec2_backend(region))
            except Exception:
                log.exception("monitor")

    def close(self) -> None:
        """Stops every instance and removes every image: nothing is left behind."""
        self._closed.set()
        self._monitor_thread.join(timeout=5)   # its health checks launch Auto Scaling replacements
        self.scheduler.close()
        self.ec2.shutdown()
        busy = disk_release.drain(20)
        if busy:
            log.error("loop devices still busy at close: %s", ", ".join(busy))
        port = int(self.endpoint.rsplit(":", 1)[1]) if self.endpoint.count(":") == 2 else 0
        left = sweep.sweep(self.state_dir, port)   # whatever escaped the above, by its markers
        if not left.empty():
            log.error("left of this cloud after its shutdown: %s", left)
        shutil.rmtree(self.state_dir, ignore_errors=True)


__all__ = ["LocalCloud", "DEFAULT_ACCOUNT_ID"]
