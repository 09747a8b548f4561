"""EC2 rows of the contract table (tests/project/aws_contract_table.py): security groups and their rules, instances,
volumes and attachments. The EC2 model gives most members no constraint, so most limits here are quoted prose."""

from __future__ import annotations

from aws_contract_rules import (
    GP3,
    PA,
    PORT_RANGE,
    PROVIDER_ONLY,
    SG_NAME,
    SG_PAIR_TEXT,
    SG_TEXT,
    TF,
    ec2_tagging,
    gp3,
    gp3_ratios,
    ip_protocol,
    user_data_size,
)
from aws_contracts import (
    ALNUM,
    AutoName,
    Contract,
    Member,
    Rule,
    Source,
    all_of,
    at_most_characters,
    between,
    characters,
    not_prefixed,
)


def _security_group_rule(direction: str) -> Contract:
    operation = f"AuthorizeSecurityGroup{direction}"
    permission = f"{operation}.IpPermissions[]"
    descriptions = (
        ("cidrIpv4", "IpRanges[]", SG_TEXT),
        ("cidrIpv6", "Ipv6Ranges[]", SG_TEXT),
        ("referencedSecurityGroupId", "UserIdGroupPairs[]", SG_PAIR_TEXT),
    )
    return Contract(
        type=f"aws:vpc/securityGroup{direction}Rule:SecurityGroup{direction}Rule",
        service="ec2",
        created_by=f"{operation} with one IpPermission ({TF}ec2/vpc_security_group_{direction.lower()}_rule.go "
        "expandIPPermission)",
        members=(
            Member("securityGroupId", f"{operation}.GroupId"),
            Member("ipProtocol", f"{permission}.IpProtocol"),
            Member("fromPort", f"{permission}.FromPort"),
            Member("toPort", f"{permission}.ToPort"),
            Member("cidrIpv4", f"{permission}.IpRanges[].CidrIp"),
            Member("cidrIpv6", f"{permission}.Ipv6Ranges[].CidrIpv6"),
            Member("referencedSecurityGroupId", f"{permission}.UserIdGroupPairs[].GroupId"),
        ),
        rules=(
            Rule(
                "ipProtocol",
                ip_protocol,
                Source(
                    f"{permission}.IpProtocol",
                    "The IP protocol name (tcp, udp, icmp, icmpv6) or number (see Protocol Numbers). "
                    "Use -1 to specify all protocols.",
                    "ec2",
                ),
            ),
            Rule("fromPort", between(-1, 65535), PORT_RANGE),
            Rule("toPort", between(-1, 65535), PORT_RANGE),
            *(
                Rule(
                    "description",
                    all_of(at_most_characters(255), characters(text)),
                    Source(
                        f"{permission}.{target}.Description",
                        "Up to 255 characters in length. Allowed characters are a-z, A-Z, 0-9, spaces, and "
                        + text.removeprefix(ALNUM + " "),
                        "ec2",
                    ),
                    when=source_input,
                )
                for source_input, target, text in descriptions
            ),
        ),
        tags=ec2_tagging(operation),
    )


