"""schemathesis hooks for `cargo xtask fuzz` (loaded through SCHEMATHESIS_HOOKS).

The fuzzer logs in as the demo admin and is allowed to do anything an admin may, including
deleting or demoting that admin, changing its email or password, once a stateful run has
found the admin's id (`GET /api/v1/me`, `GET /api/v1/people`). The server allows it when another
admin remains, which the fuzzer may have created; from then on every request would be a 401 and
the rest of the run would test nothing. So a write whose path names the fuzzer's own account is
sent to an id that exists nowhere instead (a 404, which every such operation documents).
"""

import json
import os
import urllib.request
import uuid

import schemathesis

_own_id = None


def _login_id():
    base = os.environ["COHORT_FUZZ_URL"]
    body = json.dumps(
        {"email": os.environ["COHORT_FUZZ_EMAIL"], "password": os.environ["COHORT_FUZZ_PASSWORD"]}
    ).encode()
    login = urllib.request.Request(
        f"{base}/api/v1/auth/login", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(login, timeout=30) as response:
        token = json.load(response)["access_token"]
    me = urllib.request.Request(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(me, timeout=30) as response:
        return json.load(response)["person"]["id"]


@schemathesis.hook
def before_call(context, case, **kwargs):
    global _own_id
    if case.method.upper() == "GET" or not case.path_parameters:
        return
    if _own_id is None:
        _own_id = _login_id()
    for name, value in case.path_parameters.items():
        if str(value).lower() == _own_id:
            case.path_parameters[name] = str(uuid.uuid4())
