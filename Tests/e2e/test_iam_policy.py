"""deploy/iam-policy.json against what a full rescue really calls (the local cloud's call log,
by the controller's access key — presigned URLs carry it too): nothing missing, nothing extra
beyond the calls that only some rescues make (listed here with the reason)."""
from __future__ import annotations

import json
import urllib.request

from conftest import REPO, launch

# Call-log names → IAM actions where they differ (S3 REST operations).
# HeadObject needs s3:GetObject (the HeadObject API reference, "Permissions").
IAM_NAME = {"PutPublicAccessBlock": "PutBucketPublicAccessBlock", "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
            "HeadObject": "GetObject"}
# In the policy, not made by the plain rescue below.
CONDITIONAL = {
    "ec2:DescribeSpotInstanceRequests": "only for Spot instances",
    "kms:DescribeKey": "only for an encrypted root volume",
    "kms:CreateGrant": "a customer-managed key: EC2 creates grants with the caller's rights (and the DryRun probe)",
    "kms:Decrypt": "a customer-managed key: EC2 decrypts the root's data key with the caller's rights",
    "kms:ReEncrypt*": "a customer-managed key (EC2 via kms:ViaService)",
    "kms:GenerateDataKeyWithoutPlaintext": "a customer-managed key (EC2 via kms:ViaService)",
    "autoscaling:DescribeAutoScalingGroups": "only for an Auto Scaling member",
    "autoscaling:EnterStandby": "only with --standby",
    "autoscaling:ExitStandby": "only with --standby",
    "sts:DecodeAuthorizationMessage": "only when a DryRun probe is denied with an encoded message",
    "ec2:DeleteSnapshot": "only with --delete-snapshot",
    "ec2:GetConsoleOutput": "only when the report is late (console fallback)",
    "s3:ListBucket": "only `keyrescue cleanup` (S3 leftovers of old runs)",
    "ec2:DescribeKeyPairs": "only `keyrescue diagnose`",
    "ec2:DescribeNetworkAcls": "only `keyrescue diagnose`",
    "ec2:DescribeInstanceStatus": "only `keyrescue diagnose`",
    "ssm:SendCommand": "only when the SSM route is open (an Online managed node)",
    "ssm:GetCommandInvocation": "only when the SSM route is open",
    "ssm:CancelCommand": "only when an SSM command does not finish in --route-timeout",
    "ec2-instance-connect:SendSSHPublicKey": "only when the Instance Connect route is open",
}


def policy_actions() -> set[str]:
    policy = json.loads((REPO / "deploy/iam-policy.json").read_text())
    actions: set[str] = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        listed = statement["Action"]
        actions.update([listed] if isinstance(listed, str) else listed)
    return actions


def test_policy_matches_the_calls_of_a_full_rescue(ec2, cloud, rescuer, tmp_path):
    iid, _ = launch(ec2, tmp_path)
    key = "AKIDPOLICYCHECK"
    out = rescuer.run("reset", iid, "--generate-key", str(tmp_path / "n"), "--yes", "--verify", "none", AWS_ACCESS_KEY_ID=key)
    assert out.returncode == 0, out.stdout + out.stderr
    calls = [c for c in json.load(urllib.request.urlopen(f"{cloud}/_localcloud/calls")) if c.get("access_key_id") == key]
    called = {f"{c['service']}:{IAM_NAME.get(c['action'], c['action'])}" for c in calls}
    allowed = policy_actions()
    assert not called - allowed, f"the policy misses {sorted(called - allowed)}"
    extra = allowed - called - set(CONDITIONAL)
    assert not extra, f"the policy grants what no rescue calls: {sorted(extra)}"
    print(f"{len(calls)} API calls, {len(called)} actions: {sorted(called)}")
    assert len(calls) < 150, f"{len(calls)} API calls for one rescue"
