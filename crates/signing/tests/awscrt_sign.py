"""Signs a batch of requests with awscrt (aws-c-auth), for edgeward-signing's differential tests.

stdin: a JSON array of requests, the same as botocore_sign.py takes:
  {"method", "url", "headers": [[name, value], ...], "body" (latin-1 text), "access_key",
   "secret_key", "token" (or null), "region", "service", "amz_date" ("YYYYMMDDTHHMMSSZ"),
   "kind": "header" | "query", "s3": bool, "unsigned": bool, "expires": seconds}
stdout: a JSON array, one result per request:
  {"url", "headers": [[name, value], ...], "body", "signature"} or {"error": "..."}.
  (aws-c-auth does not hand its canonical request back; it logs it at Info, so set
  EDGEWARD_AWSCRT_LOG to a file path, or to "stderr", to see it.)

One process signs the whole batch with awscrt.auth.aws_sign_request and a config that pins
the date to amz_date. The S3 settings are what S3 clients on aws-c-auth use: the path as sent
(no double encoding, no normalisation) and, signing with headers, x-amz-content-sha256.
The payload value is UNSIGNED-PAYLOAD for "unsigned" and for any presigned S3 request (as
botocore and the S3 SDKs presign), else the body's SHA-256.
"""

import datetime
import hashlib
import io
import json
import os
import sys

from awscrt.auth import (
    AwsCredentialsProvider,
    AwsSignatureType,
    AwsSignedBodyHeaderType,
    AwsSignedBodyValue,
    AwsSigningAlgorithm,
    AwsSigningConfig,
    aws_sign_request,
)
from awscrt.http import HttpHeaders, HttpRequest


def split_url(url):
    """("http://host", "/path?query") of an absolute URL."""
    scheme, rest = url.split("://", 1)
    slash = rest.find("/")
    if slash < 0:
        return f"{scheme}://{rest}", "/"
    return f"{scheme}://{rest[:slash]}", rest[slash:]


def sign(spec):
    when = datetime.datetime.strptime(spec["amz_date"], "%Y%m%dT%H%M%SZ").replace(
        tzinfo=datetime.timezone.utc
    )
    body = spec["body"].encode("latin-1")
    origin, path_and_query = split_url(spec["url"])
    headers = HttpHeaders()
    for name, value in spec["headers"]:
        headers.add(name, value)  # appends: duplicates are kept
    request = HttpRequest(spec["method"], path_and_query, headers, io.BytesIO(body))
    query = spec["kind"] == "query"
    s3 = spec["s3"]
    if spec["unsigned"] or (query and s3):
        body_value = AwsSignedBodyValue.UNSIGNED_PAYLOAD
    else:
        body_value = hashlib.sha256(body).hexdigest()
    config = AwsSigningConfig(
        algorithm=AwsSigningAlgorithm.V4,
        signature_type=(
            AwsSignatureType.HTTP_REQUEST_QUERY_PARAMS
            if query
            else AwsSignatureType.HTTP_REQUEST_HEADERS
        ),
        credentials_provider=AwsCredentialsProvider.new_static(
            spec["access_key"], spec["secret_key"], spec["token"]
        ),
        region=spec["region"],
        service=spec["service"],
        date=when,
        use_double_uri_encode=not s3,
        should_normalize_uri_path=not s3,
        signed_body_value=body_value,
        signed_body_header_type=(
            AwsSignedBodyHeaderType.X_AMZ_CONTENT_SHA_256
            if s3 and not query
            else AwsSignedBodyHeaderType.NONE
        ),
        expiration_in_seconds=spec["expires"] if query else None,
    )
    signed = aws_sign_request(request, config).result(timeout=30)
    if query:
        signature = signed.path.rsplit("X-Amz-Signature=", 1)[1]
    else:
        signature = signed.headers.get("Authorization").rsplit("Signature=", 1)[1]
    return {
        "url": origin + signed.path,
        "headers": [[name, value] for name, value in signed.headers],
        "body": spec["body"],
        "signature": signature,
    }


def main():
    log = os.environ.get("EDGEWARD_AWSCRT_LOG")
    if log:
        from awscrt.io import LogLevel, init_logging

        init_logging(LogLevel.Info, log)
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
