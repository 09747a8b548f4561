"""What AWS says about where hosts may run: the VPC and subnets with their zones, the zones that offer an instance
type (invokes, answered by the mock engine offline), and the zone a cache volume really is in (from state).

Runs before any resource is registered (but :func:`follow_cache`, which waits for the volume). The pure spread
is :mod:`.placement`; its names are re-exported here, so this module (``components.placement`` before #11) still
offers every name it had.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from ..config.sections import LoadBalancerConfig, NetworkConfig
from ..errors import ConfigError, ConfigIssue, key_path
from ..planner.plan import ModelPlan, hosts_for
from .placement import (
    HostZones,
    Network,
    Zone,
    load_balancer_subnets,
    spread,
    subnet_for_cache,
    usable_zones,
)


def invoke_reason(error: Exception) -> str:
    """What AWS answered, without the SDK's wrapping ("invoke of <token> failed: <reason> (<property>)")."""
    text = str(error).removesuffix(" ()")
    return text.split(" failed: ", 1)[1] if text.startswith("invoke of ") and " failed: " in text else text


def lookup_network(network: NetworkConfig) -> Network:
    """Resolve the configured VPC and subnets (or the region's default VPC) with their AZs.

    Raises :class:`ConfigError` naming every listed subnet EC2 does not find in ``network.vpcId``, at once.
    """
    if network.vpc_id is None:
        try:
            vpc = aws.ec2.get_vpc(default=True)
        except Exception as error:  # an invoke failure is a plain Exception: here, no default VPC to read
            raise ConfigError(
                [
                    ConfigIssue(
                        key_path(("network", "vpcId")),
                        None,
                        f"is needed: the region has no default VPC to deploy into ({invoke_reason(error)})",
                        "set network.vpcId and network.publicSubnetIds (and privateSubnetIds for hosts behind a NAT)",
                        origin="not set; defaults to the region's default VPC",
                    )
                ]
            ) from None
        vpc_id = vpc.id
        defaults = aws.ec2.get_subnets(
            filters=[{"name": "vpc-id", "values": [vpc_id]}, {"name": "default-for-az", "values": ["true"]}]
        ).ids
        zones = {subnet: aws.ec2.get_subnet(id=subnet).availability_zone for subnet in defaults}
        return Network(
            vpc_id=vpc_id, cidr_block=vpc.cidr_block, host_subnets=zones, public_subnets=zones, is_default_vpc=True
        )

    issues: list[ConfigIssue] = []

    def zones_of(key: str, ids: Sequence[str] | None) -> dict[str, str]:
        zones: dict[str, str] = {}
        for index, subnet in enumerate(ids or ()):
            # With vpc_id, DescribeSubnets filters on vpc-id: a subnet of another VPC is "not found" like a typo
            # (hashicorp/terraform-provider-aws internal/service/ec2/vpc_subnet_data_source.go, dataSourceSubnetRead).
            try:
                zones[subnet] = aws.ec2.get_subnet(id=subnet, vpc_id=network.vpc_id).availability_zone
            except Exception as error:  # an invoke failure is a plain Exception
                issues.append(
                    ConfigIssue(
                        key_path(("network", key, index)),
                        subnet,
                        f"is not a subnet of network.vpcId ({network.vpc_id}) in this account and region "
                        f"({invoke_reason(error)})",
                        f"list subnets of {network.vpc_id} (`aws ec2 describe-subnets --filters "
                        f"Name=vpc-id,Values={network.vpc_id}`), or set network.vpcId to the subnets' VPC",
                    )
                )
        return zones

    private = zones_of("privateSubnetIds", network.private_subnet_ids)
    public = zones_of("publicSubnetIds", network.public_subnet_ids)
    if issues:
        raise ConfigError(issues)
    return Network(
        vpc_id=network.vpc_id,
        cidr_block=aws.ec2.get_vpc(id=network.vpc_id).cidr_block,
        host_subnets=private or public,
        public_subnets=public or private,
        is_default_vpc=False,
    )


def offered_zones(instance_type: str) -> set[str]:
    offerings = aws.ec2.get_instance_type_offerings(
        location_type="availability-zone", filters=[{"name": "instance-type", "values": [instance_type]}]
    )
    return set(offerings.locations)


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


def place_models(models: Sequence[ModelPlan], network: Network, config: NetworkConfig) -> dict[str, HostZones]:
    """Where each planned model's hosts run (:func:`place_model`), by model name."""
    return {
        model.config.name: place_model(index, model.instance.name, hosts_for(model.config), network, config)
        for index, model in enumerate(models)
    }


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


__all__ = [
    "HostZones",
    "Network",
    "Zone",
    "follow_cache",
    "load_balancer_subnets",
    "lookup_network",
    "offered_zones",
    "place_model",
    "place_models",
    "place_monitoring",
    "spread",
    "subnet_for_cache",
    "usable_zones",
]


def check_hosted_zone(section: LoadBalancerConfig) -> None:
    """The hosted zone exists and holds ``domain``, checked before anything is registered.

    A zone id that names no zone (like the shipped prod's placeholder) fails the lookup here, at `pulumi preview`,
    instead of after the certificate is requested. A zone that does not hold the domain would take the validation
    record, but ACM would never see it: CertificateValidation would wait out its 75 minutes
    (hashicorp/terraform-provider-aws internal/service/acm/certificate_validation.go, create timeout).
    """
    if section.hosted_zone_id is None or section.domain is None:
        return
    zone = aws.route53.get_zone(zone_id=section.hosted_zone_id)
    # Offline the zone has no name (the mocks know no zones): nothing to compare.
    zone_name = (zone.name or "").rstrip(".")
    if zone_name and section.domain != zone_name and not section.domain.endswith(f".{zone_name}"):
        raise ConfigError.single(
            key_path(("loadBalancer", "domain")),
            section.domain,
            f"is not in the hosted zone {section.hosted_zone_id} ({zone_name}), so its validation record and "
            "aliases would never resolve",
            f"use a name under {zone_name}, or the id of the zone that holds {section.domain}",
        )
