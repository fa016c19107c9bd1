"""Checks each function's AWS calls, as the integration tests made them, against the IAM policy
`template.yaml` gives that function.

moto checks no IAM policy, so a call the template does not allow passes every local test and is
refused by AWS (`AccessDeniedException`). The tests sign each function's calls with its template
name as the access key id (`LoginFunction`, ...); moto's launcher, with `MOTO_CALL_LOG` set,
logs each call (`scripts/moto_server.py`); this compares that log with the template:

- an operation is allowed when a statement of the function's `Policies` lists its action
  (`dynamodb:GetItem`) or a wildcard over it (`dynamodb:*`), a statement under `!If` counting
  as granted (the deployment's condition, such as `UseSes`, is not evaluated); a `Query` or `Scan` of an index
  needs a statement that also names the table's indexes (`${Table.Arn}/index/*`); other
  resources and conditions are not checked;
- a DynamoDB `TransactWriteItems` needs the action of each kind of item in it (`PutItem`,
  `UpdateItem`, `DeleteItem`, `ConditionCheckItem`), as AWS authorises it;
- Cognito's operations that a person's own token or the app client authorises (`InitiateAuth`,
  `GetUser`, ...) need no IAM permission and are skipped;
- calls signed with any other key (the tests' own set-up) are not a function's; a key ending in
  `Function` that names no function of the template fails (a misspelt or renamed name would
  otherwise turn its check off).

Usage: python3 scripts/iam_check.py CALL_LOG [TEMPLATE]   (exit 1 on a call not allowed, a key
naming no function, or no function's call at all)
"""

import fnmatch
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

# Cognito operations authorised by a person's access token, a session or the app client, not IAM.
COGNITO_PUBLIC = {
    "InitiateAuth", "RespondToAuthChallenge", "SignUp", "ConfirmSignUp", "ResendConfirmationCode", "ForgotPassword",
    "ConfirmForgotPassword", "GetUser", "ChangePassword", "DeleteUser", "UpdateUserAttributes", "VerifyUserAttribute",
    "GetUserAttributeVerificationCode", "AssociateSoftwareToken", "VerifySoftwareToken", "SetUserMFAPreference",
    "GlobalSignOut", "RevokeToken", "GetTokensFromRefreshToken", "StartWebAuthnRegistration", "CompleteWebAuthnRegistration",
    "ListWebAuthnCredentials", "DeleteWebAuthnCredential", "ListDevices", "ForgetDevice", "ConfirmDevice", "GetUserAuthFactors",
}

TRANSACT_ITEM_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


class TemplateLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (`!Ref`, `!Sub`, ...) read as plain values."""


def _tag(loader, _suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


TemplateLoader.add_multi_constructor("!", _tag)


def listed(value):
    return [value] if isinstance(value, (str, dict)) else list(value or [])


def conditional(statement):
    """The statements a `!If [Condition, A, B]` may stand for (both branches: the check allows
    what either grants, so a condition is not evaluated); a plain statement itself."""
    if isinstance(statement, list):
        return [branch for branch in statement[1:] if isinstance(branch, dict)]
    return [statement]


def allowed_actions(template):
    """Per function (logical id): the actions its inline policy statements allow, each with
    whether a statement allowing it names a table's indexes (`.../index/...`) among its
    resources."""
    functions = {}
    for name, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        actions = {}
        for policy in resource.get("Properties", {}).get("Policies", []) or []:
            statements = policy.get("Statement", []) if isinstance(policy, dict) else []
            for statement in (s for item in listed(statements) for s in conditional(item)):
                if statement.get("Effect") != "Allow":
                    continue
                indexes = any(isinstance(r, str) and "/index/" in r for r in listed(statement.get("Resource")))
                for action in listed(statement.get("Action")):
                    actions[action.lower()] = actions.get(action.lower(), False) or indexes
        functions[name] = actions
    return functions


def needed(call):
    """The IAM actions one logged call needs, as (action, whether it reads an index); none for
    an operation IAM does not authorise."""
    service, _, op = call["op"].partition(":")
    if service == "cognito-idp" and op in COGNITO_PUBLIC:
        return []
    if call["op"] == "dynamodb:TransactWriteItems":
        return [(f"dynamodb:{TRANSACT_ITEM_ACTIONS.get(kind, kind)}", False) for kind in call.get("items", [])]
    if call["op"] == "dynamodb:TransactGetItems":
        return [("dynamodb:GetItem", False)]
    return [(call["op"], bool(call.get("index")))]


def allows(actions, action, on_index):
    """Whether `actions` (from `allowed_actions`) allow `action`, on an index if `on_index`."""
    return any(fnmatch.fnmatchcase(action.lower(), granted) and (indexes or not on_index) for granted, indexes in actions.items())


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    log = Path(sys.argv[1])
    template = yaml.load(Path(sys.argv[2] if len(sys.argv) > 2 else ROOT / "template.yaml").read_text(), Loader=TemplateLoader)
    allowed = allowed_actions(template)
    calls = [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.exists() else []
    seen, missing = {}, {}
    strangers = sorted({call["key"] for call in calls if call["key"].endswith("Function") and call["key"] not in allowed})
    for call in calls:
        function = call["key"]
        if function not in allowed:
            continue
        for action, on_index in needed(call):
            shown = action + (" on an index" if on_index else "")
            seen.setdefault(function, set()).add(shown)
            if not allows(allowed[function], action, on_index):
                missing.setdefault(function, set()).add(shown)
    if not seen:
        sys.exit(f"iam_check: no function's call in {log}: were the integration tests run with MOTO_CALL_LOG set?")
    for function in sorted(seen):
        print(f"{function}: {len(seen[function])} actions called, {len(missing.get(function, ()))} not allowed")
    for function, actions in sorted(missing.items()):
        for action in sorted(actions):
            print(f"NOT ALLOWED: {function} calls {action}, which template.yaml does not grant it")
    untested = sorted(set(allowed) - set(seen))
    if untested:
        print(f"no calls logged for: {', '.join(untested)}")
    for stranger in strangers:
        print(f"NOT IN THE TEMPLATE: calls signed as {stranger}, which template.yaml has no function named")
    sys.exit(1 if missing or strangers else 0)


if __name__ == "__main__":
    main()
