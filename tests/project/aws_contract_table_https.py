"""The contracts of HTTPS by default (#13): ACM's certificate and its validation waiter, Route 53's records.

Same reading as aws_contract_table.py: Pulumi input -> member of the API call terraform-provider-aws makes.
"""

from __future__ import annotations

from aws_contract_rules import BOOLEAN, PROVIDER_ONLY, TAGGING_GUIDE, TF, _reserved_prefix
from aws_contracts import AutoName, Contract, Member, Source, Tagging

HTTPS_CONTRACTS = (
    Contract(
        type="aws:acm/certificate:Certificate",
        service="acm",
        created_by=f"RequestCertificate ({TF}acm/certificate.go resourceCertificateCreate)",
        members=(
            Member("domainName", "RequestCertificate.DomainName"),
            Member("subjectAlternativeNames", "RequestCertificate.SubjectAlternativeNames"),
            Member("subjectAlternativeNames[]", "RequestCertificate.SubjectAlternativeNames[]"),
            Member("validationMethod", "RequestCertificate.ValidationMethod"),
        ),
        tags=Tagging(
            key="RequestCertificate.Tags[].Key",
            value="RequestCertificate.Tags[].Value",
            tag_list="RequestCertificate.Tags",
            rules=_reserved_prefix(Source(TAGGING_GUIDE, "do not use aws: as a prefix for either keys or values")),
        ),
    ),
    Contract(
        type="aws:acm/certificateValidation:CertificateValidation",
        service="acm",
        # No AWS object: the provider polls DescribeCertificate until ISSUED (certificate_validation.go, 75 min).
        created_by=f"DescribeCertificate, polled ({TF}acm/certificate_validation.go "
        "resourceCertificateValidationCreate)",
        members=(Member("certificateArn", "DescribeCertificate.CertificateArn"),),
        unchecked={"validationRecordFqdns": "compared by the provider with the certificate's validation records"},
    ),
    Contract(
        type="aws:route53/record:Record",
        service="route53",
        created_by=f"ChangeResourceRecordSets CREATE ({TF}route53/record.go resourceRecordCreate)",
        members=(
            Member("zoneId", "ChangeResourceRecordSets.HostedZoneId"),
            Member("name", "ChangeResourceRecordSets.ChangeBatch.Changes[].ResourceRecordSet.Name"),
            Member("type", "ChangeResourceRecordSets.ChangeBatch.Changes[].ResourceRecordSet.Type"),
            Member("ttl", "ChangeResourceRecordSets.ChangeBatch.Changes[].ResourceRecordSet.TTL"),
            Member(
                "records[]",
                "ChangeResourceRecordSets.ChangeBatch.Changes[].ResourceRecordSet.ResourceRecords[].Value",
                note="records -> one ResourceRecord each",
            ),
            Member(
                "aliases[].name",
                "ChangeResourceRecordSets.ChangeBatch.Changes[].ResourceRecordSet.AliasTarget.DNSName",
                note="aliases (one) -> AliasTarget",
            ),
            Member(
                "aliases[].zoneId",
                "ChangeResourceRecordSets.ChangeBatch.Changes[].ResourceRecordSet.AliasTarget.HostedZoneId",
            ),
            Member(
                "aliases[].evaluateTargetHealth",
                "ChangeResourceRecordSets.ChangeBatch.Changes[].ResourceRecordSet.AliasTarget.EvaluateTargetHealth",
            ),
        ),
        unchecked={"allowOverwrite": PROVIDER_ONLY + " (UPSERT instead of CREATE); " + BOOLEAN},
    ),
)

_RULE = "CreateWebACL.Rules[]"
_GROUP = f"{_RULE}.Statement.ManagedRuleGroupStatement"
_RATE = f"{_RULE}.Statement.RateBasedStatement"

WAF_CONTRACTS = (
    Contract(
        type="aws:wafv2/webAcl:WebAcl",
        service="wafv2",
        created_by=f"CreateWebACL ({TF}wafv2/web_acl.go resourceWebACLCreate)",
        members=(
            Member("scope", "CreateWebACL.Scope"),
            Member("description", "CreateWebACL.Description"),
            Member("visibilityConfig.metricName", "CreateWebACL.VisibilityConfig.MetricName"),
            Member("rules[].name", f"{_RULE}.Name"),
            Member("rules[].priority", f"{_RULE}.Priority"),
            Member("rules[].visibilityConfig.metricName", f"{_RULE}.VisibilityConfig.MetricName"),
            Member("rules[].statement.rateBasedStatement.limit", f"{_RATE}.Limit"),
            Member("rules[].statement.rateBasedStatement.aggregateKeyType", f"{_RATE}.AggregateKeyType"),
            Member("rules[].statement.rateBasedStatement.evaluationWindowSec", f"{_RATE}.EvaluationWindowSec"),
            Member("rules[].statement.managedRuleGroupStatement.name", f"{_GROUP}.Name"),
            Member("rules[].statement.managedRuleGroupStatement.vendorName", f"{_GROUP}.VendorName"),
            Member(
                "rules[].statement.managedRuleGroupStatement.ruleActionOverrides[].name",
                f"{_GROUP}.RuleActionOverrides[].Name",
            ),
            Member(
                "rules[].action.block.customResponse.responseCode",
                f"{_RULE}.Action.Block.CustomResponse.ResponseCode",
            ),
            Member(
                "rules[].action.block.customResponse.customResponseBodyKey",
                f"{_RULE}.Action.Block.CustomResponse.CustomResponseBodyKey",
            ),
        ),
        tags=Tagging(
            key="CreateWebACL.Tags[].Key",
            value="CreateWebACL.Tags[].Value",
            tag_list="CreateWebACL.Tags",
            rules=_reserved_prefix(Source(TAGGING_GUIDE, "do not use aws: as a prefix for either keys or values")),
        ),
        auto_name=AutoName(
            "CreateWebACL.Name",
            128,
            "botocore wafv2 EntityName (max 128, [\\w\\-]+); the maxlen pulumi-aws gives this resource: NOT VERIFIED",
        ),
        unchecked={
            "defaultAction": "allow: an empty structure (AllowAction has only optional members)",
            "customResponseBodies": "a map in the API (key -> CustomResponseBody); ours is one short JSON body",
        },
    ),
    Contract(
        type="aws:wafv2/webAclAssociation:WebAclAssociation",
        service="wafv2",
        created_by=f"AssociateWebACL ({TF}wafv2/web_acl_association.go)",
        members=(
            Member("resourceArn", "AssociateWebACL.ResourceArn"),
            Member("webAclArn", "AssociateWebACL.WebACLArn"),
        ),
    ),
)
