"""Runs moto's server on loopback for local runs and tests.

Usage: python3 scripts/moto_server.py [PORT]   (0 or nothing: a free port)
Prints `READY <port>` once it answers, and exits when its parent process does.

Cognito's authenticator-app codes are checked as Cognito checks them (RFC 6238 against the
secret `AssociateSoftwareToken` gave): `MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP=true`.

With `MOTO_CALL_LOG` set, each request is appended to that file as a JSON line `{"key", "op",
"items"}`: the access key id it was signed with (the integration tests sign each function's
calls with its template name, `LoginFunction`, ...), the operation (`dynamodb:GetItem`,
`cognito-idp:AdminGetUser`, ...) and, for a DynamoDB transaction, the kinds of its items
(`Put`, `Update`, `Delete`, `ConditionCheck`), for a `Query` or `Scan` of an index its `index`.
REST-protocol calls are logged by their IAM action (SES v2 `SendEmail`: `ses:SendEmail`). moto
checks no IAM policy; `scripts/iam_check.py` compares this log with `template.yaml`'s.

Changes to moto 5.2.5, each for fidelity to AWS:

- Cognito ID tokens: moto puts only `custom:` attributes and groups there, while Cognito puts
  every readable standard attribute too (`name`, `email`, `email_verified` as a boolean,
  `phone_number`, `locale`, ...). The bridge reads the person's profile from the ID token alone,
  so without this the local pool would sign people in without a name.
- `ConfirmForgotPassword`: a wrong code is `CodeMismatchException` (moto says expired) and an
  unknown user is what the app client's `PreventUserExistenceErrors` says (moto answers
  `ResourceNotFoundException`, which in Cognito means a missing pool or client).
- Attribute verification codes (`GetUserAttributeVerificationCode`, `VerifyUserAttribute`),
  which moto lacks: as Cognito, a 6-digit code per attribute for the access token's user, valid
  24 hours, wrong five times and it is spent (`LimitExceededException`), masked destination
  in the answer. Cognito emails the code; here, as every email (below), it is appended as a
  JSON line (`{"pool", "username", "kind", "attribute", "destination", "code", "subject",
  "html", "at"}`) to the file named by `MOTO_COGNITO_OUTBOX` (default:
  `moto-outbox-{port}.jsonl` in the temporary directory), the local stand-in for the person's
  mailbox (`demo/mail_inbox.py` shows it).
- Emails and triggers: where a pool names a `CustomMessage` or `PostConfirmation` trigger in its
  `LambdaConfig`, Cognito invokes it; moto invokes none. Here the trigger is invoked through the
  Lambda Invoke API at `MOTO_LAMBDA_ENDPOINT` (`POST /2015-03-31/functions/{arn}/invocations`,
  the bridge's own handler: `triggers::local_invoke`), with the event Cognito sends. Every email
  Cognito would send (sign-up and resent codes, password reset, attribute verification,
  invitations) is rendered by the `CustomMessage` trigger where there is one (Cognito's default
  text otherwise), its placeholders filled in, and appended to the outbox (below) with its
  subject and HTML. A trigger that fails fails the operation with `UserLambdaValidationException`.
- Sign-up codes, which moto lacks (it confirms any code): `SignUp` makes a 6-digit code valid
  24 hours; `ConfirmSignUp` refuses a wrong one (`CodeMismatchException`; from the fifth wrong
  one on, every try is `LimitExceededException` until a new code is sent), an expired one (`ExpiredCodeException`), an unknown user
  as the client's `PreventUserExistenceErrors` says, and an account already confirmed
  (`NotAuthorizedException`); it sets `email_verified` and runs `PostConfirmation`.
  `ResendConfirmationCode` (missing in moto) sends a new code. For tests, codes sent to an email
  starting with `MOTO_COGNITO_EXPIRED_CODE_PREFIX` are expired at once. `ForgotPassword` codes are 6
  digits valid an hour (moto's were `moto-confirmation-code:...`, and any other code passed).
- DynamoDB writes are serialised (one lock): DynamoDB applies a conditional write atomically,
  moto's threaded server does not, so two racing conditional writes to one item could both pass.
- DynamoDB transactions: moto backs up the whole table (a deep copy) for every item of every
  `TransactWriteItems`, so a transaction costs time in proportion to the table's size and a
  10,000-user SCIM import never finishes. Here only the items a transaction touches are backed
  up and restored when it is cancelled: the same all-or-nothing outcome, in constant time.
- DynamoDB queries on the table's own key read only the queried partition; moto read and
  sorted every item of the table for each, so a page of a 10,000-user SCIM listing took seconds
  (the SDK's 2 s timeout cut it off). Queries on an index are unchanged.
- Cognito users found by an attribute (`AdminGetUser` by email in a pool that signs in by
  email, `AdminCreateUser`'s check that the email is free, `ListUsers` with `email = "..."`):
  moto reads every user of the pool for each, so a 10,000-user import cost time in the square
  of its size. Here an index by attribute value answers them, with the same answers.
- Case: in a pool whose `UsernameConfiguration.CaseSensitive` is false, Cognito treats any
  variation in case of an email (or `preferred_username`) alias as the same user; moto compared
  them exactly, so `AdminCreateUser` made a second user for `Taro@Example.com` beside
  `taro@example.com`, and `AdminGetUser` by the other case found none. Here alias lookups and
  the check that a new user's email is free ignore case in such a pool (`ListUsers` filters stay
  exact).
- The app client's secret on `USER_PASSWORD_AUTH`: moto signed in a client with a secret without
  its `SECRET_HASH` (it checks it only for SRP and refresh sign-ins). As Cognito, it is checked
  first once the client enables the flow (`NotAuthorizedException`), as it is here for
  `USER_AUTH`, `AdminInitiateAuth` (`ADMIN_USER_PASSWORD_AUTH`), `SignUp` and their kin (`ConfirmSignUp`, `ResendConfirmationCode`, `ForgotPassword`,
  `ConfirmForgotPassword`).
- App clients' `ExplicitAuthFlows`: moto runs any flow through any client. As Cognito,
  `InitiateAuth` and `AdminInitiateAuth` run a flow only where the client enables it (a client
  that names none has Cognito's default: SRP, custom and refresh), else
  `InvalidParameterException` ("USER_PASSWORD_AUTH flow not enabled for this client").
- `AdminInitiateAuth` with `ADMIN_USER_PASSWORD_AUTH` runs as `USER_PASSWORD_AUTH` does here (the
  second factor and reset-required below, an unconfirmed user refused), in the pool it names,
  with the client's `SECRET_HASH` where it has a secret; moto's own admin flow asked for a
  second factor only when preferred. `AdminRespondToAuthChallenge` answers as
  `RespondToAuthChallenge` does.
- `PreSignUp`: where a pool names the trigger, `SignUp` invokes it first (`PreSignUp_SignUp`), as
  Cognito does, and a failing trigger fails the sign-up before any user is made. moto invokes
  it for nothing else (Cognito also does for `AdminCreateUser` and a first federated sign-in).
  While a trigger runs, the launcher's lock on the pools is let go, so a trigger may call
  Cognito (`ListUserPoolClients`).
- A second factor after a right password (`USER_PASSWORD_AUTH`, and `PASSWORD` in `USER_AUTH`):
  moto asks for a factor only when it is the preferred one, and otherwise signs the person in
  without it. As Cognito, a factor turned on is asked for preferred or not, and two turned on
  with neither preferred is `SELECT_MFA_TYPE` (`MFAS_CAN_CHOOSE`; the answer's `ANSWER` picks
  one, then its code step).
- `DeleteUser` (missing in moto): the access token's user is deleted with every token, their
  groups and passkeys, as Cognito does; a disabled or unconfirmed user is `NotAuthorizedException`.
- `UpdateUserAttributes` writes only what the app client's `WriteAttributes` allows (moto writes
  anything): another attribute is `NotAuthorizedException`, as in Cognito; a new `email` or
  `phone_number` is unverified until `VerifyUserAttribute` (moto kept it verified). Not emulated:
  the code Cognito sends by itself for an auto-verified attribute changed without the setting
  below.
- `UserAttributeUpdateSettings.AttributesRequireVerificationBeforeUpdate` (moto ignores it): as
  Cognito, a new `email` of a pool that names it is kept pending, the current one stays (and
  signs in), and a code goes to the new address by itself (`CustomMessage_UpdateUserAttribute`,
  `CodeDeliveryDetailsList` in the answer); `GetUserAttributeVerificationCode` sends another
  there; `VerifyUserAttribute` with it makes it the email, verified. An address another user
  has is `AliasExistsException`, at the change and again when it is verified (floci, another
  emulator, checks it at the latter). `AdminUpdateUserAttributes` applies a new email at once
  (Cognito does too when `email_verified: true` comes with it, as the bridge always sends).
- Codes for `phone_number` go to the outbox too, as `medium: SMS` with the `CustomMessage`
  trigger's `smsMessage` (Cognito's default text otherwise); Cognito sends them by SMS (or
  through the `CustomSMSSender` trigger), which the local stack does not reach.
- `AdminCreateUser` without `MessageAction: SUPPRESS` makes a temporary password when none is
  given and mails the invitation (moto made none and sent nothing); `RESEND` mails a new one to
  an invitation not taken up, `UnsupportedUserStateException` otherwise (moto made a second
  user with the same email). Not emulated: the temporary password's expiry
  (`TemporaryPasswordValidityDays`).
- `AdminResetUserPassword` mails a reset code (`CustomMessage_ForgotPassword`), the old password
  then signs in as `PasswordResetRequiredException` (moto's `USER_PASSWORD_AUTH` let it sign in),
  and `ConfirmForgotPassword` ends the reset (moto sent nothing and kept the status). Not
  emulated: what Cognito does with an email-code or passkey sign-in of such a user (AWS does
  not say; here they sign in).
- `SetUserMFAPreference` and `AdminSetUserMFAPreference` with a settings object whose members
  are all `false` turn the factor off, as in Cognito; the AWS SDKs leave `false` members out, and moto ignored the empty object.
- Amazon SES: each message `SendEmail` accepts (v1, or v2 with simple content: moto checks
  that the sender is a verified identity) goes to the outbox too, one line per recipient, as
  `{"kind": "SES", "medium": "EMAIL", "from", "destination", "subject", "text", "message_id",
  "at"}` (moto only keeps it in memory). Not emulated: SES's sandbox (verified recipients only),
  its sending quotas, bounces and complaints.
- Cognito requests run one at a time (one lock): moto's user pools are not thread-safe, and
  under concurrent `AdminCreateUser` calls some answered 500 (a dictionary changed while
  another request read it), which Cognito never does.
"""

