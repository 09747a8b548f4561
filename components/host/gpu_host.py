"""GpuHost: one GPU EC2 instance on the Deep Learning AMI, its cache attachment, and its readiness gate."""

from __future__ import annotations

from typing import Annotated

import pulumi
import pulumi_aws as aws
import pulumi_command as command
from pydantic import BaseModel, ConfigDict, Field

from .._naming import child_name, cidr_key, distinct_networks, merge_tags, type_token
from ..catalog.cuda import DriverRequirement
from . import iam, self_healing, spot, ssh
from .ami import DLAMI_SSH_USER
from .bootstrap import BootstrapSpec, render_user_data

StrInput = str | pulumi.Output[str]

CACHE_DEVICE_NAME = "/dev/sdf"  # requested name only; the bootstrap finds the volume by id, not by this
SSH_PORT = 22


class IngressRule(BaseModel):
    """One inbound rule: a TCP port, from another security group only."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    key: Annotated[str, Field(description="Stable key in the rule's logical name, e.g. 'vllm-from-alb'.")]
    port: Annotated[int, Field(ge=1, le=65535)]
    source_security_group_id: StrInput
    description: str


class GpuHostArgs(BaseModel):
    """Inputs of a :class:`GpuHost`."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    instance_type: str
    ami_id: Annotated[StrInput, Field(description="AMI; pinned at creation (later AMIs never replace a host).")]
    vpc_id: StrInput
    subnet_id: StrInput
    availability_zone: Annotated[
        StrInput,
        Field(description="Its cache volume's zone: pass the volume's availability_zone output, so it never moves."),
    ]
    associate_public_ip: Annotated[
        bool, Field(description="Needed for egress in subnets without NAT (the default VPC). Default: false.")
    ] = False
    cache_volume_id: pulumi.Output[str]
    root_volume_gib: Annotated[int, Field(ge=8, description="Encrypted gp3 root volume.")]
    region: str
    secret_parameters: Annotated[
        dict[str, str], Field(description="Environment variable -> SSM SecureString parameter name.")
    ] = {}
    secret_parameter_arns: tuple[StrInput, ...] = ()
    ssh_public_key: StrInput
    ssh_private_key: Annotated[pulumi.Output[str], Field(description="Secret; used by the readiness gate only.")]
    access_mode: ssh.AccessMode = "ssm"
    ssh_cidrs: tuple[str, ...] = ()
    ingress: Annotated[
        tuple[IngressRule, ...], Field(description="Inbound rules. Default: none (nothing can connect in).")
    ] = ()
    extra_security_group_ids: Annotated[
        tuple[StrInput, ...],
        Field(description="More groups the instance is a member of (e.g. its model's targets group). Default: none."),
    ] = ()
    spot: Annotated[
        bool,
        Field(
            description="Spot instance from a persistent request that stops on interruption (EC2 restarts the same "
            "instance when capacity returns). Default: on-demand."
        ),
    ] = False
    gpu: Annotated[bool, Field(description="Verify the NVIDIA stack at boot. False for the monitoring host.")] = True
    driver: Annotated[
        DriverRequirement | None,
        Field(
            description="The oldest NVIDIA driver the image's CUDA runs on "
            "(components.catalog.cuda.driver_requirement); the bootstrap fails the readiness gate below it. "
            "Default: not checked."
        ),
    ] = None
    ssh_user: Annotated[str, Field(description="The AMI's default user; pulumi-docker connects as it.")] = (
        DLAMI_SSH_USER
    )
    packages: Annotated[tuple[str, ...], Field(description="Packages to install at first boot.")] = ()
    ec2_discovery: Annotated[
        bool,
        Field(
            description="Prometheus runs here: allow ec2:DescribeInstances (its service discovery) and let containers "
            "reach the instance role's credentials (IMDS hop limit 2). Default: false (hop limit 1: containers get "
            "no credentials)."
        ),
    ] = False
    alarm_topic_arn: Annotated[
        StrInput | None,
        Field(description="SNS topic told when the host's system check fails and clears. Default: none."),
    ] = None
    auto_recovery_supported: Annotated[
        bool | None,
        Field(
            description="Whether EC2 can recover this instance type onto new hardware (its system-check alarm then "
            "recovers; otherwise it stops and starts). Default: looked up with one DescribeInstanceTypes call per "
            "host; a caller with many hosts of one type reads it once (self_healing.auto_recovery_supported)."
        ),
    ] = None
    after: Annotated[
        tuple[pulumi.Resource, ...],
        Field(
            description="Create, replace or stop-start the instance only after these (the previous replica's health "
            "waits), so a change rolls one host at a time. Default: none."
        ),
    ] = ()
    tags: dict[str, str] = {}


