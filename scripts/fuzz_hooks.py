"""Schemathesis hooks for `make fuzz-api`.

Operations that need a bearer token get a fresh one for a "fuzz owner" account, so fuzzing
reaches past authentication. Schemathesis reuses values it saw in responses, so it soon tries
the owner's email with random passwords and the account backoff locks it out (as it should);
the owner is then replaced by a new account. Requests that already carry a real access token
(from the OpenAPI links signup -> signin -> me -> patch -> delete) keep it; any other
Authorization value (absent, or random) is replaced.
"""

import itertools
import os
import uuid

import requests
import schemathesis

BASE_URL = os.environ["WARREN_FUZZ_URL"]
PASSWORD = os.environ["WARREN_FUZZ_PASSWORD"]
_owners = itertools.count()


def _new_owner():
    return {"email": f"fuzz-owner-{next(_owners)}-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD}


@schemathesis.auth(refresh_interval=2)
class WarrenBearer:
    owner = _new_owner()

    def get(self, case, context):
        for _ in range(3):
            response = requests.post(f"{BASE_URL}/api/v1/auth/signin", json=self.owner, timeout=10)
            if response.status_code == 200:
                return response.json()["access_token"]
            # Locked out or deleted: continue with a fresh account.
            WarrenBearer.owner = _new_owner()
            requests.post(f"{BASE_URL}/api/v1/auth/signup", json=self.owner, timeout=10)
        response.raise_for_status()
        raise RuntimeError(f"signin answered {response.status_code}")

    def set(self, case, data, context):
        headers = case.headers or {}
        current = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        is_real_token = isinstance(current, str) and current.startswith("Bearer eyJ") and current.count(".") == 2
        if not is_real_token:
            for name in [k for k in headers if k.lower() == "authorization"]:
                del headers[name]
            headers["Authorization"] = f"Bearer {data}"
        case.headers = headers
