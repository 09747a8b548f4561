"""Spot hosts: the persistent request behind each one, cancelled when the host goes."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_command as command

from .._naming import child_name

# Cancels the persistent request; a request already gone (closed long ago) is not an error.
CANCEL_SCRIPT = """set -euo pipefail
[[ -n ${SPOT_REQUEST:-} ]] || exit 0
if ! out=$(aws ec2 cancel-spot-instance-requests --region "$AWS_REGION" \\
    --spot-instance-request-ids "$SPOT_REQUEST" 2>&1)
then
    grep -q InvalidSpotInstanceRequestID.NotFound <<<"$out" && exit 0
    printf '%s\n' "$out" >&2
    exit 1
fi
"""


def cancel_request_on_delete(
    name: str, instance: aws.ec2.Instance, region: str, parent: pulumi.Resource
) -> command.local.Command:
    """A persistent request outlives its instance: terminating the instance reopens the request and EC2 launches
    a new, unmanaged one (EC2 User Guide spot-requests.md: "If the Spot Instance is terminated ... the Spot
    Instance request is opened again"), and whether the provider cancels it on delete is not verified
    (hashicorp/terraform-provider-aws#38142; the fix, PR #41206, was open). This command cancels it when the host
    goes. Deletes run dependents first: the cache attachment (which depends on it) stops the host and detaches the
    cache, then this cancels the request, which terminates the stopped instance ("If you cancel a Spot Instance
    request ... Amazon EC2 terminates any associated Spot Instances that are stopped"), then the instance's own
    delete finds it terminated. Cancelling first would not do: a host whose request is cancelled cannot be
    stopped, so the attachment could not detach cleanly. Runs on the deploying machine, with the AWS CLI the
    SSM access path already needs."""
    return command.local.Command(
        child_name(name, "spot-request"),
        delete=CANCEL_SCRIPT,
        interpreter=["/bin/bash", "-c"],
        environment={"SPOT_REQUEST": instance.spot_instance_request_id, "AWS_REGION": region},
        opts=pulumi.ResourceOptions(parent=parent),
    )