EC2_CONTRACTS = (
    Contract(
        type="aws:ec2/securityGroup:SecurityGroup",
        service="ec2",
        created_by=f"CreateSecurityGroup ({TF}ec2/vpc_security_group.go resourceSecurityGroupCreate)",
        members=(Member("vpcId", "CreateSecurityGroup.VpcId"),),
        rules=(
            Rule(
                "description",
                all_of(at_most_characters(255), characters(SG_TEXT)),
                Source(
                    "CreateSecurityGroup.Description",
                    "Up to 255 characters in length Valid characters: a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*",
                    "ec2",
                ),
            ),
        ),
        tags=ec2_tagging("CreateSecurityGroup"),
        auto_name=AutoName(
            "CreateSecurityGroup.GroupName",
            255,
            PA + 'autonaming.go setAutonaming (AutoName("name", 255, "-"))',
            rules=(Rule("", all_of(characters(SG_TEXT), not_prefixed("sg-")), SG_NAME),),
        ),
    ),
    _security_group_rule("Ingress"),
    _security_group_rule("Egress"),
    Contract(
        type="aws:ec2/instance:Instance",
        service="ec2",
        created_by=f"RunInstances ({TF}ec2/ec2_instance.go resourceInstanceCreate)",
        members=(
            Member("ami", "RunInstances.ImageId", note="ami -> ImageId"),
            Member("instanceType", "RunInstances.InstanceType"),
            Member("subnetId", "RunInstances.SubnetId"),
            Member("availabilityZone", "RunInstances.Placement.AvailabilityZone"),
            Member(
                "associatePublicIpAddress",
                "RunInstances.NetworkInterfaces[].AssociatePublicIpAddress",
                note="sent on the primary network interface",
            ),
            Member("vpcSecurityGroupIds[]", "RunInstances.SecurityGroupIds[]"),
            Member("iamInstanceProfile", "RunInstances.IamInstanceProfile.Name"),
            Member("userData", "RunInstances.UserData", note="base64-encoded by the provider"),
            Member("metadataOptions.httpEndpoint", "RunInstances.MetadataOptions.HttpEndpoint"),
            Member("metadataOptions.httpTokens", "RunInstances.MetadataOptions.HttpTokens"),
            Member("metadataOptions.httpPutResponseHopLimit", "RunInstances.MetadataOptions.HttpPutResponseHopLimit"),
            Member(
                "rootBlockDevice.volumeType",
                "RunInstances.BlockDeviceMappings[].Ebs.VolumeType",
                note="root_block_device -> the AMI root device's mapping",
            ),
            Member("rootBlockDevice.volumeSize", "RunInstances.BlockDeviceMappings[].Ebs.VolumeSize"),
            Member("rootBlockDevice.iops", "RunInstances.BlockDeviceMappings[].Ebs.Iops"),
            Member("rootBlockDevice.throughput", "RunInstances.BlockDeviceMappings[].Ebs.Throughput"),
            Member("rootBlockDevice.encrypted", "RunInstances.BlockDeviceMappings[].Ebs.Encrypted"),
            Member("rootBlockDevice.kmsKeyId", "RunInstances.BlockDeviceMappings[].Ebs.KmsKeyId"),
            Member("rootBlockDevice.deleteOnTermination", "RunInstances.BlockDeviceMappings[].Ebs.DeleteOnTermination"),
            Member("instanceMarketOptions.marketType", "RunInstances.InstanceMarketOptions.MarketType"),
            Member(
                "instanceMarketOptions.spotOptions.spotInstanceType",
                "RunInstances.InstanceMarketOptions.SpotOptions.SpotInstanceType",
            ),
            Member(
                "instanceMarketOptions.spotOptions.instanceInterruptionBehavior",
                "RunInstances.InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior",
            ),
        ),
        rules=(
            Rule(
                "metadataOptions.httpPutResponseHopLimit",
                between(1, 64),
                Source(
                    "RunInstances.MetadataOptions.HttpPutResponseHopLimit",
                    "Possible values: Integers from 1 to 64",
                    "ec2",
                ),
            ),
            Rule(
                "rootBlockDevice",
                gp3(lambda device: between(1, 65536)(device.get("volumeSize", 1))),
                Source("RunInstances.BlockDeviceMappings[].Ebs.VolumeSize", "gp3: 1 - 65,536 GiB", "ec2"),
            ),
            Rule(
                "userData",
                user_data_size,
                Source(
                    "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-add-user-data.html",
                    "User data is limited to 16 KB, in raw form, before it is base64-encoded.",
                ),
            ),
        ),
        unchecked={"userDataReplaceOnChange": PROVIDER_ONLY},
        tags=ec2_tagging("RunInstances"),
    ),
    Contract(
        type="aws:ebs/volume:Volume",
        service="ec2",
        created_by=f"CreateVolume ({TF}ec2/ebs_volume.go resourceEBSVolumeCreate)",
        members=(
            Member("availabilityZone", "CreateVolume.AvailabilityZone"),
            Member("size", "CreateVolume.Size"),
            Member("type", "CreateVolume.VolumeType", note="type -> VolumeType"),
            Member("iops", "CreateVolume.Iops"),
            Member("throughput", "CreateVolume.Throughput"),
            Member("encrypted", "CreateVolume.Encrypted"),
            Member("kmsKeyId", "CreateVolume.KmsKeyId"),
            Member("snapshotId", "CreateVolume.SnapshotId"),
        ),
        rules=(
            Rule(
                "",
                gp3(lambda v: between(1, 65536)(v["size"])),
                Source("CreateVolume.Size", "gp3: 1 - 65,536 GiB", "ec2"),
            ),
            Rule(
                "",
                gp3(lambda v: between(3000, 80000)(v.get("iops", 3000))),
                Source("CreateVolume.Iops", "gp3: 3,000 (default) - 80,000 IOPS", "ec2"),
            ),
            Rule(
                "",
                gp3(lambda v: between(125, 2000)(v.get("throughput", 125))),
                Source("CreateVolume.Throughput", "Valid Range: 125 - 2000 MiB/s", "ec2"),
            ),
            Rule(
                "",
                gp3(gp3_ratios),
                Source(GP3, "500 IOPS per GiB of volume size; 0.25 MiB/s of throughput per provisioned IOPS"),
            ),
        ),
        tags=ec2_tagging("CreateVolume"),
        unchecked={"finalSnapshot": PROVIDER_ONLY},
    ),
)
