"""The IAM check itself, against the real template: what it must refuse and what it must pass.

Usage: python3 scripts/iam_check_test.py
"""

import json
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

CHECK = Path(__file__).resolve().parent / "iam_check.py"


def check(*calls):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as log:
        log.write("".join(json.dumps(call) + "\n" for call in calls))
    done = subprocess.run([sys.executable, str(CHECK), log.name], capture_output=True, text=True)
    Path(log.name).unlink()
    return done.returncode, done.stdout + done.stderr


class IamCheck(unittest.TestCase):
    def test_granted_calls_pass(self):
        code, out = check({"key": "LoginFunction", "op": "dynamodb:Query", "index": "gsi1"},
                          {"key": "LoginFunction", "op": "dynamodb:TransactWriteItems", "items": ["ConditionCheck", "Put"]},
                          {"key": "LoginFunction", "op": "cognito-idp:InitiateAuth"},
                          {"key": "local", "op": "dynamodb:CreateTable"})
        self.assertEqual(code, 0, out)

    def test_a_statement_under_a_condition_counts(self):
        code, out = check({"key": "WorkflowsFunction", "op": "ses:SendEmail"})
        self.assertEqual(code, 0, out)
        code, out = check({"key": "LoginFunction", "op": "ses:SendEmail"})
        self.assertEqual(code, 1, out)

    def test_an_action_not_granted_fails(self):
        code, out = check({"key": "SmsSenderFunction", "op": "kms:Encrypt"})
        self.assertEqual(code, 1, out)
        self.assertIn("SmsSenderFunction calls kms:Encrypt", out)

    def test_a_transaction_needs_each_kind_of_item(self):
        code, out = check({"key": "WorkflowsFunction", "op": "dynamodb:TransactWriteItems", "items": ["ConditionCheck"]})
        self.assertEqual(code, 1, out)
        self.assertIn("dynamodb:ConditionCheckItem", out)

    def test_an_index_needs_the_indexes_among_the_resources(self):
        code, out = check({"key": "TriggersFunction", "op": "dynamodb:Query", "index": "gsi1"})
        self.assertEqual(code, 1, out)
        code, out = check({"key": "TriggersFunction", "op": "dynamodb:Query"})
        self.assertEqual(code, 0, out)

    def test_a_name_no_function_has_fails(self):
        code, out = check({"key": "LoginFunction", "op": "dynamodb:GetItem"}, {"key": "LogInFunction", "op": "dynamodb:GetItem"})
        self.assertEqual(code, 1, out)
        self.assertIn("LogInFunction", out)

    def test_no_function_call_at_all_fails(self):
        code, out = check({"key": "local", "op": "dynamodb:GetItem"})
        self.assertEqual(code, 1, out)


if __name__ == "__main__":
    unittest.main()
