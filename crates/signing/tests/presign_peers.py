"""Presigned URLs from botocore (generate_presigned_url) and awscrt in less common
configurations, for tests/presign_peers.rs.

stdin: {"access_key", "secret_key", "token"}.
stdout: a JSON array of {"name", "method", "url", "headers": [[name, value], ...]}: what a
client sends for the URL (the headers it signed, with the values it signed).
"""

import datetime
import io
import json
import os
import sys

os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

import botocore.session  # noqa: E402
from botocore.config import Config  # noqa: E402
from awscrt.auth import (  # noqa: E402
    AwsCredentialsProvider,
    AwsSignatureType,
    AwsSignedBodyHeaderType,
    AwsSignedBodyValue,
    AwsSigningAlgorithm,
    AwsSigningConfig,
    aws_sign_request,
)
from awscrt.http import HttpHeaders, HttpRequest  # noqa: E402

KEYS = ["a b+c", "dir/ünïcødé €", "100%/x", "tilde~x", "trailing/", "a//b/./c/../d", "q?x=1&y"]


def botocore_cases(spec):
    out = []
    session = botocore.session.get_session()
    for style in ["path", "virtual"]:
        for token in [None, spec["token"]]:
            s3 = session.create_client(
                "s3",
                region_name="eu-west-3",
                endpoint_url="http://s3.eu-west-3.amazonaws.com",
                aws_access_key_id=spec["access_key"],
                aws_secret_access_key=spec["secret_key"],
                aws_session_token=token,
                config=Config(signature_version="s3v4", s3={"addressing_style": style}),
            )
            for key in KEYS:
                url = s3.generate_presigned_url(
                    "get_object", Params={"Bucket": "bucket", "Key": key}, ExpiresIn=604800
                )
                out.append({"name": f"botocore get {style} token={bool(token)} {key!r}",
                            "method": "GET", "url": url, "headers": []})
                url = s3.generate_presigned_url(
                    "put_object",
                    Params={"Bucket": "bucket", "Key": key, "ContentType": "text/plain; charset=utf-8",
                            "Metadata": {"Foo": "Bar  baz", "two": "2"}, "ACL": "public-read",
                            "CacheControl": "no-cache"},
                    ExpiresIn=3600,
                )
                out.append({"name": f"botocore put+headers {style} token={bool(token)} {key!r}",
                            "method": "PUT", "url": url, "headers": [
                                ["Content-Type", "text/plain; charset=utf-8"],
                                ["x-amz-meta-foo", "Bar  baz"], ["x-amz-meta-two", "2"],
                                ["x-amz-acl", "public-read"], ["Cache-Control", "no-cache"]]})
            # A presigned upload with a checksum header.
            url = s3.generate_presigned_url(
                "put_object", Params={"Bucket": "bucket", "Key": "k", "ChecksumSHA256":
                                      "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
                ExpiresIn=60)
            out.append({"name": f"botocore put checksum {style} token={bool(token)}",
                        "method": "PUT", "url": url,
                        "headers": [["x-amz-checksum-sha256", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="]]})
    # STS GetCallerIdentity presigned, as botocore presigns it.
    for token in [None, spec["token"]]:
        sts = session.create_client(
            "sts", region_name="us-east-1", endpoint_url="https://sts.amazonaws.com",
            aws_access_key_id=spec["access_key"], aws_secret_access_key=spec["secret_key"],
            aws_session_token=token)
        url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=900)
        # Signed as the model's POST (the form body moved into the query): sent as a POST.
        out.append({"name": f"botocore sts token={bool(token)}", "method": "POST", "url": url, "headers": []})

        # As `aws eks get-token` (and aws-iam-authenticator) presign it: a signed x-k8s-aws-id.
        def add_header(request, **kwargs):
            request.headers["x-k8s-aws-id"] = "my-cluster"
        sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_header)
        url = sts.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=60, HttpMethod="GET")
        out.append({"name": f"eks get-token token={bool(token)}", "method": "GET", "url": url,
                    "headers": [["x-k8s-aws-id", "my-cluster"]]})
    return out


def awscrt_cases(spec):
    out = []
    when = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    variants = [
        # (name, service, host, path, headers, omit_token, s3)
        ("s3 virtual put", "s3", "bucket.s3.us-east-1.amazonaws.com", "/a%20b%2Bc/%C3%BC%25~/",
         [["Content-Type", "text/plain"], ["x-amz-meta-a", "b"], ["x-amz-acl", "private"]], False, True),
        ("s3 query acl", "s3", "s3.us-east-1.amazonaws.com", "/bucket/key?x-amz-acl=public-read",
         [], False, True),
        ("s3 token appended", "s3", "s3.us-east-1.amazonaws.com", "/bucket/key", [], True, True),
        ("sts token signed", "sts", "sts.amazonaws.com", "/?Action=GetCallerIdentity&Version=2011-06-15",
         [], False, False),
        ("sts token appended", "sts", "sts.amazonaws.com", "/?Action=GetCallerIdentity&Version=2011-06-15",
         [], True, False),
        ("execute-api path", "execute-api", "api.example.com", "/stage/a%20b/c", [], False, False),
    ]
    for name, service, host, path, extra, omit, s3 in variants:
        headers = HttpHeaders()
        headers.add("Host", host)
        for k, v in extra:
            headers.add(k, v)
        request = HttpRequest("PUT" if "put" in name else "GET", path, headers, io.BytesIO(b""))
        config = AwsSigningConfig(
            algorithm=AwsSigningAlgorithm.V4,
            signature_type=AwsSignatureType.HTTP_REQUEST_QUERY_PARAMS,
            credentials_provider=AwsCredentialsProvider.new_static(
                spec["access_key"], spec["secret_key"], spec["token"]),
            region="us-east-1", service=service, date=when,
            use_double_uri_encode=not s3, should_normalize_uri_path=not s3,
            signed_body_value=AwsSignedBodyValue.UNSIGNED_PAYLOAD if s3 else AwsSignedBodyValue.EMPTY_SHA256,
            signed_body_header_type=AwsSignedBodyHeaderType.NONE,
            expiration_in_seconds=604800 if s3 else 900,
            omit_session_token=omit,
        )
        signed = aws_sign_request(request, config).result(timeout=30)
        out.append({"name": f"awscrt {name}", "method": request.method,
                    "url": f"https://{host}{signed.path}", "headers": extra})
    return out


def main():
    spec = json.load(sys.stdin)
    json.dump(botocore_cases(spec) + awscrt_cases(spec), sys.stdout)


if __name__ == "__main__":
    main()