import logging
import os

os.environ.setdefault("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
import socket
import sys
import threading
import time

import copy
import functools
import inspect
import io
import json
import re
import secrets
import tempfile
import urllib.parse
import urllib.request

import moto.dynamodb.models as dynamodb_models
from moto.cognitoidp.exceptions import (CodeMismatchException, ExpiredCodeException, InvalidParameterException, NotAuthorizedError,
                                        ResourceNotFoundError, UserNotFoundError)
from moto.cognitoidp.exceptions import AliasExistsException
from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUser, CognitoIdpUserPool, UserStatus, cognitoidp_backends, find_account_region_by_value
from moto.cognitoidp.utils import PAGINATION_MODEL, check_secret_hash
from moto.utilities.paginator import paginate
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult, EmptyResult
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler
from moto.server import ThreadedMotoServer
from moto.ses.models import SESBackend

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


PORT = 0  # set by main()
CODE_TTL = 24 * 3600
RESET_CODE_TTL = 3600
CODE_ATTEMPTS = 5
# Cognito's own texts, where a pool has no CustomMessage trigger.
DEFAULT_EMAIL = {"subject": "Your verification code", "html": "Your verification code is {####}. "}
DEFAULT_INVITATION = {"subject": "Your temporary password", "html": "Your username is {username} and temporary password is {####}. "}


def _mask(value):
    if "@" in value:
        local, domain = value.split("@", 1)
        return f"{local[:1]}***@{domain[:1]}***"
    return "+" + "*" * max(len(value) - 5, 0) + value[-4:]


def _user_of(response, access_token):
    backend = response._get_region_agnostic_backend()._find_backend_by_access_token(access_token)
    for pool in backend.user_pools.values():
        if access_token in pool.access_tokens:
            return pool, backend.get_user(access_token)
    raise NotAuthorizedError("Invalid Access Token")


def _attributes(user):
    return {a["Name"]: a["Value"] for a in user.attributes}


def _invoke(pool, name, event):
    """Invokes the pool's trigger `name` (a `LambdaConfig` key) with `event` through the Lambda
    Invoke API, as Cognito does; its answer, or None when the pool names no such trigger or no
    endpoint is set. A function error is Cognito's `UserLambdaValidationException`."""
    arn = (pool.extended_config.get("LambdaConfig") or {}).get(name)
    endpoint = os.environ.get("MOTO_LAMBDA_ENDPOINT")
    if not arn or not endpoint:
        return None
    url = f"{endpoint.rstrip('/')}/2015-03-31/functions/{urllib.parse.quote(arn, safe='')}/invocations"
    request = urllib.request.Request(url, data=json.dumps(event).encode(), headers={"content-type": "application/json"}, method="POST")
    # The trigger may call Cognito itself (`ListUserPoolClients`): the lock this thread holds on
    # the pools is let go meanwhile (every level of it), as Cognito holds none across a trigger;
    # other calls may run in between, as they may in Cognito. (`RLock`'s `_is_owned`,
    # `_release_save` and `_acquire_restore` are what `threading.Condition` uses.)
    held = _COGNITO_LOCK._release_save() if _COGNITO_LOCK._is_owned() else None
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            answer = json.loads(response.read() or b"null")
            failed = response.headers.get("X-Amz-Function-Error")
    except (OSError, ValueError) as e:
        raise JsonRESTError("UnexpectedLambdaException", f"{name} could not be invoked: {e}")
    finally:
        if held is not None:
            _COGNITO_LOCK._acquire_restore(held)
    if failed:
        message = (answer or {}).get("errorMessage", "the function failed")
        raise JsonRESTError("UserLambdaValidationException", f"{name} failed with error {message}.")
    return answer


def _event(pool, user, source, client_id, client_metadata, request):
    return {"version": "1", "triggerSource": source, "region": pool.region, "userPoolId": pool.id, "userName": user.username,
            "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client_id or "CLIENT_ID_NOT_APPLICABLE"},
            "request": {"userAttributes": _attributes(user), "clientMetadata": client_metadata or {}, **request}, "response": {}}


def _send_email(pool, user, source, code, client_id=None, client_metadata=None, attribute="email", destination=None):
    """Sends the email of trigger `source` (`CustomMessage_SignUp`, ...) carrying `code` to the
    user's `attribute` (or to `destination`, a pending new value), as Cognito does: the
    CustomMessage trigger's subject and HTML where the pool has one, Cognito's default text
    otherwise; then to the outbox."""
    destination = destination or _attributes(user).get(attribute)
    if not destination:
        return None
    invitation = source == "CustomMessage_AdminCreateUser"
    request = {"codeParameter": "{####}", "usernameParameter": "{username}" if invitation else None, "linkParameter": "{##Click Here##}"}
    answer = _invoke(pool, "CustomMessage", _event(pool, user, source, client_id, client_metadata, request))
    response = (answer or {}).get("response") or {}
    default = DEFAULT_INVITATION if invitation else DEFAULT_EMAIL
    subject, html = response.get("emailSubject") or default["subject"], response.get("emailMessage") or default["html"]
    medium = "SMS" if attribute == "phone_number" else "EMAIL"
    if medium == "SMS":
        subject, html = None, response.get("smsMessage") or default["html"]
    if "{####}" not in html or (invitation and "{username}" not in html):
        raise JsonRESTError("InvalidLambdaResponseException", "Invalid lambda response: the message does not hold the code parameter")
    # An invitation's {username} is the user's name in the pool: in a pool that signs in by email,
    # Cognito's generated id, not the address.
    html = html.replace("{####}", code).replace("{username}", user.username if invitation else "{username}")
    line = {"pool": pool.id, "username": user.username, "kind": source, "attribute": attribute, "destination": destination, "code": code,
            "medium": medium, "subject": subject, "html": html, "at": time.time()}
    _to_outbox(line)
    return {"Destination": _mask(destination), "DeliveryMedium": medium, "AttributeName": attribute}


def _to_outbox(line):
    """Appends one message (a JSON line) to the local mailbox."""
    outbox = os.environ.get("MOTO_COGNITO_OUTBOX") or os.path.join(tempfile.gettempdir(), f"moto-outbox-{PORT}.jsonl")
    with open(outbox, "a", encoding="utf-8") as f:
        f.write(json.dumps(line, ensure_ascii=False) + "\n")


_ses_send_email = SESBackend.send_email


def ses_send_email(self, source, subject, body, destinations):
    """SES's `SendEmail` (v1, and v2's simple content through it) as moto answers it; what it
    accepted then goes to the outbox, one line per recipient, as the recipient gets it."""
    message = _ses_send_email(self, source, subject, body, destinations)
    for address in (a for addresses in destinations.values() for a in addresses):
        _to_outbox({"kind": "SES", "medium": "EMAIL", "from": source, "destination": address, "subject": subject, "text": body,
                    "message_id": message.id, "at": time.time()})
    return message


SESBackend.send_email = ses_send_email


def _new_code(user, purpose, ttl):
    # Tests of ExpiredCodeException: codes sent to emails starting with this prefix are
    # expired as soon as they are sent (there is no waiting 24 hours in a test).
    expired = os.environ.get("MOTO_COGNITO_EXPIRED_CODE_PREFIX")
    if expired and _attributes(user).get("email", "").startswith(expired):
        ttl = 0
    code = f"{secrets.randbelow(1_000_000):06d}"
    user.__dict__.setdefault("pending_codes", {})[purpose] = {"code": code, "expires": time.time() + ttl, "attempts": 0}
    return code


def _check_code(user, purpose, given):
    """Checks `given` against the user's code for `purpose`, as Cognito does: spent when right;
    after the fifth wrong try every try is `LimitExceededException` until a new code is sent
    (so the SDKs' retry of that throttling error reads the same)."""
    pending = user.__dict__.get("pending_codes", {}).get(purpose)
    if pending is None:
        raise CodeMismatchException("Invalid verification code provided, please try again.")
    if pending["attempts"] >= CODE_ATTEMPTS:
        raise JsonRESTError("LimitExceededException", "Attempt limit exceeded, please try after some time.")
    if pending["expires"] <= time.time():
        raise ExpiredCodeException("Invalid code provided, please request a code again.")
    if not secrets.compare_digest(str(given or "").encode(), pending["code"].encode()):
        pending["attempts"] += 1
        if pending["attempts"] >= CODE_ATTEMPTS:
            raise JsonRESTError("LimitExceededException", "Attempt limit exceeded, please try after some time.")
        raise CodeMismatchException("Invalid verification code provided, please try again.")
    del user.pending_codes[purpose]


def _backend_of_client(response, client_id):
    """The backend whose pool has `client_id`: `SignUp` and its kin are not signed, so the
    request names no region (moto's own operations find it the same way)."""
    account, region = find_account_region_by_value("client_id", client_id, fallback=(response.current_account, response.region))
    return cognitoidp_backends[account][region]


def _pool_of_client(backend, client_id):
    for pool in backend.user_pools.values():
        if client_id in pool.clients:
            return pool
    raise ResourceNotFoundError(client_id)


def _check_client(pool, client_id, username, secret_hash):
    """As Cognito: a client with a secret needs its `SECRET_HASH` (`SecretHash` on unsigned calls)."""
    client = pool.clients[client_id]
    if client.generate_secret and not check_secret_hash(client.secret, client.id, username, secret_hash or ""):
        raise NotAuthorizedError(f"Client {client_id} is configured with secret but SECRET_HASH was not received")


def _hides_users(pool, client_id):
    return pool.clients[client_id].extended_config.get("PreventUserExistenceErrors") == "ENABLED"


def _caller(response):
    """The client's pool, the user the request names (None if none) and the caller's
    `ClientMetadata`, for the unsigned calls a client makes (`SECRET_HASH` checked)."""
    client_id, username = response._get_param("ClientId"), response._get_param("Username")
    pool = _pool_of_client(_backend_of_client(response, client_id), client_id)
    _check_client(pool, client_id, username, response._get_param("SecretHash"))
    return client_id, pool, pool._get_user(username), response._get_param("ClientMetadata") or {}


def sign_up(self):
    """As moto, with a code (below), and the pool's `PreSignUp` trigger invoked first, as Cognito
    does (`PreSignUp_SignUp`): a trigger that fails fails the sign-up, and no user is made. Its
    answer's `autoConfirmUser` and `autoVerifyEmail` are not applied (the bridge sets neither)."""
    client_id, pool, _, metadata = _caller(self)
    if (pool.extended_config.get("AdminCreateUserConfig") or {}).get("AllowAdminCreateUserOnly"):
        raise NotAuthorizedError("SignUp is not permitted for this user pool")
    attributes = {a["Name"]: a["Value"] for a in self._get_param("UserAttributes", [])}
    _invoke(pool, "PreSignUp", {
        "version": "1", "triggerSource": "PreSignUp_SignUp", "region": pool.region, "userPoolId": pool.id, "userName": self._get_param("Username"),
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client_id},
        "request": {"userAttributes": attributes, "validationData": None, "clientMetadata": metadata},
        "response": {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False}})
    user, _ = _backend_of_client(self, client_id).sign_up(client_id=client_id, username=self._get_param("Username"),
                                                          password=self._get_param("Password"), attributes=self._get_param("UserAttributes", []))
    details = _send_email(pool, user, "CustomMessage_SignUp", _new_code(user, "sign_up", CODE_TTL), client_id, metadata)
    answer = {"UserConfirmed": False, "UserSub": user.id}
    if details:
        answer["CodeDeliveryDetails"] = details
    return ActionResult(answer)


