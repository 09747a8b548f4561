"""Answers to the AWS lookups the program makes, for running it offline under mocks.

The values are placeholders of the right shape (a default VPC with one subnet per AZ, every GPU type offered
in three AZs, a fixed account and AMI). `pulumi preview` asks AWS for the real ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OFFLINE_ACCOUNT_ID = "123456789012"
OFFLINE_AMI_ID = "ami-00000000000000000"
OFFLINE_VPC_ID = "vpc-00000000000000000"


@dataclass
class OfflineAws:
    """Deterministic answers keyed by invoke token. ``offered_zones`` narrows where instance types exist."""

    region: str = "us-east-1"
    zone_letters: str = "abc"
    offered_zones: dict[str, list[str]] = field(default_factory=dict)

    @property
    def zones(self) -> list[str]:
        return [f"{self.region}{letter}" for letter in self.zone_letters]

    def subnet_id(self, zone: str) -> str:
        return f"subnet-0{ord(zone[-1]):016x}"

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
        if token == "aws:ec2/getVpc:getVpc":
            return {"id": args.get("id") or OFFLINE_VPC_ID, "default": True, "cidrBlock": "172.31.0.0/16"}
        if token == "aws:ec2/getSubnets:getSubnets":
            return {"id": "subnets", "ids": [self.subnet_id(zone) for zone in self.zones]}
        if token == "aws:ec2/getSubnet:getSubnet":
            subnet = str(args.get("id"))
            zone = next((z for z in self.zones if self.subnet_id(z) == subnet), self.zones[0])
            return {"id": subnet, "availabilityZone": zone, "vpcId": OFFLINE_VPC_ID}
        if token == "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings":
            wanted = [v for f in args.get("filters", []) if f.get("name") == "instance-type" for v in f["values"]]
            locations = [zone for instance_type in wanted for zone in self.offered_zones.get(instance_type, self.zones)]
            return {
                "id": "offerings",
                "locations": locations,
                "instanceTypes": wanted * len(locations),
                "locationTypes": ["availability-zone"] * len(locations),
            }
        return {}
