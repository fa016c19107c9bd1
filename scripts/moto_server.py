"""Runs moto's server on loopback for local runs and tests.

Usage: python3 scripts/moto_server.py [PORT]   (0 or nothing: a free port)
Prints `READY <port>` once it answers, and exits when its parent process does.

Cognito's authenticator-app codes are checked as Cognito checks them (RFC 6238 against the
secret `AssociateSoftwareToken` gave): `MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP=true`.

Two changes to moto 5.2.5, both for fidelity to AWS, neither to its answers' logic:

- Cognito ID tokens: moto puts only `custom:` attributes and groups there, while Cognito puts
  every readable standard attribute too (`name`, `email`, `email_verified` as a boolean,
  `phone_number`, `locale`, ...). The bridge reads the person's profile from the ID token alone,
  so without this the local pool would sign people in without a name.
- DynamoDB transactions: moto backs up the whole table (a deep copy) for every item of every
  `TransactWriteItems`, so a transaction costs time in proportion to the table's size and a
  10,000-user SCIM import never finishes. Here only the items a transaction touches are backed
  up and restored when it is cancelled: the same all-or-nothing outcome, in constant time.
"""

import logging
import os

os.environ.setdefault("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
import socket
import sys
import threading
import time

import copy

import moto.dynamodb.models as dynamodb_models
from moto.cognitoidp.models import CognitoIdpUserPool
from moto.dynamodb.models import DynamoDBBackend
from moto.server import ThreadedMotoServer

BOOLEAN_ATTRIBUTES = {"email_verified", "phone_number_verified"}
HIDDEN_ATTRIBUTES = {"sub"}
_create_jwt = CognitoIdpUserPool.create_jwt


def create_jwt(self, client_id, username, token_use, expires_in=60 * 60, extra_data=None):
    if token_use == "id":
        user = self._get_user(username)
        standard = {}
        for attribute in user.attributes:
            name, value = attribute["Name"], attribute["Value"]
            if name.startswith("custom:") or name in HIDDEN_ATTRIBUTES:
                continue
            standard[name] = value.lower() == "true" if name in BOOLEAN_ATTRIBUTES else value
        extra_data = {**standard, **(extra_data or {})}
    return _create_jwt(self, client_id, username, token_use, expires_in, extra_data)


CognitoIdpUserPool.create_jwt = create_jwt


class _NoTableCopy:
    """Stands in for the `copy` module inside moto's transaction code: tables are not copied,
    everything else is."""

    @staticmethod
    def deepcopy(value, *args, **kwargs):
        return value if isinstance(value, dynamodb_models.Table) else copy.deepcopy(value, *args, **kwargs)


_transact_write_items = DynamoDBBackend.transact_write_items


def transact_write_items(self, transact_items):
    touched = []
    for entry in transact_items:
        op_type, op = next(iter(entry.items()))
        try:
            table = self.get_table(op["TableName"])
            if op_type == "Put":
                key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = op["Item"][table.range_key_attr]
            else:
                key = op["Key"]
            current = self.get_item(op["TableName"], key)
        except Exception:
            continue  # moto reports the problem itself
        touched.append((op["TableName"], key, copy.deepcopy(current.to_json()["Attributes"]) if current else None))
    dynamodb_models.copy = _NoTableCopy
    try:
        return _transact_write_items(self, transact_items)
    except Exception:
        for table_name, key, before in reversed(touched):
            if before is None:
                if self.get_item(table_name, key) is not None:
                    self.delete_item(table_name, key)
            else:
                self.put_item(table_name, before)
        raise
    finally:
        dynamodb_models.copy = copy


DynamoDBBackend.transact_write_items = transact_write_items


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    port = port or free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    parent = os.getppid()
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    print(f"READY {port}", flush=True)
    stop = threading.Event()
    while not stop.wait(0.5):
        if os.getppid() != parent:
            break
    server.stop()


if __name__ == "__main__":
    main()