def confirm_sign_up(self):
    client_id, pool, user, metadata = _caller(self)
    if user is None:
        if _hides_users(pool, client_id):
            raise CodeMismatchException("Invalid verification code provided, please try again.")
        raise UserNotFoundError("Username/client id combination not found.")
    if user.status == "CONFIRMED":
        raise NotAuthorizedError("User cannot be confirmed. Current status is CONFIRMED")
    _check_code(user, "sign_up", self._get_param("ConfirmationCode"))
    user.status = "CONFIRMED"
    user.update_attributes([{"Name": "email_verified", "Value": "true"}])
    _invoke(pool, "PostConfirmation", _event(pool, user, "PostConfirmation_ConfirmSignUp", client_id, metadata, {}))
    return EmptyResult()


def resend_confirmation_code(self):
    client_id, pool, user, metadata = _caller(self)
    if user is None:
        if _hides_users(pool, client_id):
            return ActionResult({"CodeDeliveryDetails": {"Destination": "u***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}})
        raise UserNotFoundError("Username/client id combination not found.")
    if user.status == "CONFIRMED":
        raise InvalidParameterException("User is already confirmed.")
    details = _send_email(pool, user, "CustomMessage_ResendCode", _new_code(user, "sign_up", CODE_TTL), client_id, metadata)
    return ActionResult({"CodeDeliveryDetails": details})


def forgot_password(self):
    """As moto, with a 6-digit code valid an hour, sent as Cognito sends it (with the caller's
    `ClientMetadata`)."""
    client_id, pool, user, metadata = _caller(self)
    if user is not None and _attributes(user).get("email_verified") != "true":
        raise InvalidParameterException("Cannot reset password for the user as there is no registered/verified email or phone_number")
    _, answer = _backend_of_client(self, client_id).forgot_password(client_id, self._get_param("Username"))
    if user is not None:
        user.confirmation_code = None
        _send_email(pool, user, "CustomMessage_ForgotPassword", _new_code(user, "reset", RESET_CODE_TTL), client_id, metadata)
    return ActionResult(answer)


_admin_create_user = CognitoIdpBackend.admin_create_user


def _temporary_password():
    """A temporary password as Cognito makes one: random, and meeting the pool's rules (upper and
    lower case letters, digits, a symbol; 14 characters)."""
    letters = "".join(secrets.choice("abcdefghijkmnopqrstuvwxyz") for _ in range(6)) + "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(4))
    return letters + "".join(secrets.choice("23456789") for _ in range(3)) + secrets.choice("!#$%&*+-=?@^_")


def admin_create_user(self, user_pool_id, username, message_action, temporary_password, attributes):
    """As moto, with Cognito's invitations: unless `MessageAction` is SUPPRESS, a temporary
    password is made when none is given (moto left none, so nothing was sent) and the invitation
    sent; `RESEND` mails a new temporary password to an invitation not taken up
    (`FORCE_CHANGE_PASSWORD`; any other state is `UnsupportedUserStateException`), where moto
    made a second user."""
    pool = self.describe_user_pool(user_pool_id)
    if message_action == "RESEND":
        user = self.admin_get_user(user_pool_id, username)
        if user.status != UserStatus.FORCE_CHANGE_PASSWORD:
            raise JsonRESTError("UnsupportedUserStateException", "User is not in the FORCE_CHANGE_PASSWORD state")
        user.password = temporary_password or _temporary_password()
        _send_email(pool, user, "CustomMessage_AdminCreateUser", user.password)
        return user
    if message_action != "SUPPRESS":
        temporary_password = temporary_password or _temporary_password()
    user = _admin_create_user(self, user_pool_id, username, message_action, temporary_password, attributes)
    if message_action != "SUPPRESS" and user.password:
        _send_email(pool, user, "CustomMessage_AdminCreateUser", user.password)
    return user


CognitoIdpBackend.admin_create_user = admin_create_user


def get_user_attribute_verification_code(self):
    pool, user = _user_of(self, self._get_param("AccessToken"))
    attribute = self._get_param("AttributeName")
    if attribute not in ("email", "phone_number"):
        raise InvalidParameterException(f"Invalid attribute name: {attribute}")
    pending = user.__dict__.get("pending_attributes", {}).get(attribute)
    destination = pending or next((a["Value"] for a in user.attributes if a["Name"] == attribute), None)
    if not destination:
        raise InvalidParameterException(f"The user has no {attribute}")
    code = _attribute_code(user, attribute)
    metadata = self._get_param("ClientMetadata") or {}
    details = _send_email(pool, user, "CustomMessage_VerifyUserAttribute", code, None, metadata, attribute, pending)
    medium = "EMAIL" if attribute == "email" else "SMS"
    return ActionResult({"CodeDeliveryDetails": details or {"Destination": _mask(destination), "DeliveryMedium": medium, "AttributeName": attribute}})


def _attribute_code(user, attribute):
    """A new code for `attribute` (the one sent before is spent)."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    user.__dict__.setdefault("attribute_codes", {})[attribute] = {"code": code, "expires": time.time() + CODE_TTL, "attempts": 0}
    return code


def _requires_verification(pool, attribute):
    settings = pool.extended_config.get("UserAttributeUpdateSettings") or {}
    return attribute in (settings.get("AttributesRequireVerificationBeforeUpdate") or [])


def verify_user_attribute(self):
    access_token = self._get_param("AccessToken")
    pool, user = _user_of(self, access_token)
    attribute = self._get_param("AttributeName")
    pending = user.__dict__.get("attribute_codes", {}).get(attribute)
    if pending is None:
        raise CodeMismatchException("Invalid code provided, please request a code again.")
    if pending["expires"] <= time.time():
        raise ExpiredCodeException("Invalid code provided, please request a code again.")
    if not secrets.compare_digest(str(self._get_param("Code") or "").encode(), pending["code"].encode()):
        pending["attempts"] += 1
        if pending["attempts"] >= CODE_ATTEMPTS:
            del user.attribute_codes[attribute]
            raise JsonRESTError("LimitExceededException", "Attempt limit exceeded, please try after some time.")
        raise CodeMismatchException("Invalid verification code provided, please try again.")
    del user.attribute_codes[attribute]
    pending = user.__dict__.get("pending_attributes", {}).pop(attribute, None)
    if pending is not None:
        # The pending value becomes the attribute now, if no other user has taken it meanwhile.
        backend = self._get_region_agnostic_backend()._find_backend_by_access_token(access_token)
        backend.update_user_attributes(access_token, [{"Name": attribute, "Value": pending}])
    user.update_attributes([{"Name": f"{attribute}_verified", "Value": "true"}])
    return EmptyResult()


def confirm_forgot_password(self, client_id, username, password, confirmation_code):
    """As Cognito: the code checked (wrong: `CodeMismatchException`, moto said expired; old:
    `ExpiredCodeException`; the fifth wrong one spends it), and an unknown user is
    `CodeMismatchException` under `PreventUserExistenceErrors: ENABLED`, else
    `UserNotFoundException` (moto: `ResourceNotFoundException`, which means a missing pool)."""
    pool = _pool_of_client(self, client_id)
    user = pool._get_user(username)
    if user is None:
        if _hides_users(pool, client_id):
            raise CodeMismatchException("Invalid verification code provided, please try again.")
        raise UserNotFoundError("Username/client id combination not found.")
    _check_code(user, "reset", confirmation_code)
    self._validate_password(pool.id, password)
    user.password = password
    user.confirmation_code = None
    # A reset an admin required ends here, as in Cognito.
    if user.status == UserStatus.RESET_REQUIRED:
        user.status = UserStatus.CONFIRMED


CognitoIdpBackend.confirm_forgot_password = confirm_forgot_password
_confirm_forgot_password_response = CognitoIdpResponse.confirm_forgot_password


def confirm_forgot_password_response(self):
    """As moto's (above), with the client's `SECRET_HASH` checked first, as Cognito does."""
    _caller(self)
    return _confirm_forgot_password_response(self)

_admin_reset_user_password = CognitoIdpBackend.admin_reset_user_password


def admin_reset_user_password(self, user_pool_id, username):
    """As Cognito: the password stops working (a sign-in with it is
    `PasswordResetRequiredException`, see `backend_initiate_auth`) and a reset code goes to the
    verified email, as `ForgotPassword` sends it (`CustomMessage_ForgotPassword`); moto sent
    nothing."""
    _admin_reset_user_password(self, user_pool_id, username)
    user = self.admin_get_user(user_pool_id, username)
    user.confirmation_code = None
    _send_email(self.describe_user_pool(user_pool_id), user, "CustomMessage_ForgotPassword", _new_code(user, "reset", RESET_CODE_TTL))


CognitoIdpBackend.admin_reset_user_password = admin_reset_user_password


# Choice-based sign-in (USER_AUTH), email codes and passkeys, which moto lacks.
AUTH_SESSIONS = {}  # Cognito's `Session` -> the sign-in in progress
EMAIL_OTP_TTL = 300
WEBAUTHN_TTL = 300
FIRST_FACTORS = ("WEB_AUTHN", "EMAIL_OTP", "PASSWORD")


def _first_factors(pool):
    """The pool's `Policies.SignInPolicy.AllowedFirstAuthFactors` (Cognito's default: PASSWORD)."""
    policy = (pool.extended_config.get("Policies") or {}).get("SignInPolicy") or {}
    return policy.get("AllowedFirstAuthFactors") or ["PASSWORD"]


def _webauthn_config(pool):
    return pool.__dict__.get("webauthn_config") or {}


def _credentials(user):
    return user.__dict__.setdefault("webauthn_credentials", []) if user is not None else []


def _has_mfa(user):
    return bool(user.sms_mfa_enabled or user.software_token_mfa_enabled)


def _available(pool, user):
    """The first factors the user may choose, as Cognito offers them: a passkey if they have
    one (and the pool a relying party) and no MFA, unless the pool lets a user-verified passkey
    count as MFA (`FactorConfiguration: MULTI_FACTOR_WITH_USER_VERIFICATION`); an email code if
    their email is verified and they have no MFA; a password.
    Someone unknown is offered what someone without a passkey is."""
    factors = _first_factors(pool)
    offered = []
    passkey_as_mfa = _webauthn_config(pool).get("FactorConfiguration") == "MULTI_FACTOR_WITH_USER_VERIFICATION"
    if "WEB_AUTHN" in factors and _webauthn_config(pool) and _credentials(user) and (passkey_as_mfa or not _has_mfa(user)):
        offered.append("WEB_AUTHN")
    if "EMAIL_OTP" in factors and (user is None or (_attributes(user).get("email_verified") == "true" and not _has_mfa(user))):
        offered.append("EMAIL_OTP")
    if "PASSWORD" in factors:
        offered.append("PASSWORD")
    return offered


def _rp_origin_allowed(rp_id, origin):
    """Cognito accepts a passkey ceremony from the relying party's own origin and its
    subdomains, over HTTPS (HTTP only on localhost)."""
    parsed = urllib.parse.urlsplit(origin or "")
    host = parsed.hostname or ""
    secure = parsed.scheme == "https" or (parsed.scheme == "http" and host == "localhost")
    return secure and (host == rp_id or host.endswith("." + rp_id))


def _client_data_origin(credential):
    from webauthn.helpers import base64url_to_bytes
    try:
        client_data = json.loads(base64url_to_bytes(credential["response"]["clientDataJSON"]))
        return client_data.get("origin")
    except (KeyError, TypeError, ValueError):
        return None


def _auth_session(pool, client_id, username, challenge, **state):
    session = secrets.token_urlsafe(48)
    minutes = pool.clients[client_id].extended_config.get("AuthSessionValidity") or 3
    AUTH_SESSIONS[session] = {"pool": pool, "client_id": client_id, "username": username, "challenge": challenge,
                              "expires": time.time() + 60 * int(minutes), "attempts": 0, **state}
    return session


def _email_otp_challenge(pool, client_id, user, username, metadata):
    """Sends an email code (`CustomMessage_Authentication`), 6 digits valid 5 minutes; for
    someone unknown sends nothing and answers alike (`PreventUserExistenceErrors`)."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    if user is not None:
        details = _send_email(pool, user, "CustomMessage_Authentication", code, client_id, metadata) or {}
        destination = details.get("Destination")
    else:
        destination = _mask(username) if "@" in username else "u***@e***"
    session = _auth_session(pool, client_id, username, "EMAIL_OTP", code=code, code_expires=time.time() + EMAIL_OTP_TTL)
    return {"ChallengeName": "EMAIL_OTP", "Session": session,
            "ChallengeParameters": {"CODE_DELIVERY_DELIVERY_MEDIUM": "EMAIL", "CODE_DELIVERY_DESTINATION": destination, "USERNAME": username}}


def _webauthn_challenge(pool, client_id, user, username):
    """`CREDENTIAL_REQUEST_OPTIONS` for `navigator.credentials.get`: a fresh challenge, the
    pool's relying party, the user's credentials; someone unknown gets options alike (no
    credentials) that no answer satisfies."""
    import webauthn
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement
    config = _webauthn_config(pool)
    if not config:
        raise JsonRESTError("WebAuthnNotEnabledException", "Passkeys are not enabled for this user pool.")
    allowed = [PublicKeyCredentialDescriptor(id=c["id"]) for c in _credentials(user)]
    verification = UserVerificationRequirement(config.get("UserVerification", "preferred"))
    options = webauthn.generate_authentication_options(rp_id=config["RelyingPartyId"], allow_credentials=allowed, user_verification=verification,
                                                       timeout=WEBAUTHN_TTL * 1000)
    session = _auth_session(pool, client_id, username, "WEB_AUTHN", webauthn_challenge=options.challenge)
    return {"ChallengeName": "WEB_AUTHN", "Session": session,
            "ChallengeParameters": {"CREDENTIAL_REQUEST_OPTIONS": webauthn.options_to_json(options), "USERNAME": username}}


def _password(backend, pool, client_id, username, password, secret_hash):
    """A password answer: the same as `USER_PASSWORD_AUTH` (its MFA challenges included)."""
    params = {"USERNAME": username, "PASSWORD": password or ""}
    if secret_hash:
        params["SECRET_HASH"] = secret_hash
    return backend.initiate_auth(client_id, "USER_PASSWORD_AUTH", params)


def _choose(backend, pool, client_id, user, username, choice, params, metadata):
    if choice not in _available(pool, user):
        raise NotAuthorizedError("The challenge is not available for this user.")
    if choice == "PASSWORD":
        return _password(backend, pool, client_id, username, params.get("PASSWORD"), params.get("SECRET_HASH"))
    if choice == "EMAIL_OTP":
        return _email_otp_challenge(pool, client_id, user, username, metadata)
    return _webauthn_challenge(pool, client_id, user, username)


_initiate_auth = CognitoIdpResponse.initiate_auth


# The `ExplicitAuthFlows` values that enable each flow (the legacy names too), and a client's
# flows when it names none, as Cognito has them.
_FLOW_ENABLED_BY = {"USER_PASSWORD_AUTH": ("ALLOW_USER_PASSWORD_AUTH", "USER_PASSWORD_AUTH"),
                    "ADMIN_USER_PASSWORD_AUTH": ("ALLOW_ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"),
                    "ADMIN_NO_SRP_AUTH": ("ALLOW_ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"),
                    "USER_SRP_AUTH": ("ALLOW_USER_SRP_AUTH",), "CUSTOM_AUTH": ("ALLOW_CUSTOM_AUTH", "CUSTOM_AUTH_FLOW_ONLY"),
                    "REFRESH_TOKEN_AUTH": ("ALLOW_REFRESH_TOKEN_AUTH",), "REFRESH_TOKEN": ("ALLOW_REFRESH_TOKEN_AUTH",),
                    "USER_AUTH": ("ALLOW_USER_AUTH",)}
_DEFAULT_FLOWS = ("ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH")


def _check_flow(pool, client_id, flow):
    """As Cognito: a flow the app client's `ExplicitAuthFlows` does not enable is
    `InvalidParameterException` (moto runs any flow through any client). A client named with
    the legacy values (no `ALLOW_` prefix) keeps SRP and refresh, as in Cognito."""
    enabled = list(pool.clients[client_id].extended_config.get("ExplicitAuthFlows") or _DEFAULT_FLOWS)
    if not any(name.startswith("ALLOW_") for name in enabled):
        enabled += ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    if not any(name in enabled for name in _FLOW_ENABLED_BY.get(str(flow), ())):
        raise InvalidParameterException(f"{flow} flow not enabled for this client")


def initiate_auth(self):
    """`USER_AUTH` as Cognito runs it; `USER_PASSWORD_AUTH` as moto, but for the client's secret,
    which Cognito checks and moto does not (`SECRET_HASH`); every other flow as moto. Each only
    where the app client enables it (`ExplicitAuthFlows`)."""
    flow = self._get_param("AuthFlow")
    client_id = self._get_param("ClientId")
    backend = _backend_of_client(self, client_id)
    pool = _pool_of_client(backend, client_id)
    _check_flow(pool, client_id, flow)
    if flow not in ("USER_AUTH", "USER_PASSWORD_AUTH"):
        return _initiate_auth(self)
    params = self._get_param("AuthParameters") or {}
    username = params.get("USERNAME") or ""
    if flow == "USER_PASSWORD_AUTH":
        _check_client(pool, client_id, username, params.get("SECRET_HASH"))
        return _initiate_auth(self)
    _check_client(pool, client_id, username, params.get("SECRET_HASH"))
    user = pool._get_user(username)
    if user is not None and not user.enabled:
        raise NotAuthorizedError("User is disabled.")
    if user is None and not _hides_users(pool, client_id):
        raise UserNotFoundError("User does not exist.")
    metadata = self._get_param("ClientMetadata") or {}
    preferred = params.get("PREFERRED_CHALLENGE")
    if preferred and preferred in _available(pool, user):
        return ActionResult(_choose(backend, pool, client_id, user, username, preferred, params, metadata))
    session = _auth_session(pool, client_id, username, "SELECT_CHALLENGE")
    return ActionResult({"ChallengeName": "SELECT_CHALLENGE", "Session": session, "AvailableChallenges": _available(pool, user),
                         "ChallengeParameters": {"USERNAME": username}})


_backend_initiate_auth = CognitoIdpBackend.initiate_auth


def _mfa_challenge(backend, pool, user, name):
    """Cognito's `SMS_MFA` or `SOFTWARE_TOKEN_MFA` step, answered by moto's own code."""
    session = secrets.token_urlsafe(48)
    backend.sessions[session] = (user.username, pool)
    params = {"USERNAME": user.username}
    phone = _attributes(user).get("phone_number")
    if name == "SMS_MFA" and phone:
        params.update({"CODE_DELIVERY_DELIVERY_MEDIUM": "SMS", "CODE_DELIVERY_DESTINATION": _mask(phone)})
    return {"ChallengeName": name, "Session": session, "ChallengeParameters": params}


def backend_initiate_auth(self, client_id, auth_flow, auth_parameters):
    """Moto's, and the second factor Cognito asks for after a right password where moto asks
    none: a factor turned on but not preferred is asked for; two on and neither preferred is
    `SELECT_MFA_TYPE` (`MFAS_CAN_CHOOSE`). A user an admin reset (`RESET_REQUIRED`) who gives
    their old password is `PasswordResetRequiredException`, as in Cognito (moto let the old
    password sign in); a wrong password stays `NotAuthorizedException`."""
    if str(auth_flow) == "USER_PASSWORD_AUTH":
        params = auth_parameters or {}
        reset = _pool_of_client(self, client_id)._get_user(params.get("USERNAME") or "")
        if reset is not None and reset.enabled and reset.status == UserStatus.RESET_REQUIRED and reset.password == params.get("PASSWORD"):
            raise JsonRESTError("PasswordResetRequiredException", "Password reset required for the user")
    answer = _backend_initiate_auth(self, client_id, auth_flow, auth_parameters)
    result = answer.get("AuthenticationResult")
    if result is None or str(auth_flow) != "USER_PASSWORD_AUTH":
        return answer
    pool = _pool_of_client(self, client_id)
    user = pool._get_user(auth_parameters.get("USERNAME"))
    if pool.mfa_config == "OFF":
        return answer
    on = [name for name, enabled in (("SMS_MFA", user.sms_mfa_enabled), ("SOFTWARE_TOKEN_MFA", user.software_token_mfa_enabled)) if enabled]
    if not on:
        return answer
    # The tokens moto issued are not the person's yet.
    pool.access_tokens.pop(result.get("AccessToken"), None)
    pool.refresh_tokens.pop(result.get("RefreshToken"), None)
    if len(on) == 1:
        return _mfa_challenge(self, pool, user, on[0])
    session = _auth_session(pool, client_id, user.username, "SELECT_MFA_TYPE", choices=on)
    return {"ChallengeName": "SELECT_MFA_TYPE", "Session": session, "ChallengeParameters": {"USERNAME": user.username, "MFAS_CAN_CHOOSE": json.dumps(on)}}


CognitoIdpBackend.initiate_auth = backend_initiate_auth


def admin_initiate_auth(self):
    """`ADMIN_USER_PASSWORD_AUTH` (`ADMIN_NO_SRP_AUTH`) as `USER_PASSWORD_AUTH` is run here, its
    challenges included (moto's admin flow asks for a second factor only when it is the
    preferred one, and signs in an unconfirmed user); where the client enables it and in the
    pool named, with the client's `SECRET_HASH` if it has a secret. Other flows as moto."""
    flow = self._get_param("AuthFlow")
    pool_id, client_id = self._get_param("UserPoolId"), self._get_param("ClientId")
    pool = self.backend.describe_user_pool(pool_id)
    if client_id not in pool.clients:
        raise ResourceNotFoundError(client_id)
    _check_flow(pool, client_id, flow)
    if flow not in ("ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"):
        return _admin_initiate_auth(self)
    params = self._get_param("AuthParameters") or {}
    _check_client(pool, client_id, params.get("USERNAME") or "", params.get("SECRET_HASH"))
    return ActionResult(self.backend.initiate_auth(client_id, "USER_PASSWORD_AUTH", params))


_admin_initiate_auth = CognitoIdpResponse.admin_initiate_auth

_change_password = CognitoIdpBackend.change_password


def change_password(self, access_token, previous_password, proposed_password):
    """Moto's, with Cognito's message for a wrong previous password (moto's is the user name)."""
    try:
        return _change_password(self, access_token, previous_password, proposed_password)
    except NotAuthorizedError:
        if any(access_token in pool.access_tokens for pool in self.user_pools.values()):
            raise NotAuthorizedError("Incorrect username or password.")
        raise


CognitoIdpBackend.change_password = change_password

_respond_to_auth_challenge = CognitoIdpResponse.respond_to_auth_challenge


def respond_to_auth_challenge(self):
    """The answers of a `USER_AUTH` sign-in (`SELECT_CHALLENGE`, `EMAIL_OTP`, `WEB_AUTHN`);
    every other session as moto. A session lasts the client's `AuthSessionValidity` (3 minutes
    by default) and is spent by a right answer; a wrong email code may be tried again, three
    times in all."""
    session_id = self._get_param("Session")
    state = AUTH_SESSIONS.get(session_id)
    if state is None:
        return _respond_to_auth_challenge(self)
    client_id = self._get_param("ClientId")
    answers = self._get_param("ChallengeResponses") or {}
    pool = state["pool"]
    if client_id != state["client_id"] or self._get_param("ChallengeName") != state["challenge"]:
        raise NotAuthorizedError("Invalid session for the user.")
    if state["expires"] <= time.time():
        AUTH_SESSIONS.pop(session_id, None)
        raise NotAuthorizedError("Invalid session for the user, session is expired.")
    username = state["username"]
    _check_client(pool, client_id, username, answers.get("SECRET_HASH"))
    backend = _backend_of_client(self, client_id)
    user = pool._get_user(username)
    if user is not None and not user.enabled:
        raise NotAuthorizedError("User is disabled.")
    if state["challenge"] == "SELECT_MFA_TYPE":
        AUTH_SESSIONS.pop(session_id, None)
        if user is None:
            raise NotAuthorizedError("Invalid session for the user.")
        if answers.get("ANSWER") not in state["choices"]:
            raise InvalidParameterException("The MFA type chosen is not one offered.")
        return ActionResult(_mfa_challenge(backend, pool, user, answers["ANSWER"]))
    if state["challenge"] == "SELECT_CHALLENGE":
        AUTH_SESSIONS.pop(session_id, None)
        metadata = self._get_param("ClientMetadata") or {}
        return ActionResult(_choose(backend, pool, client_id, user, username, answers.get("ANSWER"), answers, metadata))
    if state["challenge"] == "EMAIL_OTP":
        given = str(answers.get("EMAIL_OTP_CODE") or "")
        if state["code_expires"] <= time.time():
            AUTH_SESSIONS.pop(session_id, None)
            raise ExpiredCodeException("Invalid code provided, please request a code again.")
        if user is None or not secrets.compare_digest(given.encode(), state["code"].encode()):
            state["attempts"] += 1
            if state["attempts"] >= 3:
                AUTH_SESSIONS.pop(session_id, None)
                raise NotAuthorizedError("Invalid session for the user.")
            raise CodeMismatchException("Invalid code received for user")
        AUTH_SESSIONS.pop(session_id, None)
        return ActionResult(backend._log_user_in(pool, pool.clients[client_id], user.username))
    AUTH_SESSIONS.pop(session_id, None)
    _verify_assertion(pool, user, state["webauthn_challenge"], answers.get("CREDENTIAL"))
    return ActionResult(backend._log_user_in(pool, pool.clients[client_id], user.username))


def _verify_assertion(pool, user, challenge, raw):
    """Checks a passkey's answer (`AuthenticationResponseJSON`) with `webauthn`: the challenge,
    the relying party, the origin, the signature by a credential the user registered, and a
    signature counter that moves on (when the authenticator keeps one)."""
    import webauthn
    from webauthn.helpers.exceptions import WebAuthnException
    config = _webauthn_config(pool)
    try:
        credential = json.loads(raw or "")
    except ValueError:
        raise NotAuthorizedError("Invalid credential.")
    if not isinstance(credential, dict) or user is None:
        raise NotAuthorizedError("Incorrect username or credential.")
    from webauthn.helpers import base64url_to_bytes
    try:
        credential_id = base64url_to_bytes(credential.get("rawId") or credential.get("id") or "")
    except (TypeError, ValueError):
        raise NotAuthorizedError("Invalid credential.")
    stored = next((c for c in _credentials(user) if c["id"] == credential_id), None)
    origin = _client_data_origin(credential)
    if stored is None or not _rp_origin_allowed(config.get("RelyingPartyId", ""), origin):
        raise NotAuthorizedError("Incorrect username or credential.")
    try:
        verified = webauthn.verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=config["RelyingPartyId"], expected_origin=origin,
            credential_public_key=stored["public_key"], credential_current_sign_count=stored["sign_count"],
            require_user_verification=config.get("UserVerification") == "required")
    except (WebAuthnException, KeyError, TypeError, ValueError) as e:
        raise NotAuthorizedError(f"Incorrect username or credential: {e}")
    stored["sign_count"] = verified.new_sign_count
    stored["last_used"] = time.time()


def set_user_pool_mfa_config(self):
    """As moto, and `WebAuthnConfiguration` (the relying party and user verification), which
    moto ignores."""
    pool_id = self._get_param("UserPoolId")
    webauthn_config = self._get_param("WebAuthnConfiguration")
    if webauthn_config is not None:
        pool = self.backend.describe_user_pool(pool_id)
        pool.webauthn_config = {"RelyingPartyId": webauthn_config.get("RelyingPartyId"), "UserVerification": webauthn_config.get("UserVerification", "preferred"),
                                "FactorConfiguration": webauthn_config.get("FactorConfiguration", "SINGLE_FACTOR")}
    if self._get_param("MfaConfiguration") is None:
        return ActionResult({"WebAuthnConfiguration": webauthn_config or {}})
    return _set_user_pool_mfa_config(self)


_set_user_pool_mfa_config = CognitoIdpResponse.set_user_pool_mfa_config


def start_web_authn_registration(self):
    """`CredentialCreationOptions` for `navigator.credentials.create`, for the access token's
    user: the pool's relying party, a discoverable credential, user verification as the pool
    says, their credentials excluded; the challenge lasts 5 minutes."""
    import webauthn
    from webauthn.helpers.structs import (AuthenticatorSelectionCriteria, PublicKeyCredentialDescriptor, ResidentKeyRequirement,
                                          UserVerificationRequirement)
    pool, user = _user_of(self, self._get_param("AccessToken"))
    config = _webauthn_config(pool)
    if not config or "WEB_AUTHN" not in _first_factors(pool):
        raise JsonRESTError("WebAuthnNotEnabledException", "Passkeys are not enabled for this user pool.")
    email = _attributes(user).get("email") or user.username
    selection = AuthenticatorSelectionCriteria(resident_key=ResidentKeyRequirement.REQUIRED,
                                               user_verification=UserVerificationRequirement(config.get("UserVerification", "preferred")))
    options = webauthn.generate_registration_options(
        rp_id=config["RelyingPartyId"], rp_name=config["RelyingPartyId"], user_id=user.id.encode(), user_name=email,
        user_display_name=_attributes(user).get("name") or email, authenticator_selection=selection, timeout=WEBAUTHN_TTL * 1000,
        exclude_credentials=[PublicKeyCredentialDescriptor(id=c["id"]) for c in _credentials(user)])
    user.webauthn_registration = {"challenge": options.challenge, "expires": time.time() + WEBAUTHN_TTL}
    return ActionResult({"CredentialCreationOptions": json.loads(webauthn.options_to_json(options))})


def complete_web_authn_registration(self):
    """Verifies the browser's `RegistrationResponseJSON` with `webauthn` (challenge, relying
    party, origin, the attestation statement of any format `webauthn` knows, unchecked against
    a trust store as Cognito does not ask for one) and keeps the credential."""
    import webauthn
    from webauthn.helpers.exceptions import WebAuthnException
    pool, user = _user_of(self, self._get_param("AccessToken"))
    config = _webauthn_config(pool)
    pending = user.__dict__.pop("webauthn_registration", None)
    if pending is None or pending["expires"] <= time.time():
        raise JsonRESTError("WebAuthnChallengeNotFoundException", "The registration challenge was not found or has expired.")
    credential = self._get_param("Credential")
    if not isinstance(credential, dict):
        raise InvalidParameterException("Credential must be a RegistrationResponseJSON object.")
    origin = _client_data_origin(credential)
    if not _rp_origin_allowed(config.get("RelyingPartyId", ""), origin):
        raise JsonRESTError("WebAuthnOriginNotAllowedException", "The credential's origin is not allowed for the relying party.")
    try:
        verified = webauthn.verify_registration_response(
            credential=credential, expected_challenge=pending["challenge"], expected_rp_id=config["RelyingPartyId"], expected_origin=origin,
            require_user_verification=config.get("UserVerification") == "required")
    except (WebAuthnException, KeyError, TypeError, ValueError) as e:
        message = str(e)
        if "RP ID" in message:
            raise JsonRESTError("WebAuthnRelyingPartyMismatchException", message)
        raise JsonRESTError("WebAuthnCredentialNotSupportedException", message)
    if any(c["id"] == verified.credential_id for c in _credentials(user)):
        raise JsonRESTError("WebAuthnCredentialNotSupportedException", "The credential is registered already.")
    response = credential.get("response") or {}
    _credentials(user).append({
        "id": verified.credential_id, "public_key": verified.credential_public_key, "sign_count": verified.sign_count,
        "created": time.time(), "name": None, "attachment": credential.get("authenticatorAttachment"),
        "transports": response.get("transports") or [], "rp_id": config["RelyingPartyId"]})
    return EmptyResult()


def list_web_authn_credentials(self):
    from webauthn.helpers import bytes_to_base64url
    _, user = _user_of(self, self._get_param("AccessToken"))
    limit = min(int(self._get_param("MaxResults") or 20), 20)
    start = int(self._get_param("NextToken") or 0)
    page = _credentials(user)[start:start + limit]
    listed = [{"CredentialId": bytes_to_base64url(c["id"]), "FriendlyCredentialName": c["name"] or "Passkey", "RelyingPartyId": c["rp_id"],
               "AuthenticatorAttachment": c["attachment"], "AuthenticatorTransports": c["transports"], "CreatedAt": c["created"]} for c in page]
    answer = {"Credentials": listed}
    if start + limit < len(_credentials(user)):
        answer["NextToken"] = str(start + limit)
    return ActionResult(answer)


def delete_web_authn_credential(self):
    from webauthn.helpers import base64url_to_bytes
    _, user = _user_of(self, self._get_param("AccessToken"))
    try:
        wanted = base64url_to_bytes(self._get_param("CredentialId") or "")
    except (TypeError, ValueError):
        wanted = b""
    before = len(_credentials(user))
    user.webauthn_credentials = [c for c in _credentials(user) if c["id"] != wanted]
    if len(user.webauthn_credentials) == before:
        raise ResourceNotFoundError("The credential was not found.")
    return EmptyResult()


def get_user_auth_factors(self):
    pool, user = _user_of(self, self._get_param("AccessToken"))
    factors = []
    if user.password:
        factors.append("PASSWORD")
    factors += [f for f in _available(pool, user) if f != "PASSWORD"]
    mfa = [m for m, on in (("SMS_MFA", user.sms_mfa_enabled), ("SOFTWARE_TOKEN_MFA", user.software_token_mfa_enabled)) if on]
    return ActionResult({"Username": user.username, "PreferredMfaSetting": user.preferred_mfa_setting or "", "UserMFASettingList": mfa,
                         "ConfiguredUserAuthFactors": factors})


def _mfa_settings(response, name):
    """A factor's settings object as Cognito reads it: members the SDK left out are `false`."""
    value = response._get_param(name)
    return None if value is None else {"Enabled": bool(value.get("Enabled")), "PreferredMfa": bool(value.get("PreferredMfa"))}


def set_user_mfa_preference(self):
    self._get_region_agnostic_backend().set_user_mfa_preference(self._get_param("AccessToken"), _mfa_settings(self, "SoftwareTokenMfaSettings"),
                                                                 _mfa_settings(self, "SMSMfaSettings"))
    return EmptyResult()


def admin_set_user_mfa_preference(self):
    """As `SetUserMFAPreference` here (an empty settings object turns the factor off)."""
    self.backend.admin_set_user_mfa_preference(self._get_param("UserPoolId"), self._get_param("Username"),
                                               _mfa_settings(self, "SoftwareTokenMfaSettings"), _mfa_settings(self, "SMSMfaSettings"))
    return EmptyResult()


def delete_user(self):
    pool, user = _user_of(self, self._get_param("AccessToken"))
    pool.sign_out(user.username)
    for group in list(user.groups):
        group.users.remove(user)
    del pool.users[user.username]
    return EmptyResult()


_update_user_attributes = CognitoIdpResponse.update_user_attributes


def update_user_attributes(self):
    access_token = self._get_param("AccessToken")
    pool, user = _user_of(self, access_token)
    client_id, _ = pool.access_tokens[access_token]
    writable = pool.clients[client_id].extended_config.get("WriteAttributes")
    changes = self._get_param("UserAttributes") or []
    if writable is not None:
        for attribute in changes:
            if attribute.get("Name") not in writable:
                raise NotAuthorizedError("A client attempted to write unauthorized attribute")
    before = _attributes(user)
    # A new email the pool keeps pending until it is verified: the current one stays, and the
    # code goes to the new address by itself.
    email = next((a.get("Value") for a in changes if a.get("Name") == "email"), None)
    if email is not None and _requires_verification(pool, "email") and email.lower() != before.get("email", "").lower():
        backend = self._get_region_agnostic_backend()._find_backend_by_access_token(access_token)
        backend._verify_email_is_not_used(pool.id, email, user)
        others = [a for a in changes if a.get("Name") != "email"]
        if others:
            backend.update_user_attributes(access_token, others)
        user.__dict__.setdefault("pending_attributes", {})["email"] = email
        code = _attribute_code(user, "email")
        metadata = self._get_param("ClientMetadata") or {}
        details = _send_email(pool, user, "CustomMessage_UpdateUserAttribute", code, client_id, metadata, "email", email)
        return ActionResult({"CodeDeliveryDetailsList": [details]})
    answer = _update_user_attributes(self)
    # A new email or phone number is not verified (the pool keeps no old value until then).
    for attribute in changes:
        name = attribute.get("Name")
        if name in ("email", "phone_number") and before.get(name) != attribute.get("Value"):
            user.update_attributes([{"Name": f"{name}_verified", "Value": "false"}])
    return answer


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
    # The streams' lengths before: a cancelled transaction leaves no stream record (DynamoDB
    # writes none; moto would keep the records of the writes it made and of their rollback).
    streams = {}
    for name in {name for name, _, _ in touched}:
        shard = getattr(self.tables.get(name), "stream_shard", None)
        if shard is not None:
            streams[name] = (shard, len(shard.items))
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
        for shard, length in streams.values():
            del shard.items[length:]
        raise
    finally:
        dynamodb_models.copy = copy


DynamoDBBackend.transact_write_items = transact_write_items

# A query on the table's key reads its partition only (moto's `query` takes its candidates from
# `all_items`, every item of the table, sorted); marked per thread, as moto's server runs each
# request on its own thread.
_QUERIED = threading.local()
_all_items = dynamodb_models.Table.all_items
_query = dynamodb_models.Table.query


def _all_items_of_query(self):
    only = getattr(_QUERIED, "partition", None)
    if only is None or only[0] is not self:
        return _all_items(self)
    partition = self.items.get(only[1])
    if partition is None:
        return []
    return list(partition.values()) if self.range_key_attr else [partition]


def _query_partition(self, hash_key, *args, **kwargs):
    if hash_key is None or kwargs.get("index_name") is not None or (len(args) > 6 and args[6] is not None):
        return _query(self, hash_key, *args, **kwargs)
    _QUERIED.partition = (self, hash_key)
    try:
        return _query(self, hash_key, *args, **kwargs)
    finally:
        _QUERIED.partition = None


dynamodb_models.Table.all_items = _all_items_of_query
dynamodb_models.Table.query = _query_partition

# DynamoDB applies each write to an item atomically, its condition included; moto's server runs
# requests on threads without a lock, so two conditional writes racing for one item could both
# pass. One lock around every write restores the all-or-nothing answer (writes are short).
_WRITE_LOCK = threading.RLock()


def _serialised(method, lock=_WRITE_LOCK):
    """`method`, run holding `lock`."""
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        with lock:
            return method(self, *args, **kwargs)

    return call


for _name in ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item"):
    if hasattr(DynamoDBBackend, _name):
        setattr(DynamoDBBackend, _name, _serialised(getattr(DynamoDBBackend, _name)))

# `TransactWriteItems` with a `ClientRequestToken` is idempotent for 10 minutes: the same request
# again (the SDK's retry of one whose answer was lost) succeeds without writing twice, the token
# with other items is `IdempotentParameterMismatchException`. moto ignores the token.
_TRANSACTIONS = {}  # token -> (when, the request's items as JSON)
_handle_transaction = DynamoHandler.transact_write_items


class _IdempotentParameterMismatch(JsonRESTError):
    def __init__(self):
        super().__init__("com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",
                         "The request uses the same client token as a previous, but non-identical request.")


def _idempotent_transaction(self):
    token = self.body.get("ClientRequestToken")
    if not token:
        return _handle_transaction(self)
    items = json.dumps(self.body.get("TransactItems"), sort_keys=True)
    with _WRITE_LOCK:
        now = time.time()
        for old in [t for t, (when, _) in _TRANSACTIONS.items() if now - when > 600]:
            del _TRANSACTIONS[old]
        seen = _TRANSACTIONS.get(token)
        if seen is not None:
            if seen[1] != items:
                raise _IdempotentParameterMismatch()
            return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
        answer = _handle_transaction(self)
        _TRANSACTIONS[token] = (now, items)
        return answer


DynamoHandler.transact_write_items = _idempotent_transaction


# Cognito users by attribute value: (pool id, attribute, value in lower case) -> usernames
# (ordered). Kept as each user's `attribute_lookup` is set (moto sets it on creation and on every
# attribute change); a name found here is taken only if the pool still has that user with that
# value.
_BY_ATTRIBUTE = {}


def _index_key(pool_id, name, value):
    return (pool_id, name, value.lower() if isinstance(value, str) else value)


def _set_attribute_lookup(user, lookup):
    old = user.__dict__.get("attribute_lookup") or {}
    for name, value in old.items():
        if lookup.get(name) != value:
            _BY_ATTRIBUTE.get(_index_key(user.user_pool_id, name, value), {}).pop(user.username, None)
    for name, value in lookup.items():
        _BY_ATTRIBUTE.setdefault(_index_key(user.user_pool_id, name, value), {})[user.username] = None
    user.__dict__["attribute_lookup"] = lookup


CognitoIdpUser.attribute_lookup = property(lambda user: user.__dict__.get("attribute_lookup"), _set_attribute_lookup)


def _users_with(pool, name, value, alias=False):
    """The pool's users whose attribute `name` is `value`, oldest first. For an `alias` (a value
    given where a user name goes, or checked free for a new user) in a pool whose
    `UsernameConfiguration.CaseSensitive` is false, in any case: as Cognito, which then "treats
    any variation in case as the same user" for the username, `email` and `preferred_username`
    (moto compared them exactly). `ListUsers` filters stay exact."""
    any_case = alias and name in ("email", "preferred_username") and not (pool.extended_config.get("UsernameConfiguration") or {}).get("CaseSensitive", True)
    same = (lambda v: isinstance(v, str) and v.lower() == value.lower()) if any_case else (lambda v: v == value)
    found = []
    for username in list(_BY_ATTRIBUTE.get(_index_key(pool.id, name, value), {})):
        user = pool.users.get(username)
        if user is not None and same(user.attribute_lookup.get(name)):
            found.append(user)
    return sorted(found, key=lambda u: u.create_date)


def _get_user(self, username):
    for attribute in self.extended_config.get("UsernameAttributes") or []:
        found = _users_with(self, attribute, username, alias=True)
        if found:
            return found[0]
    return self.users.get(username)


CognitoIdpUserPool._get_user = _get_user

_list_users = CognitoIdpBackend.list_users.__wrapped__
_INDEXED_FILTER = re.compile(r'(email|phone_number|name|given_name|family_name|preferred_username|sub)\s*=\s*"(.*)"')


@paginate(pagination_model=PAGINATION_MODEL)
def list_users(self, user_pool_id, filt):
    match = _INDEXED_FILTER.match(filt or "")
    if match:
        return _users_with(self.describe_user_pool(user_pool_id), match.group(1), match.group(2))
    return _list_users(self, user_pool_id, filt)


CognitoIdpBackend.list_users = list_users


def _verify_email_is_not_used(self, user_pool_id, email, user=None):
    """No user but `user` (the one whose email changes, if any) has `email`."""
    pool = self.describe_user_pool(user_pool_id)
    if email and "email" in pool.extended_config.get("UsernameAttributes", []):
        if any(other is not user for other in _users_with(pool, "email", email, alias=True)):
            raise AliasExistsException


def _admin_update_user_attributes(self, user_pool_id, username, attributes):
    # moto's, but a user may take its own email in another case.
    user = self.admin_get_user(user_pool_id, username)
    self._verify_email_is_not_used(user_pool_id, self._find_attr("email", attributes), user)
    user.update_attributes(attributes)


def _update_user_attributes_by_token(self, access_token, attributes):
    # moto's, with the same change.
    for user_pool in self.user_pools.values():
        if access_token in user_pool.access_tokens:
            _, username = user_pool.access_tokens[access_token]
            user = self.admin_get_user(user_pool.id, username)
            self._verify_email_is_not_used(user_pool.id, self._find_attr("email", attributes), user)
            user.update_attributes(attributes)
            return
    raise NotAuthorizedError(access_token)


CognitoIdpBackend._verify_email_is_not_used = _verify_email_is_not_used
CognitoIdpBackend.admin_update_user_attributes = _admin_update_user_attributes
CognitoIdpBackend.update_user_attributes = _update_user_attributes_by_token

_COGNITO_LOCK = threading.RLock()
for _name, _method in list(vars(CognitoIdpBackend).items()):
    if inspect.isfunction(_method) and not _name.startswith("__"):
        setattr(CognitoIdpBackend, _name, _serialised(_method, _COGNITO_LOCK))
# The launcher's own Cognito operations change users too.
CognitoIdpResponse.get_user_attribute_verification_code = _serialised(get_user_attribute_verification_code, _COGNITO_LOCK)
CognitoIdpResponse.verify_user_attribute = _serialised(verify_user_attribute, _COGNITO_LOCK)
CognitoIdpResponse.sign_up = _serialised(sign_up, _COGNITO_LOCK)
CognitoIdpResponse.confirm_sign_up = _serialised(confirm_sign_up, _COGNITO_LOCK)
CognitoIdpResponse.resend_confirmation_code = _serialised(resend_confirmation_code, _COGNITO_LOCK)
CognitoIdpResponse.forgot_password = _serialised(forgot_password, _COGNITO_LOCK)
CognitoIdpResponse.confirm_forgot_password = _serialised(confirm_forgot_password_response, _COGNITO_LOCK)
for _name, _method in [("initiate_auth", initiate_auth), ("respond_to_auth_challenge", respond_to_auth_challenge),
                       ("admin_initiate_auth", admin_initiate_auth), ("admin_respond_to_auth_challenge", respond_to_auth_challenge),
                       ("set_user_pool_mfa_config", set_user_pool_mfa_config), ("start_web_authn_registration", start_web_authn_registration),
                       ("complete_web_authn_registration", complete_web_authn_registration), ("list_web_authn_credentials", list_web_authn_credentials),
                       ("delete_web_authn_credential", delete_web_authn_credential), ("get_user_auth_factors", get_user_auth_factors),
                       ("delete_user", delete_user), ("update_user_attributes", update_user_attributes),
                       ("set_user_mfa_preference", set_user_mfa_preference), ("admin_set_user_mfa_preference", admin_set_user_mfa_preference)]:
    setattr(CognitoIdpResponse, _name, _serialised(_method, _COGNITO_LOCK))


# The `X-Amz-Target` prefixes of the JSON-protocol services the bridge calls, and their IAM prefixes.
_TARGETS = {"DynamoDB_20120810": "dynamodb", "AWSCognitoIdentityProviderService": "cognito-idp", "secretsmanager": "secretsmanager",
            "TrentService": "kms", "AmazonSQS": "sqs"}
# The REST-protocol operations the bridge calls (method and path), by their IAM action.
_REST_OPERATIONS = {("POST", "/v2/email/outbound-emails"): "ses:SendEmail"}
_CALL_LOG_LOCK = threading.Lock()


def _recording(call):
    """`DomainDispatcherApplication.__call__` that first appends the request to `MOTO_CALL_LOG`."""
    log = os.environ.get("MOTO_CALL_LOG")
    if not log:
        return call

    @functools.wraps(call)
    def recorded(self, environ, start_response):
        credential = re.search(r"Credential=([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
        prefix, _, op = environ.get("HTTP_X_AMZ_TARGET", "").partition(".")
        rest = _REST_OPERATIONS.get((environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")))
        if credential and rest:
            prefix, op = "", rest
        if credential and (prefix in _TARGETS or rest):
            entry = {"key": credential.group(1), "op": rest or f"{_TARGETS[prefix]}:{op}"}
            if op in ("TransactWriteItems", "Query", "Scan") and prefix.startswith("DynamoDB"):
                body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
                environ["wsgi.input"] = io.BytesIO(body)
                try:
                    request = json.loads(body or b"{}")
                    if op == "TransactWriteItems":
                        entry["items"] = sorted({kind for item in request.get("TransactItems", []) for kind in item})
                    elif request.get("IndexName"):
                        entry["index"] = request["IndexName"]
                except (ValueError, AttributeError, TypeError):
                    entry["items"] = ["unreadable"]
            # The log never changes moto's answer; a log that cannot be written is said once.
            try:
                with _CALL_LOG_LOCK, open(log, "a", encoding="utf-8") as out:
                    out.write(json.dumps(entry) + "\n")
            except OSError as error:
                if not getattr(recorded, "warned", False):
                    recorded.warned = True
                    print(f"MOTO_CALL_LOG: cannot write {log}: {error}", file=sys.stderr, flush=True)
        return call(self, environ, start_response)

    return recorded


def main():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    DomainDispatcherApplication.__call__ = _recording(DomainDispatcherApplication.__call__)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]) if len(sys.argv) > 1 else 0, verbose=False)
    server.start()
    # Port 0 is bound by the server itself, so no other process can take it between choice and use.
    global PORT
    port = PORT = server.get_host_and_port()[1]
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
