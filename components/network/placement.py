"""Where replicas run: subnets and availability zones that offer the instance type, replicas spread over them.

``lookup_network`` and ``offered_zones`` are AWS lookups (invokes: answered by mocks offline); ``spread`` is
pure. All of it runs before any resource is registered, so a zone without the instance type is bad input.

The spread only chooses where a *new* replica's cache volume is created. A host then runs in the zone its
cache volume actually is in (:func:`follow_cache`, on the volume's ``availability_zone`` output): the volume
ignores later zone choices (``ModelCache``), and an instance in another zone could never attach it. So zones
appearing or disappearing in the offerings, which change the spread at every preview, never move a replica.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ..config.sections import NetworkConfig
from ..errors import ConfigError, key_path


@dataclass(frozen=True)
class Zone:
    name: str
    subnet_id: str


@dataclass(frozen=True)
class HostZones:
    """Where one model's (or the monitoring) hosts may run, and where each new host's cache goes."""

    usable: tuple[Zone, ...]  # every zone with a host subnet that offers the instance type
    spread: tuple[Zone, ...]  # one per host: the zone a new cache volume is created in

    @property
    def subnets(self) -> dict[str, str]:
        """AZ -> host subnet, for every usable zone."""
        return {zone.name: zone.subnet_id for zone in self.usable}


@dataclass(frozen=True)
class Network:
    vpc_id: str
    host_subnets: Mapping[str, str]  # subnet id -> AZ, where GPU hosts go
    public_subnets: Mapping[str, str]  # subnet id -> AZ, for the load balancer
    is_default_vpc: bool

    @property
    def hosts_need_public_ip(self) -> bool:
        # Default-VPC subnets have no NAT: hosts reach Docker Hub and Hugging Face through a public IP,
        # while their security group still admits nothing from outside.
        return self.is_default_vpc


def lookup_network(network: NetworkConfig) -> Network:
    """Resolve the configured VPC and subnets (or the region's default VPC) with their AZs."""
    if network.vpc_id is None:
        vpc_id = aws.ec2.get_vpc(default=True).id
        defaults = aws.ec2.get_subnets(
            filters=[{"name": "vpc-id", "values": [vpc_id]}, {"name": "default-for-az", "values": ["true"]}]
        ).ids
        zones = {subnet: aws.ec2.get_subnet(id=subnet).availability_zone for subnet in defaults}
        return Network(vpc_id=vpc_id, host_subnets=zones, public_subnets=zones, is_default_vpc=True)

    def zones_of(ids: Sequence[str] | None) -> dict[str, str]:
        return {subnet: aws.ec2.get_subnet(id=subnet).availability_zone for subnet in ids or ()}

    private = zones_of(network.private_subnet_ids)
    public = zones_of(network.public_subnet_ids)
    return Network(
        vpc_id=network.vpc_id, host_subnets=private or public, public_subnets=public or private, is_default_vpc=False
    )


def offered_zones(instance_type: str) -> set[str]:
    offerings = aws.ec2.get_instance_type_offerings(
        location_type="availability-zone", filters=[{"name": "instance-type", "values": [instance_type]}]
    )
    return set(offerings.locations)


def usable_zones(host_subnets: Mapping[str, str], offered: set[str]) -> list[Zone]:
    """One subnet per AZ that offers the type (the lowest subnet id, so the choice is stable)."""
    by_zone: dict[str, str] = {}
    for subnet, zone in sorted(host_subnets.items()):
        if zone in offered:
            by_zone.setdefault(zone, subnet)
    return [Zone(name=zone, subnet_id=subnet) for zone, subnet in sorted(by_zone.items())]


def spread(replicas: int, zones: Sequence[Zone]) -> list[Zone]:
    """Replica r goes to zone r mod n: replicas of one model land in different AZs while there are enough."""
    return [zones[replica % len(zones)] for replica in range(replicas)]


def place_model(
    model_index: int, instance_type: str, replicas: int, network: Network, config: NetworkConfig
) -> HostZones:
    offered = offered_zones(instance_type)
    zones = usable_zones(network.host_subnets, offered)
    if not zones:
        subnet_key = "privateSubnetIds" if config.private_subnet_ids else "publicSubnetIds"
        path = key_path(("network", subnet_key)) if config.vpc_id else key_path(("models", model_index, "instanceType"))
        value = sorted(network.host_subnets) if config.vpc_id else instance_type
        raise ConfigError.single(
            path,
            value,
            f"{instance_type} is not offered in any AZ of the host subnets "
            f"({', '.join(sorted(set(network.host_subnets.values())))})",
            f"use subnets in {', '.join(sorted(offered)) or 'a region that offers it'}, or another instance type",
        )
    return HostZones(usable=tuple(zones), spread=tuple(spread(replicas, zones)))


def place_monitoring(instance_type: str, network: Network) -> HostZones:
    """The dedicated monitoring host's data volume starts in the first zone (by name) that offers its type."""
    zones = usable_zones(network.host_subnets, offered_zones(instance_type))
    if not zones:
        raise ConfigError.single(
            key_path(("monitoring", "instanceType")),
            instance_type,
            "is not offered in any AZ of the host subnets",
            "use a common type such as t3.medium, or subnets in other zones",
        )
    return HostZones(usable=tuple(zones), spread=(zones[0],))


def subnet_for_cache(cache_zone: str, subnets: Mapping[str, str], host: str, instance_type: str) -> str:
    """The host subnet in the zone ``host``'s cache volume is in; the host can run nowhere else."""
    if cache_zone in subnets:
        return subnets[cache_zone]
    raise ConfigError.single(
        f"{host} (cache volume zone)",
        cache_zone,
        f"is where {host}'s cache volume is, but no host subnet there offers {instance_type} "
        f"(usable zones: {', '.join(sorted(subnets)) or 'none'}); an instance can only attach a volume in its "
        "own zone",
        f"choose an instance type offered in {cache_zone}, or give the hosts a subnet in {cache_zone}",
    )


def follow_cache(
    cache_zone: pulumi.Output[str], subnets: Mapping[str, str], host: str, instance_type: str
) -> pulumi.Output[str]:
    """:func:`subnet_for_cache` on the volume's actual zone (from state once it exists), failing the preview
    with the config message (no traceback) when the host cannot run there."""

    def pick(zone: str) -> str:
        try:
            return subnet_for_cache(zone, subnets, host, instance_type)
        except ConfigError as error:
            raise pulumi.RunError(str(error)) from None

    return cache_zone.apply(pick)


def load_balancer_subnets(network: Network, config: NetworkConfig, internal: bool) -> tuple[str, ...]:
    """One subnet per AZ for the ALB (public, or the hosts' subnets when internal); it needs two AZs."""
    candidates = network.host_subnets if internal else network.public_subnets
    by_zone: dict[str, str] = {}
    for subnet, zone in sorted(candidates.items()):
        by_zone.setdefault(zone, subnet)
    if len(by_zone) < 2:
        key = "privateSubnetIds" if internal else "publicSubnetIds"
        raise ConfigError.single(
            key_path(("network", key)),
            sorted(candidates),
            f"covers {len(by_zone)} availability zone(s); an Application Load Balancer needs subnets in two",
            f"add a subnet in another AZ to network.{key}",
        )
    return tuple(subnet for _zone, subnet in sorted(by_zone.items()))
