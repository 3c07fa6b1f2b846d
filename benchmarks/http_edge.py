"""CPU cost of the HTTP edge: what the app's middleware adds to a request that does almost nothing.

Every request passes the rate limiter, the size limits, the NUL guard and the security headers before a
route sees it. This compares, in one process, N requests to a trivial route through:

1. baseline: a bare FastAPI app with the same route and no middleware;
2. the Biz Portal app (`create_app`, SQLite in a temporary folder), `GET /healthz`, no credentials;
3. the same with a bearer token (the token is checked and `Cache-Control: no-store` added);
4. the same app, `GET /api/v1/verify/{n}`: a public look-up that also counts against its rate limit and
   reads the database.

Both sides are driven by the same in-process client (Starlette's TestClient), whose own cost is in the
baseline. Only CPU time of this process (time.process_time) is compared.

    .venv/bin/python benchmarks/http_edge.py [--requests N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from bizportal.api.app import create_app
from bizportal.api.settings import Settings
from bizportal.api.tokens import issue_token
from bizportal.engine.principal import Role

KEY = "benchmark-signing-key-" + "x" * 32


def _measure(label: str, requests: int, call: Callable[[], int]) -> float:
    for _ in range(50):  # warm-up
        call()
    start = time.process_time()
    for _ in range(requests):
        status = call()
        assert status == 200, f"{label}: {status}"
    return (time.process_time() - start) / requests * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per variant")
    args = parser.parse_args()

    bare = FastAPI()
    bare.get("/healthz")(lambda: {"status": "ok"})
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), token_signing_key=KEY, public_base_url="https://bizportal.test",
                            rate_limit_lookups="1000000/minute", rate_limit_auth_failures="1000000/minute")
        headers = {"Authorization": f"Bearer {issue_token(KEY, 'alice', Role.APPLICANT)}"}
        with TestClient(bare) as plain, TestClient(create_app(settings)) as app:
            rows = [
                ("1 bare FastAPI, GET /healthz", lambda: plain.get("/healthz").status_code),
                ("2 Biz Portal, GET /healthz", lambda: app.get("/healthz").status_code),
                ("3 Biz Portal, GET /healthz with a token", lambda: app.get("/healthz", headers=headers).status_code),
                ("4 Biz Portal, GET /api/v1/verify/{n}",
                 lambda: app.get("/api/v1/verify/LAO-2569-000001").status_code),
            ]
            results = [(label, _measure(label, args.requests, call)) for label, call in rows]
    baseline = results[0][1]
    print(f"{args.requests} requests per variant after 50 warm-up requests\n")
    print(f"{'variant':45} {'CPU ms/req':>10} {'x baseline':>11}")
    for label, per_request in results:
        print(f"{label:45} {per_request:10.3f} {per_request / baseline:10.2f}x")


if __name__ == "__main__":
    main()
