"""Responses the local cloud writes itself for the EC2 actions whose timing it owns."""
from __future__ import annotations

import base64
import uuid
from datetime import datetime, timezone
from xml.sax.saxutils import escape

from .ec2rules import STATE_CODES

_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"


def _state(tag: str, name: str) -> str:
    return f"<{tag}><code>{STATE_CODES[name]}</code><name>{name}</name></{tag}>"


def state_changes(action: str, changes: list[tuple[str, str, str]]) -> bytes:
    """StartInstances/StopInstances/TerminateInstances: (instance id, previous, current)."""
    items = "".join(
        f"<item><instanceId>{iid}</instanceId>{_state('currentState', cur)}{_state('previousState', prev)}</item>"
        for iid, prev, cur in changes)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<{action}Response xmlns="{_NS}">'
            f"<requestId>{uuid.uuid4()}</requestId><instancesSet>{items}</instancesSet></{action}Response>").encode()


def attachment(action: str, volume_id: str, instance_id: str, device: str, status: str,
               attach_time: datetime) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<{action}Response xmlns="{_NS}">'
            f"<requestId>{uuid.uuid4()}</requestId><volumeId>{volume_id}</volumeId>"
            f"<instanceId>{instance_id}</instanceId><device>{escape(device)}</device>"
            f"<status>{status}</status><attachTime>{iso(attach_time)}</attachTime></{action}Response>").encode()


def console_output(instance_id: str, text: bytes) -> bytes:
    output = base64.b64encode(text).decode() if text else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<GetConsoleOutputResponse xmlns="{_NS}">'
            f"<requestId>{uuid.uuid4()}</requestId><instanceId>{instance_id}</instanceId>"
            f"<timestamp>{iso(datetime.now(timezone.utc))}</timestamp><output>{output}</output>"
            "</GetConsoleOutputResponse>").encode()


def iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
