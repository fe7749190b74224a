"""Signs requests with botocore and sends them over a real socket, for the tower-layer test.

stdin: a JSON array of {"method", "url", "headers": [[name, value]], "body", "access_key",
"secret_key", "token", "region", "service", "kind": "header" | "query", "s3": bool,
"protocol": botocore's name of the protocol to parse an error answer in ("rest-xml",
"query", "json", "ec2"), or absent; "skew_seconds": how far the signer's clock is off, or
absent; "sent_body": the body to send in place of the signed one (as long), or absent;
"unsigned_headers": [[name, value]] added after signing, or absent; "url_edits": [[old,
new]] replacements made in the signed URL, each of which must apply, or absent; "expires": a
presigned URL's X-Amz-Expires, 300 if absent}.
stdout: a JSON array of {"status", "body", "headers": {lower-case name: value}, "signed":
{"canonical_request", "string_to_sign", "signature"} as botocore computed them, "error": the
answer's `Error` as botocore's parser reads it for a client (null without a "protocol")}.
"""

import datetime
import json
import sys

import botocore.auth as auth
import botocore.parsers as parsers
import urllib3
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def recording(cls, record):
    """`cls`, keeping what it signs in `record`."""

    class Recording(cls):
        def string_to_sign(self, request, canonical_request):
            text = super().string_to_sign(request, canonical_request)
            record["canonical_request"] = canonical_request
            record["string_to_sign"] = text
            return text

        def signature(self, string_to_sign, request):
            record["signature"] = super().signature(string_to_sign, request)
            return record["signature"]

    return Recording


def send(http, spec):
    creds = Credentials(spec["access_key"], spec["secret_key"], spec["token"])
    request = AWSRequest(method=spec["method"], url=spec["url"], data=spec["body"].encode())
    for name, value in spec["headers"]:
        request.headers[name] = value
    signed = {}
    # botocore's signers read the time through this name when they sign.
    clock = auth.get_current_datetime
    skew = datetime.timedelta(seconds=spec.get("skew_seconds") or 0)
    auth.get_current_datetime = lambda: clock() + skew
    try:
        if spec["kind"] == "header":
            cls = auth.S3SigV4Auth if spec["s3"] else auth.SigV4Auth
            recording(cls, signed)(creds, spec["service"], spec["region"]).add_auth(request)
        else:
            cls = auth.S3SigV4QueryAuth if spec["s3"] else auth.SigV4QueryAuth
            recording(cls, signed)(
                creds, spec["service"], spec["region"], expires=spec.get("expires") or 300
            ).add_auth(request)
    finally:
        auth.get_current_datetime = clock
    prepared = request.prepare()
    body = prepared.body
    if spec.get("sent_body") is not None:
        # Changed on the way, after signing: its length is the signed one's.
        body = spec["sent_body"].encode()
        assert len(body) == len(prepared.body), "sent_body must be as long as body"
    sent_headers = dict(prepared.headers.items())
    # Added on the way, after signing: the signature does not cover them.
    for name, value in spec.get("unsigned_headers") or []:
        sent_headers[name] = value
    url = prepared.url
    # Changed on the way, after signing.
    for old, new in spec.get("url_edits") or []:
        assert old in url, f"{old!r} is not in {url!r}"
        url = url.replace(old, new)
    response = http.request(
        prepared.method,
        url,
        body=body,
        headers=sent_headers,
        retries=False,
    )
    headers = {k.lower(): v for k, v in response.headers.items()}
    error = None
    if spec.get("protocol"):
        answer = {"status_code": response.status, "headers": headers, "body": response.data}
        error = parsers.create_parser(spec["protocol"]).parse(answer, None).get("Error")
    return {
        "status": response.status,
        "body": response.data.decode("utf-8", "replace"),
        "headers": headers,
        "signed": signed,
        "error": error,
    }


def main():
    http = urllib3.PoolManager()
    json.dump([send(http, spec) for spec in json.load(sys.stdin)], sys.stdout)


if __name__ == "__main__":
    main()
