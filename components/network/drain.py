"""Pure: the wait between a target's deregistration and its server's stop (#14 "deregister before stop").

When a vLLM container or its host goes (a replacement, a rolling change, a destroy), the order on the ALB side must
be: deregister the target, let the ALB stop sending it new requests, and only then give vLLM its SIGTERM (it then
drains its in-flight requests for ``--shutdown-timeout``, the target group's deregistration delay). Pulumi deletes
dependents before what they depend on (and, for a delete-before-replace of the container, deletes first every
dependent whose inputs the replacement makes unknown), so ``network.model_endpoint`` chains, per target::

    TargetGroupAttachment (DeregisterTargets)  ->  <target>-drain (this wait)  ->  health wait  ->  container

The attachment's delete returns without waiting for the draining (hashicorp/terraform-provider-aws
internal/service/elbv2/target_group_attachment.go at 07e0d0b940f57c782f8fcc9ccfd8b19f59383b51,
resourceAttachmentDelete: DeregisterTargets only), so this script, the drain
command's ``delete``, polls DescribeTargetHealth until the target is ``draining`` (the ALB "stops sending requests
to targets that are deregistering", and a target "with no in-flight requests and no active connections" completes
at once yet still shows ``draining`` until the delay ends: awsdocs/elb-application-load-balancers-user-guide
doc_source/load-balancer-target-groups.md "Deregistration delay", at 01a945e0dc61cc3ae8b50f9dc764c95502baf9f5),
or ``unused``/gone. Waiting for ``unused`` (``aws elbv2 wait target-deregistered``, botocore elbv2 waiter
TargetDeregistered) would always wait the full delay, and vLLM drains the in-flight requests anyway.

It runs on the deploying machine with its AWS CLI and credentials (as the SSM access path already does), in the
target group's region (taken from its ARN).
"""

from __future__ import annotations

import re
import shlex

DRAINING_WAIT_SECONDS = 120
"""DeregisterTargets makes the state ``draining`` at once; two minutes is for a slow API, never the drain itself."""
PROPAGATION_SECONDS = 10
"""After ``draining`` is reported, a margin for the ALB's nodes to stop routing (not a documented figure)."""
POLL_SECONDS = 5
DRAIN_FAILED_EXIT = 1

# arn:<partition>:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>; only the region is read, the
# whole ARN is shell-quoted.
_TARGET_GROUP_ARN = re.compile(r"^arn:aws(-[a-z]+)*:[a-z-]+:(?P<region>[a-z]{2}(-[a-z]+)+-\d+):\d{12}:\S+$")
_INSTANCE_ID = re.compile(r"^i-[0-9a-f]+$")  # EC2 ids are 8 or 17 hex digits; tests use shorter ones


def drain_script(
    target_group_arn: str,
    instance_id: str,
    port: int,
    *,
    wait_seconds: int = DRAINING_WAIT_SECONDS,
    propagation_seconds: int = PROPAGATION_SECONDS,
) -> str:
    """bash run by the drain command's ``delete``: wait until the target is draining (or gone), then a margin."""
    match = _TARGET_GROUP_ARN.fullmatch(target_group_arn)
    if match is None:
        raise ValueError(f"not a target group ARN: {target_group_arn!r}")
    if not _INSTANCE_ID.fullmatch(instance_id):
        raise ValueError(f"not an instance id: {instance_id!r}")
    if not 1 <= port <= 65535:
        raise ValueError(f"not a port: {port}")
    target = f"{instance_id}:{port}"
    query = shlex.quote("TargetHealthDescriptions[0].TargetHealth.State")
    return f"""set -uo pipefail
deadline=$(( $(date +%s) + {wait_seconds} ))
while :; do
  if state=$(aws elbv2 describe-target-health --region {match.group("region")} \\
      --target-group-arn {shlex.quote(target_group_arn)} --targets Id={instance_id},Port={port} \\
      --query {query} --output text 2>&1); then
    case $state in draining|unused) break ;; esac
  else
    case $state in *TargetGroupNotFound*|*InvalidTarget*) break ;; esac
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "target {target}: still '$state' {wait_seconds} s after its deregistration; not stopping its" \\
      "server while the load balancer may send it requests. Check the AWS CLI and credentials of this machine" \\
      "(aws elbv2 describe-target-health), then run pulumi up again." >&2
    exit {DRAIN_FAILED_EXIT}
  fi
  sleep {POLL_SECONDS}
done
sleep {propagation_seconds}
echo "target {target}: $state; its server may stop"
"""
