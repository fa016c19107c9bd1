"""Runs moto's server on loopback for local runs and tests.

Usage: python3 scripts/moto_server.py [PORT]   (0 or nothing: a free port)
Prints `READY <port>` once it answers, and exits when its parent process does.

One fidelity fix is applied, and only one: moto 5.2.5 puts only `custom:` attributes and
groups into Cognito ID tokens, while Cognito puts every readable standard attribute there too
(`name`, `email`, `email_verified` as a boolean, `phone_number`, `locale`, ...). The bridge reads
the person's profile from the ID token alone, so without this the local pool would sign people
in without a name.
"""

import logging
import os
import socket
import sys
import threading
import time

from moto.cognitoidp.models import CognitoIdpUserPool
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
