"""What a host may open outbound: HTTPS and HTTP by default (``network.hostEgress: restricted``), or anything.

Security groups are stateful: answers to traffic a group admits leave whatever its egress rules say, so the
load balancer's requests and the scrapes still get their answers; only connections the host opens itself are
limited (Amazon VPC User Guide, "Security group basics": "Responses to allowed inbound traffic are allowed to
leave the instance, regardless of the outbound rules"). A host opens:

- HTTPS (443): Hugging Face and its CDNs (weights), the image registries and their CDNs (Docker Hub, quay.io,
  nvcr.io), the AWS APIs (SSM and the SSM agent's channels, EC2, SNS, STS);
- HTTP (80): the OS package mirrors (the Deep Learning AMI's Ubuntu apt sources are ``http://``, with
  unattended security upgrades); closing it would stop those updates silently, which this repository cannot test;
- DNS to the VPC resolver, NTP to the Amazon Time Sync Service and the instance metadata service: link-local
  services security groups do not filter (same guide: "Security groups do not filter traffic destined to and from
  ... Amazon Domain Name Services (DNS) ... Amazon EC2 instance metadata ... Amazon Time Sync Service"), so they
  need no rule;
- the monitoring host also scrapes the GPU hosts (Monitoring adds that rule: the scrape ports to the VPC's CIDR).

Everything else is closed: another DNS resolver, SMTP, arbitrary ports to the internet.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from .._naming import child_name

HTTPS_PORT = 443
HTTP_PORT = 80
ANYWHERE = "0.0.0.0/0"
EGRESS_RULES = {
    "https": (HTTPS_PORT, "Outbound HTTPS: Hugging Face, image registries, AWS APIs"),
    "http": (HTTP_PORT, "Outbound HTTP: OS package mirrors"),
}


def restricted_egress(
    name: str, security_group_id: pulumi.Output[str], opts: pulumi.ResourceOptions
) -> list[aws.vpc.SecurityGroupEgressRule]:
    """``<host>-egress-https`` and ``<host>-egress-http``: TCP 443 and 80 to anywhere (IPv4)."""
    return [
        aws.vpc.SecurityGroupEgressRule(
            child_name(name, f"egress-{purpose}"),
            security_group_id=security_group_id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            cidr_ipv4=ANYWHERE,
            description=description,
            opts=opts,
        )
        for purpose, (port, description) in EGRESS_RULES.items()
    ]


def open_egress(
    name: str, security_group_id: pulumi.Output[str], parent: pulumi.Resource
) -> aws.vpc.SecurityGroupEgressRule:
    """All outbound traffic (``network.hostEgress: open``): the rule every host had before egress was restricted,
    with its logical name (``<host>-egress``) and parent, so a stack that keeps egress open sees no change."""
    return aws.vpc.SecurityGroupEgressRule(
        child_name(name, "egress"),
        security_group_id=security_group_id,
        ip_protocol="-1",
        cidr_ipv4=ANYWHERE,
        description="Outbound: image and weight downloads, SSM",
        opts=pulumi.ResourceOptions(parent=parent),
    )
