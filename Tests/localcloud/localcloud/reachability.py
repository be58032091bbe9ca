"""Would the VPC carry a connection from this instance to the AWS endpoint? A pure reading of
moto's route tables, gateways and endpoints, asked at every request an instance makes.

The rules (Amazon VPC User Guide):
- "Internet gateways": a subnet reaches the internet when its route table routes to an
  internet gateway attached to the VPC, and the instance has a public IPv4 address (or an
  Elastic IP). The subnet's route table is the one explicitly associated with it, else the
  VPC's main route table ("Route tables": "a subnet that is not explicitly associated with a
  route table is implicitly associated with the main route table").
- "NAT gateways": instances in a private subnet reach the internet through a public NAT
  gateway, itself in a public subnet (a route to an internet gateway).
- "Gateway endpoints for Amazon S3": a gateway endpoint for com.amazonaws.REGION.s3 adds a
  route to S3's prefix list in the route tables it is associated with; S3 in that Region is
  then reached without any internet gateway or NAT device.
- "Block public access to VPCs and subnets" (VPC BPA): block-bidirectional blocks all traffic
  to and from internet gateways in the Region; block-ingress blocks internet traffic to the
  VPCs, and "only traffic to and from NAT gateways and egress-only internet gateways is
  allowed because these gateways only allow outbound connections to be established".
"""
from __future__ import annotations

DEFAULT_ROUTE = "0.0.0.0/0"


def route_table_of(backend, subnet):
    tables = [t for t in backend.route_tables.values() if t.vpc_id == subnet.vpc_id]
    explicit = next((t for t in tables if subnet.id in t._associations.values()), None)
    return explicit or next((t for t in tables if t.main_association_id), None)


def _default_route(table):
    return next((r for r in table.routes if r.destination_cidr_block == DEFAULT_ROUTE), None) if table else None


def _attached_igw(route, vpc_id: str) -> bool:
    gateway = getattr(route, "gateway", None) if route else None
    vpc = getattr(gateway, "vpc", None)
    return gateway is not None and gateway.id.startswith("igw-") and vpc is not None and vpc.id == vpc_id


def _s3_endpoint(backend, table, region: str) -> bool:
    name = f"com.amazonaws.{region}.s3"
    return table is not None and any(
        e.service_name == name and (e.vpc_endpoint_type or "Gateway").lower() == "gateway"
        and e.state == "available" and table.id in (e.route_table_ids or [])
        for e in backend.vpc_end_points.values())


def refusal(backend, instance, service: str, bpa_mode: str) -> str | None:
    """None when the VPC carries the connection; else why not, in a sentence for the log."""
    try:
        subnet = backend.get_subnet(instance.subnet_id) if instance.subnet_id else None
    except Exception:   # moto's InvalidSubnetID.NotFound: the subnet is gone
        subnet = None
    if subnet is None:
        return None   # not in a VPC (moto's EC2-Classic): nothing to judge
    table = route_table_of(backend, subnet)
    if service == "s3" and _s3_endpoint(backend, table, backend.region_name):
        return None
    where = f"{instance.id} in {subnet.id} (route table {table.id if table else 'none'})"
    route = _default_route(table)
    if _attached_igw(route, subnet.vpc_id):
        if not instance.public_ip:
            return f"{where}: routes {DEFAULT_ROUTE} to {route.gateway.id} but the instance has no public IPv4"
        if bpa_mode != "off":
            return f"{where}: VPC Block Public Access ({bpa_mode}) blocks {route.gateway.id}"
        return None
    nat = getattr(route, "nat_gateway", None) if route else None
    if nat is not None:
        nat_subnet = backend.get_subnet(nat.subnet_id)
        if nat.state != "available" or getattr(nat, "connectivity_type", "public") == "private":
            return f"{where}: {nat.id} is not an available public NAT gateway"
        if not _attached_igw(_default_route(route_table_of(backend, nat_subnet)), nat_subnet.vpc_id):
            return f"{where}: {nat.id}'s subnet {nat_subnet.id} has no {DEFAULT_ROUTE} route to an internet gateway"
        if bpa_mode == "block-bidirectional":
            return f"{where}: VPC Block Public Access (block-bidirectional) blocks {nat.id}'s internet gateway"
        return None
    endpoint = "no S3 gateway endpoint and " if service == "s3" else ""
    return f"{where}: {endpoint}no {DEFAULT_ROUTE} route to an internet gateway or a NAT gateway"
