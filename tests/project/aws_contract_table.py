"""Which API call creates each AWS resource the stack registers, and what each of its inputs must satisfy there.

Read a row as: Pulumi input (camelCase, as pulumi-aws registers it) -> API member in botocore's model. The
provider code that makes the call is cited per contract (hashicorp/terraform-provider-aws, bridged by
pulumi/pulumi-aws; create functions in ``internal/service/<svc>/<resource>.go``). Where the model's shapes carry
no constraint (most of EC2, and ELBv2 attributes), a :class:`Rule` encodes the limit the model's documentation
states (quoted, and the quote verified by tests/project/test_aws_contracts.py) or an AWS page states (URL).
"""

from __future__ import annotations

from aws_contract_rules import (
    BOOLEAN,
    ELB_NAME_RULES,
    PA,
    PROVIDER_ONLY,
    SECRET,
    SSM_NAME,
    TF,
    TG_NAME_RULES,
    elbv2_tagging,
    iam_tagging,
    inline_policy_size,
    matcher_for_alb,
    port_or,
    ssm_name,
    ssm_tagging,
    url_rewrites_of_each_kind,
)
from aws_contract_table_alerts import ALERT_CONTRACTS
from aws_contract_table_ec2 import EC2_CONTRACTS
from aws_contract_table_hardening import KMS_CONTRACTS, LOG_BUCKET_CONTRACTS
from aws_contract_table_https import HTTPS_CONTRACTS, WAF_CONTRACTS
from aws_contracts import AutoName, Contract, Member, Rule, Source, at_most_characters, between, one_of

