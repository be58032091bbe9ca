"""Run Command's records as SSM reports them: commands, their invocations, and their JSON shapes.

Statuses and output limits from the SSM API reference (GetCommandInvocation,
https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetCommandInvocation.html):
StandardOutputContent is "the first 24,000 characters written by the plugin to stdout" and
StandardErrorContent "the first 8,000 characters written by the plugin to stderr", both empty
until the command finishes; a ResponseCode of -1 means the command "hasn't started running".
Status pairs from "Understanding command statuses" (Systems Manager user guide,
https://docs.aws.amazon.com/systems-manager/latest/userguide/monitor-commands.html).
"""
from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

DOCUMENT = "AWS-RunShellScript"
PLUGIN = "aws:runShellScript"
STDOUT_LIMIT = 24_000
STDERR_LIMIT = 8_000
DEFAULT_EXECUTION_TIMEOUT = 3600      # AWS-RunShellScript's executionTimeout default
MAX_EXECUTION_TIMEOUT = 172_800       # its allowed maximum (48 hours)
DEFAULT_DELIVERY_TIMEOUT = 3600       # SendCommand TimeoutSeconds default

# Status → StatusDetails of a finished (or waiting) invocation.
TERMINAL = {"Success": "Success", "Failed": "Failed", "TimedOut": "ExecutionTimedOut",
            "Cancelled": "Cancelled", "DeliveryTimedOut": "DeliveryTimedOut"}


@dataclass
class Invocation:
    command_id: str
    instance_id: str
    status: str = "Pending"
    details: str = "Pending"
    response_code: int = -1
    stdout: str = ""
    stderr: str = ""
    started: float | None = None
    finished: float | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def done(self) -> bool:
        return self.status in ("Success", "Failed", "TimedOut", "Cancelled")

    def finish(self, status: str, code: int, stdout: str = "", stderr: str = "") -> None:
        if self.done:
            return
        self.status = "TimedOut" if status == "DeliveryTimedOut" else status
        self.details = TERMINAL[status]
        self.response_code = code
        self.stdout, self.stderr = stdout[:STDOUT_LIMIT], stderr[:STDERR_LIMIT]
        self.finished = time.time()


@dataclass
class Command:
    command_id: str
    instance_ids: list[str]
    commands: list[str]
    working_directory: str
    execution_timeout: int
    delivery_timeout: int
    comment: str
    parameters: dict
    requested: float = field(default_factory=time.time)
    invocations: dict[str, Invocation] = field(default_factory=dict)

    @staticmethod
    def new(instance_ids: list[str], parameters: dict, comment: str, delivery_timeout: int) -> "Command":
        command = Command(str(uuid.uuid4()), instance_ids, list(parameters["commands"]),
                          (parameters.get("workingDirectory") or [""])[0],
                          int((parameters.get("executionTimeout") or [DEFAULT_EXECUTION_TIMEOUT])[0]),
                          delivery_timeout, comment, parameters)
        command.invocations = {i: Invocation(command.command_id, i) for i in instance_ids}
        return command

    def status(self) -> str:
        states = [i.status for i in self.invocations.values()]
        if all(s == "Pending" for s in states):
            return "Pending"
        if not all(i.done for i in self.invocations.values()):
            return "InProgress"
        for s in ("Cancelled", "TimedOut", "Failed"):
            if s in states:
                return s
        return "Success"


def check_parameters(parameters) -> str | None:
    """Why AWS-RunShellScript's parameters are not valid, or None."""
    if not isinstance(parameters, dict) or not isinstance(parameters.get("commands"), list) \
            or not parameters["commands"] or not all(isinstance(c, str) for c in parameters["commands"]):
        return "Parameters must include commands, a non-empty list of strings (AWS-RunShellScript)."
    unknown = set(parameters) - {"commands", "workingDirectory", "executionTimeout"}
    if unknown:
        return f"Parameters {sorted(unknown)} are not defined by AWS-RunShellScript (commands, workingDirectory, executionTimeout)."
    timeout = (parameters.get("executionTimeout") or [str(DEFAULT_EXECUTION_TIMEOUT)])[0]
    if not str(timeout).isdigit() or not 1 <= int(timeout) <= MAX_EXECUTION_TIMEOUT:
        return f"executionTimeout must be a whole number of seconds from 1 to {MAX_EXECUTION_TIMEOUT}, got {timeout!r}."
    return None


