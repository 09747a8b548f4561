"""sns:Publish for the host that runs Alertmanager, and only there (observability/alert_delivery.py), judged by the
IAM evaluator (tests/host/iam_policy_eval.py)."""

from __future__ import annotations

import pytest
from iam_policy_eval import decide, statements
from stack_runs import named, of_type, run_stack

from components.cli.program import OFFLINE_ACCOUNT_ID


def topic_arn(name: str) -> str:
    return f"arn:aws:sns:us-east-1:{OFFLINE_ACCOUNT_ID}:{name}"


@pytest.mark.parametrize(("stack", "publisher"), [("prod", "monitoring"), ("dev", "qwen-7b-0")])
def test_only_the_alertmanager_host_may_publish_and_only_to_the_two_topics(stack: str, publisher: str) -> None:
    run = run_stack(stack)
    policies = [p for p in of_type(run, "aws:iam/rolePolicy:RolePolicy") if p.name.endswith("-publish-alerts")]
    assert [p.name for p in policies] == [f"{publisher}-publish-alerts"]
    (policy,) = policies
    assert policy.inputs["role"] == named(run, f"{publisher}-profile").inputs["role"]
    allowed = statements([policy.inputs["policy"]])
    for topic in ("alerts-topic", "alerts-heartbeat-topic"):
        assert decide(allowed, "sns:Publish", topic_arn(topic)) == "allowed"
    assert decide(allowed, "sns:Publish", topic_arn("someone-elses-topic")) == "implicitly denied"
    assert decide(allowed, "sns:Subscribe", topic_arn("alerts-topic")) == "implicitly denied"
