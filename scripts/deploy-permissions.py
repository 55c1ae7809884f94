"""The IAM actions a first deploy of the stack needs, read from deploy-role.yaml (the CI
deploy role grants exactly these), and the one AWS CLI call that checks the shell's
identity has them before a long build:

    make deploy-permissions            # the list, and the command to check it
    python3 scripts/deploy-permissions.py --self-test

It reads the file only; the check itself (`aws iam simulate-principal-policy`) is run by
you, with your credentials (moto, the tests' AWS, has no policy simulator: never run here).
"""
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


class Loader(yaml.SafeLoader):
    """CloudFormation's short tags (`!Sub`, `!Ref`...) read as plain values."""


Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def actions(path=ROOT / "deploy-role.yaml"):
    """{statement Sid: [actions]} of the deploy role's own policy (not its trust policy)."""
    template = yaml.load(path.read_text(), Loader=Loader)
    found = {}
    for resource in template["Resources"].values():
        for policy in (resource.get("Properties") or {}).get("Policies") or []:
            for statement in policy["PolicyDocument"]["Statement"]:
                listed = statement.get("Action")
                listed = [listed] if isinstance(listed, str) else listed or []
                found.setdefault(statement.get("Sid", "-"), []).extend(a for a in listed if a)
    return found


def main():
    found = actions()
    if "--self-test" in sys.argv:
        every = [a for listed in found.values() for a in listed]
        for needed in ("cloudformation:CreateChangeSet", "iam:PassRole", "lambda:CreateFunction",
                       "s3:PutObject", "dynamodb:CreateTable", "sqs:CreateQueue"):
            assert needed in every, f"{needed} not read from deploy-role.yaml"
        assert "sts:AssumeRoleWithWebIdentity" not in every, "the trust policy is not a permission"
        print(f"deploy-permissions: {len(every)} actions in {len(found)} statements read")
        return
    every = sorted({a for listed in found.values() for a in listed})
    for sid, listed in found.items():
        print(f"{sid}: {', '.join(listed)}")
    print(f"\n{len(every)} actions. To check your identity has them before building (an IAM user's or a")
    print("role's ARN; for an assumed or SSO role, the role's ARN from IAM > Roles):\n")
    print("  aws iam simulate-principal-policy --policy-source-arn <your user or role ARN> \\")
    print(f"    --action-names {' '.join(every)} \\")
    print("    --query \"EvaluationResults[?EvalDecision!='allowed'].EvalActionName\"")
    print("\nAn empty list ([]) means every action is allowed (resources are checked by the deploy).")


if __name__ == "__main__":
    main()
