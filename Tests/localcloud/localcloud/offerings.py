"""Which instance types a zone offers: POST/DELETE /_localcloud/offerings, and RunInstances held to it.

EC2 user guide, "Amazon EC2 instance type offerings" / DescribeInstanceTypeOfferings: not every type is
offered in every Availability Zone. A launch of a type the zone does not offer answers `Unsupported`
("Error codes for the Amazon EC2 API": "The specified request includes an unsupported parameter …"),
worded as EC2 words it: "Your requested instance type (…) is not supported in your requested
Availability Zone (…). Please retry your request by not specifying an Availability Zone or choosing …".

moto answers DescribeInstanceTypeOfferings from a module-level table; a zone set here replaces that
zone's rows (by name and by zone id) and DELETE puts moto's table back. Only zones set here are
enforced at launch: elsewhere moto's lists are informative, as before.
"""
from __future__ import annotations

import copy
import threading

from moto.ec2.models.instance_types import INSTANCE_TYPE_OFFERINGS

from .calls import Call
from .errors import EC2Error

_BY_NAME, _BY_ID = "availability-zone", "availability-zone-id"


class Offerings:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # moto's rows of each (kind, region) changed here, copied when first changed (the whole
        # table is large: copying it at start would slow every start down).
        self._original: dict[tuple[str, str], list[dict]] = {}
        self._set: dict[tuple[str, str], tuple[str, ...]] = {}   # (region, zone) -> types

    def set_zone(self, backend, spec: dict) -> dict:
        region = str(spec.get("region") or "us-east-1")
        zone = spec.get("zone")
        types = spec.get("types")
        zones = {z.name: z.zone_id for z in backend.describe_availability_zones()}
        if zone not in zones:
            raise ValueError(f"zone must be one of {', '.join(sorted(zones))} (region {region}), got {zone!r}")
        if not isinstance(types, list) or not types or not all(isinstance(t, str) and t for t in types):
            raise ValueError('types must be a non-empty list of instance type names, e.g. ["t3.micro"]')
        with self._lock:
            self._set[(region, zone)] = tuple(types)
            for kind, location in ((_BY_NAME, zone), (_BY_ID, zones[zone])):
                current = INSTANCE_TYPE_OFFERINGS[kind].get(region, [])
                self._original.setdefault((kind, region), copy.deepcopy(current))
                rows = [r for r in current if r["Location"] != location]
                rows += [{"InstanceType": t, "Location": location, "LocationType": kind} for t in types]
                INSTANCE_TYPE_OFFERINGS[kind][region] = rows
        return {"region": region, "zone": zone, "types": list(types)}

    def restore(self) -> None:
        with self._lock:
            self._set.clear()
            for (kind, region), rows in self._original.items():
                INSTANCE_TYPE_OFFERINGS[kind][region] = rows
            self._original.clear()

    def check_launch(self, backend, call: Call) -> None:
        if call.action != "RunInstances" or not self._set:
            return
        zone = launch_zone(backend, call)
        instance_type = call.params.get("InstanceType", "m1.small")   # moto's default type, as EC2's
        with self._lock:
            offered = self._set.get((call.region, zone))
            if offered is None or instance_type in offered:
                return
            others = sorted({r["Location"] for r in INSTANCE_TYPE_OFFERINGS[_BY_NAME].get(call.region, [])
                             if r["InstanceType"] == instance_type and r["Location"] != zone})
        raise EC2Error("Unsupported",
                       f"Your requested instance type ({instance_type}) is not supported in your requested "
                       f"Availability Zone ({zone}). Please retry your request by not specifying an Availability "
                       f"Zone or choosing {', '.join(others) or 'another instance type'}.")


def launch_zone(backend, call: Call) -> str:
    """The zone RunInstances launches in: Placement, else the subnet's, else moto's default (REGIONa)."""
    if call.params.get("Placement.AvailabilityZone"):
        return call.params["Placement.AvailabilityZone"]
    subnet_id = call.params.get("SubnetId") or call.params.get("NetworkInterface.1.SubnetId")
    if subnet_id:
        return backend.get_subnet(subnet_id).availability_zone
    return call.region + "a"