ELBV2_CONTRACTS = (
    Contract(
        type="aws:lb/loadBalancer:LoadBalancer",
        service="elbv2",
        created_by=f"CreateLoadBalancer, then ModifyLoadBalancerAttributes ({TF}elbv2/load_balancer.go "
        "resourceLoadBalancerCreate)",
        members=(
            Member("loadBalancerType", "CreateLoadBalancer.Type", note="load_balancer_type -> Type"),
            Member(
                "internal",
                "CreateLoadBalancer.Scheme",
                note="a boolean in Pulumi, the Scheme enum in the API",
                convert=lambda internal: "internal" if internal else "internet-facing",
            ),
            Member("securityGroups[]", "CreateLoadBalancer.SecurityGroups[]"),
            Member("subnets[]", "CreateLoadBalancer.Subnets[]"),
        ),
        rules=(
            Rule(
                "idleTimeout",
                between(1, 4000),
                Source(
                    "ModifyLoadBalancerAttributes.Attributes[].Key",
                    "idle_timeout.timeout_seconds - The idle timeout value, in seconds. The valid range is 1-4000",
                    "elbv2",
                ),
            ),
        ),
        tags=elbv2_tagging("CreateLoadBalancer"),
        # pulumi-aws leaves aws_lb at the 255 default; terraform's validName caps it at 32 (pulumi-cdk#62).
        auto_name=AutoName("CreateLoadBalancer.Name", 32, TF + "elbv2/validate.go validName", rules=ELB_NAME_RULES),
        unchecked={
            "dropInvalidHeaderFields": BOOLEAN,
            "enableDeletionProtection": BOOLEAN,
            "accessLogs": "an existing bucket's name is checked at config time (loadBalancer.accessLogs.bucket)",
        },
    ),
    Contract(
        type="aws:lb/targetGroup:TargetGroup",
        service="elbv2",
        created_by=f"CreateTargetGroup, then ModifyTargetGroupAttributes ({TF}elbv2/target_group.go "
        "resourceTargetGroupCreate)",
        members=(
            Member("port", "CreateTargetGroup.Port"),
            Member("protocol", "CreateTargetGroup.Protocol"),
            Member("targetType", "CreateTargetGroup.TargetType"),
            Member("vpcId", "CreateTargetGroup.VpcId"),
            Member("healthCheck.enabled", "CreateTargetGroup.HealthCheckEnabled"),
            Member("healthCheck.protocol", "CreateTargetGroup.HealthCheckProtocol"),
            Member("healthCheck.path", "CreateTargetGroup.HealthCheckPath"),
            Member("healthCheck.port", "CreateTargetGroup.HealthCheckPort"),
            Member("healthCheck.matcher", "CreateTargetGroup.Matcher.HttpCode", note="matcher -> Matcher.HttpCode"),
            Member("healthCheck.interval", "CreateTargetGroup.HealthCheckIntervalSeconds"),
            Member("healthCheck.timeout", "CreateTargetGroup.HealthCheckTimeoutSeconds"),
            Member("healthCheck.healthyThreshold", "CreateTargetGroup.HealthyThresholdCount"),
            Member("healthCheck.unhealthyThreshold", "CreateTargetGroup.UnhealthyThresholdCount"),
        ),
        rules=(
            Rule(
                "healthCheck.port",
                port_or("traffic-port"),
                Source("CreateTargetGroup.HealthCheckPort", "the default is traffic-port", "elbv2"),
            ),
            Rule(
                "healthCheck.matcher",
                matcher_for_alb,
                Source(
                    "CreateTargetGroup.Matcher.HttpCode",
                    "For Application Load Balancers, you can specify values between 200 and 499",
                    "elbv2",
                ),
            ),
            Rule(
                "deregistrationDelay",
                between(0, 3600),
                Source(
                    "ModifyTargetGroupAttributes.Attributes[].Key",
                    "deregistration_delay.timeout_seconds - The amount of time, in seconds, for Elastic Load "
                    "Balancing to wait before changing the state of a deregistering target from draining to "
                    "unused. The range is 0-3600 seconds.",
                    "elbv2",
                ),
            ),
            Rule(
                "loadBalancingAlgorithmType",
                one_of("round_robin", "least_outstanding_requests", "weighted_random"),
                Source(
                    "ModifyTargetGroupAttributes.Attributes[].Key",
                    "The value is round_robin, least_outstanding_requests, or weighted_random.",
                    "elbv2",
                ),
            ),
        ),
        tags=elbv2_tagging("CreateTargetGroup"),
        auto_name=AutoName(
            "CreateTargetGroup.Name", 32, PA + 'aliases.go tfbridge.AutoName("name", 32, "-")', TG_NAME_RULES
        ),
    ),
    Contract(
        type="aws:lb/listener:Listener",
        service="elbv2",
        created_by=f"CreateListener ({TF}elbv2/listener.go resourceListenerCreate)",
        members=(
            Member("loadBalancerArn", "CreateListener.LoadBalancerArn"),
            Member("port", "CreateListener.Port"),
            Member("protocol", "CreateListener.Protocol"),
            Member("sslPolicy", "CreateListener.SslPolicy"),
            Member(
                "certificateArn",
                "CreateListener.Certificates[].CertificateArn",
                note="certificate_arn -> the one default certificate",
            ),
            Member("defaultActions[].type", "CreateListener.DefaultActions[].Type"),
            Member("defaultActions[].targetGroupArn", "CreateListener.DefaultActions[].TargetGroupArn"),
            Member(
                "defaultActions[].fixedResponse.statusCode",
                "CreateListener.DefaultActions[].FixedResponseConfig.StatusCode",
                note="fixed_response -> FixedResponseConfig",
            ),
            Member(
                "defaultActions[].fixedResponse.contentType",
                "CreateListener.DefaultActions[].FixedResponseConfig.ContentType",
            ),
            Member(
                "defaultActions[].fixedResponse.messageBody",
                "CreateListener.DefaultActions[].FixedResponseConfig.MessageBody",
            ),
            Member(
                "defaultActions[].redirect.protocol",
                "CreateListener.DefaultActions[].RedirectConfig.Protocol",
                note="redirect -> RedirectConfig",
            ),
            Member("defaultActions[].redirect.port", "CreateListener.DefaultActions[].RedirectConfig.Port"),
            Member("defaultActions[].redirect.statusCode", "CreateListener.DefaultActions[].RedirectConfig.StatusCode"),
        ),
        rules=(
            Rule(
                "defaultActions[].fixedResponse.contentType",
                one_of("text/plain", "text/css", "text/html", "application/javascript", "application/json"),
                Source(
                    "CreateListener.DefaultActions[].FixedResponseConfig.ContentType",
                    "Valid Values: text/plain | text/css | text/html | application/javascript | application/json",
                    "elbv2",
                ),
            ),
            Rule(
                "defaultActions[].redirect.port",
                port_or("#{port}"),
                Source(
                    "CreateListener.DefaultActions[].RedirectConfig.Port",
                    "You can specify a value from 1 to 65535 or #{port}.",
                    "elbv2",
                ),
            ),
        ),
        tags=elbv2_tagging("CreateListener"),
    ),
    Contract(
        type="aws:lb/listenerRule:ListenerRule",
        service="elbv2",
        created_by=f"CreateRule ({TF}elbv2/listener_rule.go resourceListenerRuleCreate)",
        members=(
            Member("listenerArn", "CreateRule.ListenerArn"),
            Member("priority", "CreateRule.Priority"),
            Member(
                "conditions[].pathPattern.values[]",
                "CreateRule.Conditions[].PathPatternConfig.Values[]",
                note="path_pattern -> PathPatternConfig",
            ),
            Member(
                "conditions[].hostHeader.values[]",
                "CreateRule.Conditions[].HostHeaderConfig.Values[]",
                note="host_header -> HostHeaderConfig",
            ),
            Member("actions[].type", "CreateRule.Actions[].Type"),
            Member("actions[].targetGroupArn", "CreateRule.Actions[].TargetGroupArn"),
            Member("transforms[].type", "CreateRule.Transforms[].Type"),
            Member(
                "transforms[].urlRewriteConfig.rewrite.regex",
                "CreateRule.Transforms[].UrlRewriteConfig.Rewrites[].Regex",
                note="url_rewrite_config.rewrite (one block) -> UrlRewriteConfig.Rewrites (a list)",
            ),
            Member(
                "transforms[].urlRewriteConfig.rewrite.replace",
                "CreateRule.Transforms[].UrlRewriteConfig.Rewrites[].Replace",
            ),
        ),
        rules=(
            Rule(
                "conditions[].pathPattern.values[]",
                at_most_characters(128),
                Source(
                    "CreateRule.Conditions[].PathPatternConfig.Values",
                    "The maximum length of each string is 128 characters.",
                    "elbv2",
                ),
            ),
            Rule(
                "conditions[].hostHeader.values[]",
                at_most_characters(128),
                Source(
                    "CreateRule.Conditions[].HostHeaderConfig.Values",
                    "The maximum length of each string is 128 characters.",
                    "elbv2",
                ),
            ),
            *(
                Rule(
                    f"transforms[].urlRewriteConfig.rewrite.{part}",
                    at_most_characters(1024),
                    Source(
                        f"CreateRule.Transforms[].UrlRewriteConfig.Rewrites[].{part.title()}",
                        "The maximum length of the string is 1,024 characters.",
                        "elbv2",
                    ),
                )
                for part in ("regex", "replace")
            ),
            Rule(
                "transforms",
                url_rewrites_of_each_kind,
                Source(
                    "CreateRule.Transforms",
                    "You can add one host header rewrite transform and one URL rewrite transform.",
                    "elbv2",
                ),
            ),
        ),
        tags=elbv2_tagging("CreateRule"),
    ),
    Contract(
        type="aws:lb/targetGroupAttachment:TargetGroupAttachment",
        service="elbv2",
        created_by=f"RegisterTargets with one target ({TF}elbv2/target_group_attachment.go)",
        members=(
            Member("targetGroupArn", "RegisterTargets.TargetGroupArn"),
            Member("targetId", "RegisterTargets.Targets[].Id", note="target_id -> Targets[0].Id"),
            Member("port", "RegisterTargets.Targets[].Port"),
        ),
    ),
)

