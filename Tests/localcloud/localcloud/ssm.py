"""SSM Run Command and managed nodes, in place of moto's: moto 5.2.1 lacks DescribeInstanceInformation
and ListCommandInvocations and attaches a SendCommand to every instance of the Region.

Actions answered here (the rest of SSM, e.g. GetParameter, stays moto's): DescribeInstanceInformation,
SendCommand, GetCommandInvocation, ListCommandInvocations, ListCommands, CancelCommand. Shapes and
error codes from the SSM API reference (botocore's model); the document is AWS-RunShellScript only.
"""
from __future__ import annotations

from moto.core.models import DEFAULT_ACCOUNT_ID

from .json_api import JsonError, answer, error, page, read_json
from .account import ec2_backend
from .ssm_agent import Agents
from .ssm_commands import (DEFAULT_DELIVERY_TIMEOUT, DOCUMENT, PLUGIN, Command, check_parameters, command_json,
                           invocation_json, list_invocation_json)

_FILTER_KEYS = {"InstanceIds": "instance", "PingStatus": "ping", "PlatformTypes": "platform",
                "ResourceType": "resource"}


class SSM:
    ACTIONS = ("DescribeInstanceInformation", "SendCommand", "GetCommandInvocation", "ListCommandInvocations",
               "ListCommands", "CancelCommand")

    def __init__(self, cloud) -> None:
        self.cloud = cloud
        self.agents = Agents(cloud)
        self.commands: dict[str, Command] = {}   # by id, in the order sent

    def poll(self, region: str) -> None:
        self.agents.poll(ec2_backend(region))

    def handle(self, environ, start_response, call):
        try:
            body = read_json(environ)
            with self.cloud.lock:
                payload = getattr(self, "_" + call.action)(body, call.region)
        except JsonError as e:
            return error(start_response, e)
        return answer(start_response, payload)

    # managed nodes --------------------------------------------------------------------
    def _DescribeInstanceInformation(self, body: dict, region: str) -> dict:
        wanted: dict[str, set[str]] = {}
        for f in body.get("InstanceInformationFilterList") or []:
            self._filter(wanted, f.get("key"), f.get("valueSet"))
        for f in body.get("Filters") or []:
            self._filter(wanted, f.get("Key"), f.get("Values"))
        nodes = [n for n in self.agents.nodes.values() if n.region == region
                 and n.instance_id in wanted.get("InstanceIds", {n.instance_id})
                 and n.ping in wanted.get("PingStatus", {n.ping})
                 and "Linux" in wanted.get("PlatformTypes", {"Linux"})
                 and "EC2Instance" in wanted.get("ResourceType", {"EC2Instance"})]
        items, token = page(nodes, body, 50, 5, 50)
        out = {"InstanceInformationList": [self._node_json(n) for n in items]}
        return out | ({"NextToken": token} if token else {})

    @staticmethod
    def _filter(wanted: dict, key, values) -> None:
        if key not in _FILTER_KEYS:
            raise JsonError("InvalidFilterKey", f"Filter key {key!r} is not supported by the local cloud: "
                            f"use one of {', '.join(_FILTER_KEYS)}.")
        if not isinstance(values, list) or not values:
            raise JsonError("InvalidInstanceInformationFilterValue", f"Filter {key} needs a non-empty list of values.")
        wanted[key] = set(values)

    @staticmethod
    def _node_json(n) -> dict:
        return {"InstanceId": n.instance_id, "PingStatus": n.ping, "LastPingDateTime": n.last_ping,
                "AgentVersion": "3.3.1142.0", "IsLatestVersion": False, "PlatformType": "Linux",
                "PlatformName": n.platform_name, "PlatformVersion": n.platform_version,
                "IamRole": n.role_arn.rsplit("/", 1)[-1], "RegistrationDate": n.registered,
                "ResourceType": "EC2Instance", "IPAddress": n.ip,
                "ComputerName": f"ip-{n.ip.replace('.', '-')}.ec2.internal", "SourceId": n.instance_id,
                "SourceType": "AWS::EC2::Instance"}

    # Run Command ----------------------------------------------------------------------
    def _SendCommand(self, body: dict, region: str) -> dict:
        if body.get("DocumentName") != DOCUMENT:
            raise JsonError("InvalidDocument", f"Document {body.get('DocumentName')!r} is not supported by the "
                            f"local cloud: send {DOCUMENT}.")
        ids = list(body.get("InstanceIds") or [])
        for target in body.get("Targets") or []:
            if target.get("Key") != "InstanceIds":
                raise JsonError("InvalidParameters", "The local cloud supports Targets only with Key InstanceIds; "
                                "name the instances in InstanceIds.")
            ids += target.get("Values") or []
        if not ids:
            raise JsonError("ValidationException", "Send InstanceIds (or Targets with Key InstanceIds).")
        if len(set(ids)) != len(ids):
            raise JsonError("DuplicateInstanceId", "You can't specify a managed node ID more than once.")
        if len(ids) > 50:
            raise JsonError("ValidationException", "InstanceIds takes at most 50 IDs; use Targets for more.")
        unknown = [i for i in ids if i not in self.agents.nodes or self.agents.nodes[i].region != region]
        if unknown:
            raise JsonError("InvalidInstanceId", f"Instances {unknown} not in a valid state for account {DEFAULT_ACCOUNT_ID}")
        parameters = body.get("Parameters") or {}
        why = check_parameters(parameters)
        if why:
            raise JsonError("InvalidParameters", why)
        timeout = body.get("TimeoutSeconds", DEFAULT_DELIVERY_TIMEOUT)
        if not isinstance(timeout, int) or not 30 <= timeout <= 2592000:
            raise JsonError("ValidationException", f"TimeoutSeconds must be from 30 to 2592000, got {timeout!r}.")
        command = Command.new(ids, parameters, str(body.get("Comment") or ""), timeout)
        self.commands[command.command_id] = command
        stall = self.cloud.faults.take("SendCommand", ("stall",)) is not None
        for inv in command.invocations.values():
            self.agents.deliver(command, inv, stall)
        return {"Command": command_json(command)}

    def _command(self, body: dict) -> Command:
        command = self.commands.get(str(body.get("CommandId")))
        if command is None:
            raise JsonError("InvalidCommandId", f"Command {body.get('CommandId')!r} does not exist.")
        return command

    def _GetCommandInvocation(self, body: dict, region: str) -> dict:
        command = self._command(body)
        if body.get("PluginName") not in (None, PLUGIN):
            raise JsonError("InvalidPluginName", f"Plugin {body.get('PluginName')!r} is not in {DOCUMENT}: {PLUGIN}.")
        inv = command.invocations.get(str(body.get("InstanceId")))
        if inv is None:
            raise JsonError("InvocationDoesNotExist", "An error occurred (InvocationDoesNotExist) when calling the "
                            "GetCommandInvocation operation")
        return invocation_json(command, inv)

    def _selected(self, body: dict) -> list[Command]:
        """The commands a List* call asks for, newest first; a Status filter is the only one known."""
        commands = [self._command(body)] if body.get("CommandId") else list(self.commands.values())
        instance = body.get("InstanceId")
        statuses = set()
        for f in body.get("Filters") or []:
            if f.get("key") != "Status":
                raise JsonError("InvalidFilterKey", f"Filter key {f.get('key')!r} is not supported by the local "
                                "cloud: filter on Status, or filter the answer yourself.")
            statuses.add(f.get("value"))
        return [c for c in reversed(commands) if (instance is None or instance in c.invocations)
                and (not statuses or c.status() in statuses)]

    def _ListCommandInvocations(self, body: dict, region: str) -> dict:
        instance = body.get("InstanceId")
        pairs = [(c, inv) for c in self._selected(body) for inv in c.invocations.values()
                 if instance is None or inv.instance_id == instance]
        items, token = page(pairs, body, 50, 1, 50)
        out = {"CommandInvocations": [list_invocation_json(c, i, bool(body.get("Details"))) for c, i in items]}
        return out | ({"NextToken": token} if token else {})

    def _ListCommands(self, body: dict, region: str) -> dict:
        items, token = page(self._selected(body), body, 50, 1, 50)
        return {"Commands": [command_json(c) for c in items]} | ({"NextToken": token} if token else {})

    def _CancelCommand(self, body: dict, region: str) -> dict:
        command = self._command(body)
        ids = body.get("InstanceIds") or list(command.invocations)
        if len(set(ids)) != len(ids):
            raise JsonError("DuplicateInstanceId", "You can't specify a managed node ID more than once.")
        for instance_id in ids:
            inv = command.invocations.get(instance_id)
            if inv is None:
                raise JsonError("InvalidInstanceId", f"Instance {instance_id} is not a target of command "
                                f"{command.command_id}.")
            if inv.status in ("Pending", "Delayed"):
                inv.finish("Cancelled", -1)
            elif not inv.done:
                inv.status = inv.details = "Cancelling"
                inv.cancel.set()
        return {}
