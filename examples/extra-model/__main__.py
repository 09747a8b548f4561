"""vllm-aws-extra-model: serve one more model behind the load balancer of an existing vllm-aws stack.

Reads the listener, its security group, the network and the SSM parameter names that the vllm-aws stack exports
(a ``pulumi.StackReference``), sizes and places the model with the vllm-aws planner, and creates one
``VllmDeployment`` attached to that listener. Only the package's public API is used (``from vllm_aws import``).

The referenced stack's outputs are read as plain values (host placements must be known when resources are
registered), hence the async entrypoint ``pulumi.run(main)`` (pulumi >= 3.254).
"""

from typing import Any

import pulumi
import pulumi_aws as aws
from vllm_aws import (
    DEFAULT_IMAGE,
    DLAMI_SSM_PARAMETER,
    AccessConfig,
    AwsRegion,
    CacheConfig,
    ConfigError,
    ExistingEndpoint,
    HostPlacement,
    HostSecrets,
    ModelConfig,
    PinnedImage,
    PlanContext,
    VllmDeployment,
    VllmDeploymentArgs,
    access,
    hosts_for,
    parameter_arn,
    parse_section,
    placement,
    plan_model,
    routing,
    stack_tags,
)


async def _stack_output(reference: pulumi.StackReference, name: str) -> Any:
    details = await reference.get_output_details(name)
    value = details.value if details.value is not None else details.secret_value
    if value is None:
        raise pulumi.RunError(f"the referenced stack has no output {name!r}: update it to vllm-aws >= 0.1.0")
    return value


async def main() -> dict[str, Any]:
    config = pulumi.Config()
    stack = pulumi.get_stack()
    project = pulumi.get_project()
    main_stack = pulumi.StackReference("main", stack_name=config.require("stackReference"))
    load_balancer = await _stack_output(main_stack, "loadBalancer")
    network = await _stack_output(main_stack, "network")
    secret_parameters: dict[str, str] = await _stack_output(main_stack, "secretParameters")
    main_models: list[str] = await _stack_output(main_stack, "modelNames")
    # Set only when the main stack encrypts its secrets with its own key (kmsKey): the hosts then need to decrypt.
    secrets_key_arn: str | None = (await main_stack.get_output_details("secretsKmsKeyArn")).value

    # --- validate and size the model exactly as the vllm-aws stack would (fails preview on bad input) ---------
    # Every key path names this project's own keys (`<project>:model.dtype`), from where each section is read.
    try:
        region = parse_section(AwsRegion, pulumi.Config("aws").require("region"), ("aws:region",), namespace=project)
        model = parse_section(ModelConfig, config.require_object("model"), ("model",), namespace=project)
        cache = parse_section(CacheConfig, config.get_object("cache") or {}, ("cache",), namespace=project)
        access_config = parse_section(AccessConfig, config.get_object("access") or {}, ("access",), namespace=project)
        image = parse_section(PinnedImage, config.get("image") or DEFAULT_IMAGE, ("image",), namespace=project)
        context = PlanContext(
            image=image,
            region=region,
            cache=cache,
            # Only its presence matters to the planner (gated models); the token itself stays in SSM, and is set
            # in the referenced stack.
            hf_token="HF_TOKEN" in secret_parameters,
            namespace=project,
            hf_token_key=("vllm-aws:hfToken",),
        )
        plan = plan_model(model, context, ("model",))
        if plan.config.name in main_models:
            raise ConfigError.single(
                f"{project}:model.name", plan.config.name, "is already served by the referenced stack", "rename it"
            )
        # The referenced stack's own models hold priorities in routing.STACK_PRIORITIES, so a priority from
        # ATTACHED_PRIORITIES never clashes with theirs, whatever they add, remove or reorder later.
        pinned = config.get_int("rulePriority")
        rule_priority = routing.derived_priority(plan.config.name, attached=True) if pinned is None else pinned
        if rule_priority not in routing.ATTACHED_PRIORITIES:
            attached = routing.ATTACHED_PRIORITIES
            raise ConfigError.single(
                f"{project}:rulePriority",
                rule_priority,
                "is outside the range vllm-aws keeps for models attached from other stacks",
                f"choose one in {attached.start}-{attached.stop - 1}",
            )
        zones = placement.usable_zones(network["hostSubnets"], placement.offered_zones(plan.instance.name))
        if not zones:
            raise ConfigError.single(
                f"{project}:model.instanceType",
                plan.instance.name,
                "is not offered in any availability zone of the referenced stack's host subnets",
                "choose another instance type",
            )
    except ConfigError as error:
        raise pulumi.RunError(str(error)) from None
    for warning in plan.warnings:
        pulumi.log.warn(warning)
    placements = tuple(
        HostPlacement(subnet_id=zone.subnet_id, availability_zone=zone.name)
        for zone in placement.spread(hosts_for(plan.config), zones)
    )

    # --- this stack's own SSH key (pulumi-docker reaches the hosts' Docker daemons with it) ---------------------
    ssh = access.create_ssh_access(project, stack)

    # --- the hosts read the referenced stack's SSM parameters (API key, HF token) at boot -------------------
    account_id = aws.get_caller_identity().account_id
    tags = stack_tags(stack, project, config.get_object("tags"))
    deployment = VllmDeployment(
        plan.config.name,
        VllmDeploymentArgs(
            model=plan.config,
            region=region,
            vpc_id=network["vpcId"],
            placements=placements,
            # A host runs where its cache volume is; these are the zones it may find a subnet in.
            zone_subnets={zone.name: zone.subnet_id for zone in zones},
            associate_public_ip=bool(network["hostsNeedPublicIp"]),
            ami_id=config.get("amiId") or aws.ssm.get_parameter(name=DLAMI_SSM_PARAMETER).value,
            image=image,
            cache=cache,
            access=access_config,
            ssh=ssh,
            secrets=HostSecrets(
                parameters=secret_parameters,
                parameter_arns=tuple(parameter_arn(region, account_id, name) for name in secret_parameters.values()),
                kms_key_arn=secrets_key_arn,
            ),
            endpoint=ExistingEndpoint(
                listener_arn=load_balancer["listenerArn"],
                security_group_id=load_balancer["securityGroupId"],
                rule_priority=rule_priority,
                domain=config.get("domain"),
                idle_timeout_seconds=config.get_int("idleTimeoutSeconds", 600),
            ),
            tags=tags,
        ),
    )

    scheme, dns_name = load_balancer["scheme"], load_balancer["dnsName"]
    return {
        "baseUrl": f"{scheme}://{dns_name}/{plan.config.name}/v1",
        "rulePriority": rule_priority,
        "targetGroupArn": deployment.target_group_arn,
        "instanceType": plan.instance.name,
        "hosts": {name: host.instance_id for name, host in deployment.hosts.items()},
        "sshPrivateKey": ssh.private_key,
    }


pulumi.run(main)
