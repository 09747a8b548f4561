"""Where replicas run: subnets and availability zones that offer the instance type, replicas spread over them.

Pure, no Pulumi: what AWS answers (the network, the zones that offer a type) is looked up by :mod:`.lookup`,
before any resource is registered, so a zone without the instance type is bad input.

The spread only chooses where a *new* replica's cache volume is created. A host then runs in the zone its
cache volume actually is in (:func:`.lookup.follow_cache`, on the volume's ``availability_zone`` output): the volume
ignores later zone choices (``ModelCache``), and an instance in another zone could never attach it. So zones
appearing or disappearing in the offerings, which change the spread at every preview, never move a replica.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from ..config.sections import NetworkConfig
from ..errors import ConfigError, key_path


class HostPlacement(BaseModel):
    """Where one replica host runs (see ``components.network.lookup.place_model`` to compute these)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subnet_id: str
    availability_zone: str


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
    cidr_block: str  # the VPC's primary IPv4 CIDR: where the monitoring host's scrapes may go
    host_subnets: Mapping[str, str]  # subnet id -> AZ, where GPU hosts go
    public_subnets: Mapping[str, str]  # subnet id -> AZ, for the load balancer
    is_default_vpc: bool

    @property
    def hosts_need_public_ip(self) -> bool:
        # Default-VPC subnets have no NAT: hosts reach Docker Hub and Hugging Face through a public IP,
        # while their security group still admits nothing from outside.
        return self.is_default_vpc

    def stack_output(self) -> dict[str, object]:
        """The stack's ``network`` output: where another stack's hosts may go (examples/extra-model reads it)."""
        return {
            "vpcId": self.vpc_id,
            "hostSubnets": dict(self.host_subnets),
            "hostsNeedPublicIp": self.hosts_need_public_ip,
        }


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