IAM_AND_SSM_CONTRACTS = (
    Contract(
        type="aws:ec2/volumeAttachment:VolumeAttachment",
        service="ec2",
        created_by=f"AttachVolume ({TF}ec2/ebs_volume_attachment.go)",
        members=(
            Member("deviceName", "AttachVolume.Device", note="device_name -> Device"),
            Member("instanceId", "AttachVolume.InstanceId"),
            Member("volumeId", "AttachVolume.VolumeId"),
        ),
        unchecked={"stopInstanceBeforeDetaching": PROVIDER_ONLY, "skipDestroy": PROVIDER_ONLY},
    ),
    Contract(
        type="aws:iam/role:Role",
        service="iam",
        created_by=f"CreateRole ({TF}iam/role.go resourceRoleCreate)",
        members=(
            Member("assumeRolePolicy", "CreateRole.AssumeRolePolicyDocument"),
            Member("description", "CreateRole.Description"),
        ),
        tags=iam_tagging("CreateRole"),
        auto_name=AutoName("CreateRole.RoleName", 64, PA + 'resource_overrides.go AutoName("name", 64, "-")'),
    ),
    Contract(
        type="aws:iam/rolePolicy:RolePolicy",
        service="iam",
        created_by=f"PutRolePolicy ({TF}iam/role_policy.go)",
        members=(Member("role", "PutRolePolicy.RoleName"), Member("policy", "PutRolePolicy.PolicyDocument")),
        # The quota is per role, over all its inline policies; ours are two short documents, so each is checked alone.
        rules=(
            Rule(
                "policy",
                inline_policy_size,
                Source(
                    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html",
                    "Role policy size cannot exceed 10,240 characters",
                ),
            ),
        ),
        auto_name=AutoName("PutRolePolicy.PolicyName", 255, PA + 'autonaming.go (AutoName("name", 255, "-"))'),
    ),
    Contract(
        type="aws:iam/instanceProfile:InstanceProfile",
        service="iam",
        created_by=f"CreateInstanceProfile, then AddRoleToInstanceProfile ({TF}iam/instance_profile.go)",
        members=(Member("role", "AddRoleToInstanceProfile.RoleName"),),
        auto_name=AutoName(
            "CreateInstanceProfile.InstanceProfileName", 255, PA + 'autonaming.go (AutoName("name", 255, "-"))'
        ),
    ),
    Contract(
        type="aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        service="iam",
        created_by=f"AttachRolePolicy ({TF}iam/role_policy_attachment.go)",
        members=(Member("role", "AttachRolePolicy.RoleName"), Member("policyArn", "AttachRolePolicy.PolicyArn")),
    ),
    Contract(
        type="aws:ssm/parameter:Parameter",
        service="ssm",
        created_by=f"PutParameter ({TF}ssm/parameter.go resourceParameterCreate)",
        members=(
            Member("type", "PutParameter.Type"),
            Member("description", "PutParameter.Description"),
            Member("keyId", "PutParameter.KeyId"),
        ),
        tags=ssm_tagging("PutParameter"),
        # The stack names its parameters (/vllm-aws/<stack>/...); the rules hold for a given or a generated name.
        auto_name=AutoName(
            "PutParameter.Name",
            255,
            PA + 'autonaming.go (AutoName("name", 255, "-"))',
            rules=(Rule("", ssm_name, SSM_NAME),),
        ),
        unchecked={"value": SECRET},
    ),
)

CONTRACTS: dict[str, Contract] = {
    contract.type: contract
    for contract in (
        *ELBV2_CONTRACTS,
        *EC2_CONTRACTS,
        *IAM_AND_SSM_CONTRACTS,
        *ALERT_CONTRACTS,
        *HTTPS_CONTRACTS,
        *WAF_CONTRACTS,
        *LOG_BUCKET_CONTRACTS,
        *KMS_CONTRACTS,
    )
}
