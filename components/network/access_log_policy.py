"""Who writes ALB access logs in each region, and the bucket policy that lets it (and nothing else, in clear).

Pure: :mod:`components.network.access_logs` attaches the policy to the bucket it creates.

The writer depends on the region's age:

- regions available before August 2022 grant ``s3:PutObject`` to the regional Elastic Load Balancing account
  (``arn:<partition>:iam::<elb-account>:root``), the table :data:`ELB_ACCOUNTS`;
- newer regions (``me-central-1`` and later) grant it to the service principal
  ``logdelivery.elasticloadbalancing.amazonaws.com``.

Sources: the ALB User Guide, enable-access-logging.html "Step 2: Attach a policy to your S3 bucket" (the archived
copy awsdocs/elb-application-load-balancers-user-guide @01a945e doc_source/enable-access-logging.md lists the
accounts and says "For the Regions that do not appear in the list above, such as Middle East (UAE), use ...
logdelivery.elasticloadbalancing.amazonaws.com"); the table is terraform-provider-aws's
internal/service/elb/service_account_data_source.go @01f4311 (accountIDPerRegionMap; ``me-central-1`` commented
out, "unsupported AWS Region" for any other), which is why the stack does not call ``aws.elb.get_service_account``.
"""

from __future__ import annotations

import json

from ..config.aws_ids import partition

ELB_ACCOUNTS: dict[str, str] = {
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887",
    "ap-northeast-3": "383597477331",
    "ap-south-1": "718504428378",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-southeast-3": "589379963580",
    "ca-central-1": "985666609251",
    "cn-north-1": "638102146993",
    "cn-northwest-1": "037604701340",
    "eu-central-1": "054676820928",
    "eu-north-1": "897822967062",
    "eu-south-1": "635631232127",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-west-3": "009996457667",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-gov-east-1": "190560391635",
    "us-gov-west-1": "048591011584",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
}
LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"


def log_writer(region: str) -> dict[str, str]:
    """The ``Principal`` that delivers ALB access logs in ``region``."""
    account = ELB_ACCOUNTS.get(region)
    if account is None:
        return {"Service": LOG_DELIVERY_SERVICE}
    return {"AWS": f"arn:{partition(region)}:iam::{account}:root"}


def bucket_policy(bucket_arn: str, *, region: str, account_id: str) -> str:
    """ELB may put objects under ``AWSLogs/<this account>/`` only; every request without TLS is denied.

    Scoped to the account's own prefix: the regional ELB account writes for every customer's load balancers, and
    only this account's should land here.
    """
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AlbAccessLogDelivery",
                    "Effect": "Allow",
                    "Principal": log_writer(region),
                    "Action": "s3:PutObject",
                    "Resource": f"{bucket_arn}/AWSLogs/{account_id}/*",
                },
                {
                    "Sid": "DenyWithoutTls",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        }
    )
