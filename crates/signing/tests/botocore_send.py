"""Signs requests with botocore and sends them over a real socket, for the tower-layer test.

stdin: a JSON array of {"method", "url", "headers": [[name, value]], "body", "access_key",
"secret_key", "token", "region", "service", "kind": "header" | "query", "s3": bool}.
stdout: a JSON array of {"status", "body", "headers": {lower-case name: value}}.
"""

import json
import sys

import botocore.auth as auth
import urllib3
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def send(http, spec):
    creds = Credentials(spec["access_key"], spec["secret_key"], spec["token"])
    request = AWSRequest(method=spec["method"], url=spec["url"], data=spec["body"].encode())
    for name, value in spec["headers"]:
        request.headers[name] = value
    if spec["kind"] == "header":
        cls = auth.S3SigV4Auth if spec["s3"] else auth.SigV4Auth
        cls(creds, spec["service"], spec["region"]).add_auth(request)
    else:
        cls = auth.S3SigV4QueryAuth if spec["s3"] else auth.SigV4QueryAuth
        cls(creds, spec["service"], spec["region"], expires=300).add_auth(request)
    prepared = request.prepare()
    response = http.request(
        prepared.method,
        prepared.url,
        body=prepared.body,
        headers=dict(prepared.headers.items()),
        retries=False,
    )
    return {
        "status": response.status,
        "body": response.data.decode("utf-8", "replace"),
        "headers": {k.lower(): v for k, v in response.headers.items()},
    }


def main():
    http = urllib3.PoolManager()
    json.dump([send(http, spec) for spec in json.load(sys.stdin)], sys.stdout)


if __name__ == "__main__":
    main()
