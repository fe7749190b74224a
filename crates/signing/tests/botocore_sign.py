"""Signs a batch of requests with botocore, for edgeward-signing's differential tests.

stdin: a JSON array of requests:
  {"method", "url", "headers": [[name, value], ...], "body" (latin-1 text), "access_key",
   "secret_key", "token" (or null), "region", "service", "amz_date" ("YYYYMMDDTHHMMSSZ"),
   "kind": "header" | "query", "s3": bool, "unsigned": bool, "expires": seconds}
stdout: a JSON array, one result per request:
  {"url", "headers": [[name, value], ...], "body", "signature", "canonical_request",
   "string_to_sign"} or {"error": "..."}.
One process signs the whole batch; botocore's clock is pinned to each request's amz_date.
"""

import datetime
import json
import sys

import botocore.auth as auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials


def sign(spec):
    when = datetime.datetime.strptime(spec["amz_date"], "%Y%m%dT%H%M%SZ")
    auth.get_current_datetime = lambda: when
    creds = Credentials(spec["access_key"], spec["secret_key"], spec["token"])
    body = spec["body"].encode("latin-1")
    request = AWSRequest(method=spec["method"], url=spec["url"], data=body)
    for name, value in spec["headers"]:
        request.headers[name] = value  # appends: duplicates are kept
    if spec["unsigned"]:
        request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    if spec["kind"] == "header":
        cls = auth.S3SigV4Auth if spec["s3"] else auth.SigV4Auth
        signer = cls(creds, spec["service"], spec["region"])
    else:
        cls = auth.S3SigV4QueryAuth if spec["s3"] else auth.SigV4QueryAuth
        signer = cls(creds, spec["service"], spec["region"], expires=spec["expires"])
    captured = {}
    original_cr = signer.canonical_request
    original_sts = signer.string_to_sign

    def canonical_request(req):
        captured["canonical_request"] = original_cr(req)
        return captured["canonical_request"]

    def string_to_sign(req, cr):
        captured["string_to_sign"] = original_sts(req, cr)
        return captured["string_to_sign"]

    signer.canonical_request = canonical_request
    signer.string_to_sign = string_to_sign
    signer.add_auth(request)
    if spec["kind"] == "header":
        signature = request.headers["Authorization"].rsplit("Signature=", 1)[1]
    else:
        signature = request.url.rsplit("X-Amz-Signature=", 1)[1]
    body = request.body if isinstance(request.body, bytes) else (request.body or b"")
    if isinstance(body, str):
        body = body.encode("utf-8")
    return {
        "url": request.url,
        "headers": [[k, v] for k, v in request.headers.items()],
        "body": body.decode("latin-1"),
        "signature": signature,
        "canonical_request": captured.get("canonical_request", ""),
        "string_to_sign": captured.get("string_to_sign", ""),
    }


def main():
    specs = json.load(sys.stdin)
    results = []
    for spec in specs:
        try:
            results.append(sign(spec))
        except Exception as exc:  # reported per request, so one bad case names itself
            results.append({"error": f"{type(exc).__name__}: {exc}"})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