class GpuHost(pulumi.ComponentResource):
    """A GPU instance that accepts no inbound traffic by default and is ready when Docker and the GPU answer.

    With ``gpu=False`` the same hardened host (IMDSv2, encrypted volumes, SSM access, its own data volume)
    serves as the dedicated monitoring host.
    """

    instance_id: pulumi.Output[str]
    """EC2 instance id."""
    private_ip: pulumi.Output[str]
    """Private IPv4 address (targets, scraping)."""
    availability_zone: pulumi.Output[str]
    """AZ of the instance (and of its cache)."""
    security_group_id: pulumi.Output[str]
    """The host's own security group; add rules to admit load balancer or monitoring traffic."""
    docker_host: pulumi.Output[str]
    """``ssh://`` URI of the Docker daemon for a pulumi-docker provider."""
    ready: pulumi.Output[str]
    """GPU list printed by the readiness gate; depend on it before creating containers."""

    def __init__(self, name: str, args: GpuHostArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("GpuHost"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        sg_name = child_name(name, "sg")
        self.security_group = aws.ec2.SecurityGroup(
            sg_name,
            vpc_id=args.vpc_id,
            description=f"vllm-aws GPU host {name}: no inbound except the listed sources",
            tags=merge_tags(args.tags, name=sg_name),
            opts=child,
        )
        # Egress for Docker Hub, Hugging Face and the SSM endpoints; inbound is only what is listed below.
        aws.vpc.SecurityGroupEgressRule(
            child_name(name, "egress"),
            security_group_id=self.security_group.id,
            ip_protocol="-1",
            cidr_ipv4="0.0.0.0/0",
            description="Outbound: image and weight downloads, SSM",
            opts=child,
        )
        for rule in args.ingress:
            aws.vpc.SecurityGroupIngressRule(
                child_name(name, rule.key),
                security_group_id=self.security_group.id,
                ip_protocol="tcp",
                from_port=rule.port,
                to_port=rule.port,
                referenced_security_group_id=rule.source_security_group_id,
                description=rule.description,
                opts=child,
            )
        if args.access_mode == "ssh":
            for network in distinct_networks(args.ssh_cidrs):
                aws.vpc.SecurityGroupIngressRule(
                    child_name(name, f"ssh-{cidr_key(network)}"),
                    security_group_id=self.security_group.id,
                    ip_protocol="tcp",
                    from_port=SSH_PORT,
                    to_port=SSH_PORT,
                    cidr_ipv4=network.compressed if network.version == 4 else None,
                    cidr_ipv6=network.compressed if network.version == 6 else None,
                    description="SSH for pulumi-docker (access.mode ssh)",
                    opts=child,
                )

        role_name = child_name(name, "role")
        self.role = aws.iam.Role(
            role_name,
            assume_role_policy=iam.assume_role_policy(),
            description=f"vllm-aws GPU host {name}: SSM agent and this stack's secrets",
            tags=merge_tags(args.tags, name=role_name),
            opts=child,
        )
        aws.iam.RolePolicyAttachment(
            child_name(name, "ssm-core"), role=self.role.name, policy_arn=iam.SSM_CORE_POLICY_ARN, opts=child
        )
        if args.secret_parameter_arns:
            aws.iam.RolePolicy(
                child_name(name, "read-secrets"),
                role=self.role.name,
                policy=pulumi.Output.all(*args.secret_parameter_arns).apply(
                    lambda arns: iam.read_parameters_policy([str(arn) for arn in arns])
                ),
                opts=child,
            )
        aws.iam.RolePolicy(
            child_name(name, "no-other-parameters"),
            role=self.role.name,
            policy=pulumi.Output.all(*args.secret_parameter_arns).apply(
                lambda arns: iam.deny_other_parameters_policy([str(arn) for arn in arns])
            ),
            opts=child,
        )
        if args.ec2_discovery:
            aws.iam.RolePolicy(
                child_name(name, "discovery"),
                role=self.role.name,
                policy=iam.describe_instances_policy(),
                opts=child,
            )
        profile = aws.iam.InstanceProfile(child_name(name, "profile"), role=self.role.name, opts=child)

        user_data = pulumi.Output.all(args.cache_volume_id, args.ssh_public_key).apply(
            lambda values: render_user_data(
                BootstrapSpec(
                    cache_volume_id=str(values[0]),
                    ssh_public_key=str(values[1]),
                    region=args.region,
                    secret_parameters=args.secret_parameters,
                    ssh_user=args.ssh_user,
                    gpu=args.gpu,
                    packages=args.packages,
                    driver=args.driver,
                )
            )
        )
        instance_name = child_name(name, "instance")
        market = (
            aws.ec2.InstanceInstanceMarketOptionsArgs(
                market_type="spot",
                # Persistent + stop (PAPY ec2/_inputs.py: "Persistent Spot Instance requests are only supported when
                # the instance interruption behavior is either hibernate or stop"): an interruption stops the
                # instance, EC2 starts the same one (id, cache attachment, containers) when capacity returns, and
                # Pulumi's state stays true. A one-time request would terminate it and leave a stale state.
                spot_options=aws.ec2.InstanceInstanceMarketOptionsSpotOptionsArgs(
                    spot_instance_type="persistent", instance_interruption_behavior="stop"
                ),
            )
            if args.spot
            else None
        )
        self.instance = aws.ec2.Instance(
            instance_name,
            ami=args.ami_id,
            instance_type=args.instance_type,
            subnet_id=args.subnet_id,
            availability_zone=args.availability_zone,
            associate_public_ip_address=args.associate_public_ip,
            vpc_security_group_ids=[self.security_group.id, *args.extra_security_group_ids],
            iam_instance_profile=profile.name,
            user_data=user_data,
            # cloud-init applies user-data once per instance (cc_write_files, cc_runcmd, cc_ssh: PER_INSTANCE;
            # canonical/cloud-init cloudinit/config), so the provider's default for a change, stopping and
            # starting the instance with the new user-data (PAPY ec2/instance.py `user_data`), would leave the
            # old scripts, settings and SSH key in place. A new bootstrap is a new host: replaced like any
            # other host replacement (delete first, below), which is what the plan diff then reports.
            user_data_replace_on_change=True,
            metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",  # IMDSv2 only
                # Containers are one hop further than the host ("In a container environment, if the hop limit is
                # 1, the IMDSv2 response does not return", EC2 User Guide, instancedata-data-retrieval): only
                # Prometheus, discovering its targets, needs the role's credentials from a container. vLLM's must
                # not get them.
                http_put_response_hop_limit=2 if args.ec2_discovery else 1,
            ),
            root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
                volume_type="gp3", volume_size=args.root_volume_gib, encrypted=True, delete_on_termination=True
            ),
            instance_market_options=market,
            tags=merge_tags(args.tags, name=instance_name),
            opts=pulumi.ResourceOptions(
                parent=self,
                # A new DLAMI release must not replace a serving host; roll forward with `pulumi up --replace`.
                ignore_changes=["ami"],
                # A new GPU type is a new host, not a stop/start resize: that can fail for capacity halfway and
                # the type may not exist in the old AZ. Replacement is what the plan diff then predicts.
                replace_on_changes=["instanceType"],
                # The old host goes first: its cache volume can only be attached to one instance, and a GPU
                # quota rarely has room for two.
                delete_before_replace=True,
                # The SDK registers a resource only once its depends_on have finished, and a replacement of this
                # delete-before-replace instance runs at its registration (PULUMI_ENGINE.md §3/§4): the previous
                # replica is healthy again before this one goes.
                depends_on=list(args.after),
            ),
        )
        # Detaching, when the host is replaced or destroyed: the engine deletes the attachment just before its
        # instance (dependents first), and the volume never changes without the instance (its id is in the
        # user-data). The host is stopped first, so the cache is unmounted cleanly, never yanked; a spot host can
        # be stopped too, as its request is persistent (StopInstances refuses only one-time Spot Instances: "You
        # can only stop Spot Instances associated with persistent Spot Instance requests", EC2 User Guide). The
        # flag is read from state at delete time and changes in place (TF ec2/ebs_volume_attachment.go: Update is
        # a no-op; Delete checks stop_instance_before_detaching).
        spot_request = spot.cancel_request_on_delete(name, self.instance, args.region, self) if args.spot else None
        self.attachment = aws.ec2.VolumeAttachment(
            child_name(name, "cache-attach"),
            device_name=CACHE_DEVICE_NAME,
            instance_id=self.instance.id,
            volume_id=args.cache_volume_id,
            stop_instance_before_detaching=True,
            opts=pulumi.ResourceOptions(
                parent=self, delete_before_replace=True, depends_on=[spot_request] if spot_request else None
            ),
        )

        if args.gpu:
            self_healing.heal_host(
                name,
                self.instance,
                recoverable=(
                    args.auto_recovery_supported
                    if args.auto_recovery_supported is not None
                    else self_healing.auto_recovery_supported(args.instance_type)
                ),
                region=args.region,
                notify_topic_arn=args.alarm_topic_arn,
                tags=args.tags,
                parent=self,
            )

        address = self.instance.public_ip if args.associate_public_ip else self.instance.private_ip
        target = self.instance.id if args.access_mode == "ssm" else address
        self.readiness = command.local.Command(
            child_name(name, "ready"),
            create=ssh.readiness_script(args.access_mode, args.region, args.ssh_user, args.gpu),
            interpreter=["/bin/bash", "-c"],
            environment={"TARGET": target, "VLLM_AWS_SSH_KEY": args.ssh_private_key},
            # Re-run on a new instance or a new cache attachment: the gate is per host, not per stack.
            triggers=[self.instance.id, self.attachment.id],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.attachment]),
        )

        self.instance_id = self.instance.id
        self.private_ip = self.instance.private_ip
        self.availability_zone = self.instance.availability_zone
        self.security_group_id = self.security_group.id
        self.access_target: pulumi.Output[str] = target
        self.docker_host = pulumi.Output.all(self.instance.id, address).apply(
            lambda values: ssh.docker_host(args.access_mode, str(values[0]), str(values[1]), args.ssh_user)
        )
        self.ready = self.readiness.stdout
        self.register_outputs(
            {
                "instance_id": self.instance_id,
                "private_ip": self.private_ip,
                "availability_zone": self.availability_zone,
                "security_group_id": self.security_group_id,
                "docker_host": self.docker_host,
                "ready": self.ready,
            }
        )


def on_host_options(
    parent: pulumi.Resource,
    host_instance: pulumi.Resource,
    host_ready: pulumi.Resource,
    after: tuple[pulumi.Resource, ...] = (),
) -> pulumi.ResourceOptions:
    """Options for anything running on a host's Docker daemon.

    Nothing may touch the daemon before the host is ready; a new instance means new containers (the provider's
    SSM host URI does not change with the instance, so say it explicitly); and a terminated host takes its
    containers along, so a destroy never hangs trying to reach it. ``after``: wait for these too (the previous
    replica's health wait, so a change rolls).
    """
    return pulumi.ResourceOptions(
        parent=parent,
        depends_on=[host_ready, *after],
        replacement_trigger=host_instance.id,  # type: ignore[attr-defined]
        deleted_with=host_instance,
    )
