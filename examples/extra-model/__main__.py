"""vllm-aws-extra-model: serve one more model behind the load balancer of an existing vllm-aws stack.

Reads the listener, its security group, the network and the SSM parameter names that the vllm-aws stack exports
(a ``pulumi.StackReference``), sizes and places the model with the vllm-aws planner, and creates one
``VllmDeployment`` attached to that listener. Only the package's public API is used (``from components import``).

The referenced stack's outputs are read as plain values (host placements must be known when resources are
registered), hence the async entrypoint ``pulumi.run(main)`` (pulumi >= 3.254).
"""

from typing import Any

import pulumi
import pulumi_aws as aws

from components import (
    DLAMI_SSM_PARAMETER,
    ConfigError,
    ExistingEndpoint,
    HostPlacement,
    HostSecrets,
    VllmDeployment,
    VllmDeploymentArgs,
    access,
    hosts_for,
    parameter_arn,
    parse_stack_config,
    placement,
    plan_stack,
    routing,
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
    region = pulumi.Config("aws").require("region")
    main_stack = pulumi.StackReference("main", stack_name=config.require("stackReference"))
    load_balancer = await _stack_output(main_stack, "loadBalancer")
    network = await _stack_output(main_stack, "network")
    secret_parameters: dict[str, str] = await _stack_output(main_stack, "secretParameters")
    main_models: list[str] = await _stack_output(main_stack, "modelNames")

    # --- validate and size the model exactly as the vllm-aws stack would (fails preview on bad input) ---------
    model_entry: dict[str, Any] = config.require_object("model")
    raw: dict[str, Any] = {
        "aws:region": region,
        "models": [model_entry],
        **{key: value for key in ("cache", "access") if (value := config.get_object(key)) is not None},
        **({"image": image} if (image := config.get("image")) else {}),
    }
    if "HF_TOKEN" in secret_parameters:
        # Only its presence matters to the planner (gated models); the token itself stays in SSM.
        raw["hfToken"] = pulumi.Output.secret("in SSM")
    try:
        stack_config = parse_stack_config(raw)
        plan = plan_stack(stack_config).models[0]
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
        # Key paths name this project's `model` entry, not the vllm-aws stack's `models` list.
        raise pulumi.RunError(str(error).replace("vllm-aws:models[0]", f"{project}:model")) from None
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
    tags = {"vllm-aws:stack": stack, "vllm-aws:project": project, **(config.get_object("tags") or {})}
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
            image=stack_config.image,
            cache=stack_config.cache,
            access=stack_config.access,
            ssh=ssh,
            secrets=HostSecrets(
                parameters=secret_parameters,
                parameter_arns=tuple(parameter_arn(region, account_id, name) for name in secret_parameters.values()),
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