def invocation_json(command: Command, inv: Invocation) -> dict:
    """GetCommandInvocation's answer."""
    now = time.time()
    elapsed = (inv.finished or now) - inv.started if inv.started else 0
    return {"CommandId": command.command_id, "InstanceId": inv.instance_id, "Comment": command.comment,
            "DocumentName": DOCUMENT, "DocumentVersion": "1", "PluginName": PLUGIN,
            "ResponseCode": inv.response_code,
            "ExecutionStartDateTime": _iso(inv.started), "ExecutionEndDateTime": _iso(inv.finished),
            "ExecutionElapsedTime": f"PT{elapsed:.3f}S" if inv.started else "",
            "Status": inv.status, "StatusDetails": inv.details,
            "StandardOutputContent": inv.stdout if inv.done else "", "StandardOutputUrl": "",
            "StandardErrorContent": inv.stderr if inv.done else "", "StandardErrorUrl": "",
            "CloudWatchOutputConfig": {"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": False}}


def list_invocation_json(command: Command, inv: Invocation, details: bool) -> dict:
    """An entry of ListCommandInvocations; CommandPlugins only with Details=true."""
    out = {"CommandId": command.command_id, "InstanceId": inv.instance_id, "InstanceName": "",
           "Comment": command.comment, "DocumentName": DOCUMENT, "DocumentVersion": "1",
           "RequestedDateTime": command.requested, "Status": inv.status, "StatusDetails": inv.details,
           "TraceOutput": "", "StandardOutputUrl": "", "StandardErrorUrl": "", "CommandPlugins": [],
           "ServiceRole": "", "NotificationConfig": {},
           "CloudWatchOutputConfig": {"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": False}}
    if details:
        out["CommandPlugins"] = [{
            "Name": PLUGIN, "Status": inv.status, "StatusDetails": inv.details, "ResponseCode": inv.response_code,
            **({"ResponseStartDateTime": inv.started} if inv.started else {}),
            **({"ResponseFinishDateTime": inv.finished} if inv.finished else {}),
            "Output": _plugin_output(inv) if inv.done else "", "StandardOutputUrl": "", "StandardErrorUrl": "",
            "OutputS3Region": "", "OutputS3BucketName": "", "OutputS3KeyPrefix": ""}]
    return out


def command_json(command: Command) -> dict:
    """The Command of SendCommand's and ListCommands' answers."""
    invs = command.invocations.values()
    return {"CommandId": command.command_id, "DocumentName": DOCUMENT, "DocumentVersion": "$DEFAULT",
            "Comment": command.comment, "ExpiresAfter": command.requested + command.delivery_timeout,
            "Parameters": command.parameters, "InstanceIds": command.instance_ids, "Targets": [],
            "RequestedDateTime": command.requested, "Status": command.status(),
            "StatusDetails": command.status(), "OutputS3Region": "", "OutputS3BucketName": "",
            "OutputS3KeyPrefix": "", "MaxConcurrency": "50", "MaxErrors": "0",
            "TargetCount": len(command.invocations), "CompletedCount": sum(1 for i in invs if i.done),
            "ErrorCount": sum(1 for i in invs if i.status in ("Failed", "TimedOut")),
            "DeliveryTimedOutCount": sum(1 for i in invs if i.details == "DeliveryTimedOut"),
            "ServiceRole": "", "NotificationConfig": {}, "TimeoutSeconds": command.delivery_timeout,
            "CloudWatchOutputConfig": {"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": False}}


def _plugin_output(inv: Invocation) -> str:
    # The agent's plugin output: stdout, then "----------ERROR-------" and stderr when there is any.
    return inv.stdout + (f"\n----------ERROR-------\n{inv.stderr}" if inv.stderr else "")


def _iso(t: float | None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int((t % 1) * 1000):03d}Z" if t else ""
