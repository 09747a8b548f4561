"""Answers to the AWS lookups the program makes, for running it offline under mocks.

The values are placeholders of the right shape (a default VPC with one subnet per AZ, every GPU type offered
in three AZs, a fixed account and AMI, AWS's default quotas). `pulumi preview` asks AWS for the real ones.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import catalog
from ..catalog import aws_instances
from ..config.schema import SECRET_PLACEHOLDER
from ..quotas import needs as quotas

OFFLINE_ACCOUNT_ID = "123456789012"
OFFLINE_AMI_ID = "ami-00000000000000000"
OFFLINE_VPC_ID = "vpc-00000000000000000"
# The EC2 vCPU quotas differ per account (AWS's default for G and P is 0, and EC2 raises them with usage);
# offline they are this generous placeholder, so every shipped stack plans. Tests lower it, or set
# OfflineAws.quota_values per code.
OFFLINE_VCPU_QUOTA = 100_000.0
QUOTA_TOKEN = "aws:servicequotas/getServiceQuota:getServiceQuota"
SUBNET_TOKEN = "aws:ec2/getSubnet:getSubnet"
VPC_TOKEN = "aws:ec2/getVpc:getVpc"
INSTANCE_TYPE_TOKEN = "aws:ec2/getInstanceType:getInstanceType"


# GPU families EC2 can recover with a CloudWatch alarm action: the accelerated types of the EC2 User Guide's list
# (awsdocs/amazon-ec2-user-guide @e3707c4 ec2-instance-recover.md: G3, G3s, G5g, Inf1, P2, P3, VT1) that the
# catalog holds. Every other catalog family carries instance store volumes, which rule recovery out.
_RECOVERABLE_GPU_FAMILIES = frozenset({"g5g", "p3"})


def offline_auto_recovery(instance_type: str) -> bool:
    """``AutoRecoverySupported`` offline: true only for the catalog's recoverable GPU families (the alarms are
    only created for GPU hosts)."""
    return instance_type.partition(".")[0] in _RECOVERABLE_GPU_FAMILIES


def offline_vcpus(instance_type: str) -> int:
    """GPU types from the catalog; others by AWS's size naming (large = 2 vCPUs, xlarge = 4, Nxlarge = 4N).

    The naming rule matches e.g. the T3 table of the EC2 User Guide ("Key concepts and definitions for burstable
    performance instances": t3.nano-t3.large 2, t3.xlarge 4, t3.2xlarge 8); the few 1-vCPU sizes (t2.micro,
    Graviton .medium) count one too many offline. At preview, DescribeInstanceTypes answers.
    """
    gpu = catalog.instance_types().get(instance_type)
    if gpu is not None:
        return gpu.vcpu
    size = instance_type.partition(".")[2]
    multiple = re.fullmatch(r"(\d*)xlarge", size)
    return 4 * int(multiple.group(1) or 1) if multiple else 2


VOLUME_TYPE = "aws:ebs/volume:Volume"
PRICE_LIST_TOKEN = "aws:pricing/getProduct:getProduct"


@dataclass
class OfflineAws:
    """Deterministic answers keyed by invoke token. ``offered_zones`` narrows where instance types exist.

    ``volume_zones`` stands in for state: EBS volumes (by logical name) that already exist, in that zone.
    A volume ignores later zone choices (``ModelCache``), so its ``availabilityZone`` output is the old one.
    """

    region: str = "us-east-1"
    zone_letters: str = "abc"
    offered_zones: dict[str, list[str]] = field(default_factory=dict)
    quota_values: dict[str, float] = field(default_factory=dict)
    """Applied quota value by quota code; default: AWS's default, or OFFLINE_VCPU_QUOTA for vCPU quotas."""
    quota_error: str | None = None
    """When set, every quota lookup fails with this reason (e.g. the role lacks servicequotas:GetServiceQuota)."""
    describe_error: str | None = None
    """When set, every instance type lookup fails with this reason (the role lacks ec2:DescribeInstanceTypes)."""
    volume_zones: dict[str, str] = field(default_factory=dict)
    hosted_zones: dict[str, str] = field(default_factory=dict)
    """Route 53 zone name by zone id; a zone not listed answers without a name (its domain is not checked)."""
    gpus: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    """EC2's (count, MiB per GPU) of an instance type, where it differs from the catalog's."""
    subnet_zones: dict[str, str] = field(default_factory=dict)
    """The zone of a configured subnet. Others take the next zone in turn (one per zone while there are enough):
    offline nothing knows the user's subnets, so the plan assumes they are spread, and never invents a problem."""
    missing_subnets: set[str] = field(default_factory=set)
    """Subnet ids EC2 does not find in the asked VPC (a typo, or a subnet of another VPC)."""
    no_default_vpc: bool = False
    """The region has no default VPC (its owner deleted it)."""

    @property
    def zones(self) -> list[str]:
        return [f"{self.region}{letter}" for letter in self.zone_letters]

    def subnet_id(self, zone: str) -> str:
        return f"subnet-0{ord(zone[-1]):016x}"

    def quota_value(self, code: str) -> float:
        if code in self.quota_values:
            return self.quota_values[code]
        quota = quotas.BY_CODE[code]
        return OFFLINE_VCPU_QUOTA if quota.unit == "vCPUs" else float(quota.aws_default)

    def described_gpus(self, instance_type: str) -> list[dict[str, Any]]:
        """DescribeInstanceTypes' GpuInfo.Gpus as the data source returns it: the override, else the catalog."""
        record = aws_instances.instance_catalog().get(instance_type)
        default = [(record.gpu_count, record.gpu_memory_mib)] if record is not None and record.gpu_count else []
        return [
            {"count": count, "manufacturer": "NVIDIA", "memorySize": mib, "name": record.gpu if record else ""}
            for count, mib in self.gpus.get(instance_type, default)
        ]

    def failures(self, token: str, args: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Invoke failures as (property, reason) pairs, the shape the mock monitor reports."""
        if token == PRICE_LIST_TOKEN:
            # pricing.source live: the offline plan keeps the snapshot's prices and says so (quotas/live_prices.py).
            return [("", "the offline plan never reads the live AWS Price List; pulumi preview and up do")]
        if token == QUOTA_TOKEN and self.quota_error:
            return [("", self.quota_error)]
        if token == INSTANCE_TYPE_TOKEN and self.describe_error:
            return [("", self.describe_error)]
        if token == SUBNET_TOKEN and args.get("id") in self.missing_subnets:
            # What the data source reports when DescribeSubnets finds nothing (hashicorp/terraform-provider-aws
            # internal/tfresource errors.go SingularDataSourceFindError).
            return [("", "no matching EC2 Subnet found")]
        if token == VPC_TOKEN and self.no_default_vpc and args.get("default"):
            return [("", "no matching EC2 VPC found")]
        return []

    def subnet_zone(self, subnet: str) -> str:
        """The default VPC's subnets are one per zone (subnet_id); a configured one is in subnet_zones, or spread."""
        known = {self.subnet_id(zone): zone for zone in self.zones} | self.subnet_zones
        if subnet not in known:
            self.subnet_zones[subnet] = self.zones[len(self.subnet_zones) % len(self.zones)]
            return self.subnet_zones[subnet]
        return known[subnet]

    def answer(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": OFFLINE_ACCOUNT_ID,
                "arn": f"arn:aws:iam::{OFFLINE_ACCOUNT_ID}:root",
                "id": "x",
                "userId": "x",
            }
        if token == "aws:ssm/getParameter:getParameter":
            return {"name": args.get("name"), "value": OFFLINE_AMI_ID, "type": "String", "id": args.get("name")}
        if token == VPC_TOKEN:
            return {"id": args.get("id") or OFFLINE_VPC_ID, "default": True, "cidrBlock": "172.31.0.0/16"}
        if token == "aws:ec2/getSubnets:getSubnets":
            return {"id": "subnets", "ids": [self.subnet_id(zone) for zone in self.zones]}
        if token == SUBNET_TOKEN:
            subnet = str(args.get("id"))
            return {
                "id": subnet,
                "availabilityZone": self.subnet_zone(subnet),
                "vpcId": args.get("vpcId", OFFLINE_VPC_ID),
            }
        if token == "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings":
            wanted = [v for f in args.get("filters", []) if f.get("name") == "instance-type" for v in f["values"]]
            locations = [zone for instance_type in wanted for zone in self.offered_zones.get(instance_type, self.zones)]
            return {
                "id": "offerings",
                "locations": locations,
                "instanceTypes": wanted * len(locations),
                "locationTypes": ["availability-zone"] * len(locations),
            }
        if token == INSTANCE_TYPE_TOKEN:
            return {
                "id": args["instanceType"],
                "instanceType": args["instanceType"],
                "defaultVcpus": offline_vcpus(args["instanceType"]),
                "autoRecoverySupported": offline_auto_recovery(args["instanceType"]),
                "gpuses": self.described_gpus(str(args["instanceType"])),
            }
        if token == "aws:route53/getZone:getZone":
            zone_id = str(args.get("zoneId"))
            return {"id": zone_id, "zoneId": zone_id, "name": self.hosted_zones.get(zone_id)}
        if token == QUOTA_TOKEN and not self.quota_error:
            code = str(args["quotaCode"])
            quota = quotas.BY_CODE[code]
            return {
                "id": code,
                "quotaCode": code,
                "quotaName": quota.name,
                "serviceCode": quota.service,
                "value": self.quota_value(code),
            }
        return {}


def volume_zones_of(plan_document: Mapping[str, Any]) -> dict[str, str]:
    """The zone of every EBS volume a plan JSON creates: what the state holds once that plan is deployed."""
    return {
        str(resource["name"]): str(resource["inputs"]["availabilityZone"])
        for resource in plan_document.get("resources", [])
        if resource.get("type") == VOLUME_TYPE and "availabilityZone" in resource.get("inputs", {})
    }


# Outputs the program reads that a provider would compute (secrets stay placeholders).
OFFLINE_OUTPUTS: dict[str, dict[str, Any]] = {
    "random:index/randomPassword:RandomPassword": {"result": SECRET_PLACEHOLDER},
    "tls:index/privateKey:PrivateKey": {
        "publicKeyOpenssh": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOfflineOfflineOfflineOfflineOfflineOffline vllm-aws",
        "privateKeyOpenssh": SECRET_PLACEHOLDER,
    },
    "aws:ec2/instance:Instance": {"privateIp": "10.0.0.10", "publicIp": "198.51.100.10"},
    "command:local:Command": {"stdout": "GPU 0: offline"},
}


# AWS ids have shapes the program (and the bootstrap) checks; other ids are "<name>-id".
_ID_PREFIXES = {
    "aws:ebs/volume:Volume": "vol-",
    "aws:ec2/instance:Instance": "i-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
}


# The canonical hosted zone of an ALB, which alias records name (offline: a placeholder of the right shape).
OFFLINE_ALB_ZONE_ID = "Z0OFFLINEALBZONE"


def offline_validation_options(inputs: Mapping[str, Any]) -> list[dict[str, str]]:
    """ACM's validation records, one per name; a wildcard shares its base name's record, as in ACM."""
    names = [str(inputs.get("domainName")), *map(str, inputs.get("subjectAlternativeNames") or ())]
    return [
        {
            "domainName": name,
            "resourceRecordName": f"_offline.{name.removeprefix('*.')}.",
            "resourceRecordType": "CNAME",
            "resourceRecordValue": f"_offline.{name.removeprefix('*.')}.acm-validations.aws.",
        }
        for name in names
    ]


def offline_id(type_: str, name: str) -> str:
    """A stable, well-formed placeholder id for a resource registered offline."""
    prefix = _ID_PREFIXES.get(type_)
    return f"{prefix}{hashlib.sha256(name.encode()).hexdigest()[:17]}" if prefix else f"{name}-id"
