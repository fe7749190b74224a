"""botocore's recovery from the layer's refusals, for tests/layer_sdk_recovery.rs.
stdin: {"scenario", "addr", "ca_bundle", "access_key", "secret_key", "size"} (and for "ec2",
"temp_access_key", "temp_secret_key", "token"); stdout: a JSON array of results, one per
call: "outcome" ("ok" with the call's "value" when it is text, "client_error" with "code",
"message", "status" and "request_id", or "exception" with its class and text) and "sends", how many
attempts went on the wire."""

import json
import os
import sys

os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ.pop("AWS_PROFILE", None)

import boto3  # noqa: E402
import botocore  # noqa: E402
from botocore.config import Config  # noqa: E402

SPEC = json.load(sys.stdin)
RESULTS = []


def client(
    service, scheme, region="us-east-1", access_key=None, secret_key=None, token=None, **config
):
    sends = []
    c = boto3.session.Session().client(
        service,
        region_name=region,
        endpoint_url=f"{scheme}://{SPEC['addr']}",
        aws_access_key_id=access_key or SPEC["access_key"],
        aws_secret_access_key=secret_key or SPEC["secret_key"],
        aws_session_token=token,
        verify=SPEC.get("ca_bundle") if scheme == "https" else None,
        config=Config(retries={"max_attempts": 3, "mode": "standard"}, **config),
    )
    c.meta.events.register("before-send", lambda **kwargs: sends.append(1) and None)
    return c, sends


def record(name, call, sends):
    result = {"name": name}
    try:
        value = call()
        result["outcome"] = "ok"
        if isinstance(value, str):
            result["value"] = value
    except botocore.exceptions.ClientError as e:
        result["outcome"] = "client_error"
        result["code"] = e.response["Error"].get("Code")
        result["message"] = e.response["Error"].get("Message")
        result["status"] = e.response["ResponseMetadata"].get("HTTPStatusCode")
        result["request_id"] = e.response["ResponseMetadata"].get("RequestId")
    except Exception as e:  # noqa: BLE001: what the user's code would see
        result["outcome"] = "exception"
        result["exception"] = f"{type(e).__name__}: {e}"[:300]
    result["sends"] = len(sends)
    RESULTS.append(result)


scenario = SPEC["scenario"]
if scenario == "region":
    # A client configured for another region than the one the layer accepts: against S3,
    # botocore's region redirector re-signs for the region S3 names and the call succeeds.
    for region in ("us-east-1", "eu-west-1"):
        s3, sends = client("s3", "http", region=region, s3={"addressing_style": "path"})
        record(
            f"s3 put_object signed for {region}",
            lambda: s3.put_object(Bucket="bucket", Key="key", Body=b"hello"),
            sends,
        )
    # A HEAD answer has no body: botocore reads S3's `x-amz-bucket-region` header instead.
    s3, sends = client("s3", "http", region="eu-west-1", s3={"addressing_style": "path"})
    record(
        "s3 head_object signed for eu-west-1",
        lambda: s3.head_object(Bucket="bucket", Key="key"),
        sends,
    )
elif scenario == "expired":
    # Temporary credentials past their expiry, with their session token.
    def expired_client(service, **config):
        return client(service, "http", token=SPEC["token"], **config)

    s3, sends = expired_client("s3", s3={"addressing_style": "path"})
    record("s3 put_object", lambda: s3.put_object(Bucket="bucket", Key="key", Body=b"hi"), sends)
    sts, sends = expired_client("sts")
    record("sts get_caller_identity", lambda: sts.get_caller_identity(), sends)
    kinesis, sends = expired_client("kinesis")
    record("kinesis list_streams", lambda: kinesis.list_streams(), sends)
    ec2, sends = expired_client("ec2")
    record("ec2 describe_regions", lambda: ec2.describe_regions(), sends)
elif scenario == "ec2":
    # EC2's own protocol: a verified call, then refusals as EC2 answers them.
    def endpoint(ec2):
        return lambda: ec2.describe_regions()["Regions"][0]["Endpoint"]

    for name, access_key, secret_key, token in [
        ("ec2 describe_regions", None, None, None),
        ("ec2 describe_regions, temporary", SPEC["temp_access_key"], SPEC["temp_secret_key"],
         SPEC["token"]),
        ("ec2 describe_regions, wrong secret", None, "not-the-secret", None),
        ("ec2 describe_regions, unknown key", "AKIDUNKNOWNKEY", None, None),
        ("ec2 describe_regions, temporary without its token", SPEC["temp_access_key"],
         SPEC["temp_secret_key"], None),
    ]:
        ec2, sends = client(
            "ec2", "http", access_key=access_key, secret_key=secret_key, token=token
        )
        record(name, endpoint(ec2), sends)
    ec2, sends = client("ec2", "http", signature_version=botocore.UNSIGNED)
    record("ec2 describe_regions, unsigned", endpoint(ec2), sends)
elif scenario == "query_compatible":
    # Services that moved from the query protocol to JSON (SQS) or CBOR (CloudWatch) and keep
    # their query-era error codes; DynamoDB, born JSON, for contrast.
    calls = [
        ("sqs", lambda c: c.list_queues()),
        ("cloudwatch", lambda c: c.list_metrics()),
        ("dynamodb", lambda c: c.list_tables()),
    ]
    for service, call in calls:
        for name, access_key, secret_key in [
            ("wrong secret", None, "not-the-secret"),
            ("unknown key", "AKIDUNKNOWNKEY", None),
        ]:
            c, sends = client(service, "http", access_key=access_key, secret_key=secret_key)
            record(f"{service}, {name}", lambda: call(c), sends)
elif scenario == "unsigned_json":
    # Unsigned calls to a JSON service of each kind: DynamoDB (awsJson) and Lambda (restJson).
    dynamodb, sends = client("dynamodb", "http", signature_version=botocore.UNSIGNED)
    record("dynamodb list_tables, unsigned", lambda: dynamodb.list_tables(), sends)
    lambda_, sends = client("lambda", "http", signature_version=botocore.UNSIGNED)
    record(
        "lambda update_function_configuration, unsigned",
        lambda: lambda_.update_function_configuration(FunctionName="f", Description="d"),
        sends,
    )
elif scenario == "s3_tls_wrong_secret":
    # S3 over HTTPS with a wrong secret: botocore sends `Expect: 100-continue` and waits 1 s
    # for an answer (`AWSConnection._send_output`), then sends the body anyway.
    s3, sends = client("s3", "https", s3={"addressing_style": "path"})
    for size in (100, SPEC["size"]):
        record(
            f"s3 put_object of {size} bytes, wrong secret",
            lambda: s3.put_object(Bucket="bucket", Key="key", Body=b"x" * size),
            sends,
        )
        sends.clear()
elif scenario == "early_tls":
    # Over HTTPS, a request whose body is large and which the layer refuses before reading it
    # (an unknown access key). botocore sends `Expect: 100-continue` to S3 only.
    size = SPEC["size"]
    unknown = "AKIDUNKNOWNKEY"
    kinesis, sends = client("kinesis", "https", access_key=unknown)
    record(
        "kinesis put_record, unknown key",
        lambda: kinesis.put_record(StreamName="s", Data=b"a" * size, PartitionKey="p"),
        sends,
    )
    sns, sends = client("sns", "https", access_key=unknown)
    record(
        "sns publish, unknown key",
        lambda: sns.publish(TopicArn="arn:aws:sns:us-east-1:123456789012:t", Message="a" * size),
        sends,
    )
    # The same calls with a small body: the refusal arrives.
    kinesis, sends = client("kinesis", "https", access_key=unknown)
    record(
        "kinesis put_record, unknown key, small body",
        lambda: kinesis.put_record(StreamName="s", Data=b"a" * 100, PartitionKey="p"),
        sends,
    )
elif scenario == "over_limit_tls":
    # Over HTTPS, a body larger than the layer's `max_body_bytes` (refused `EntityTooLarge`
    # from its `Content-Length`, before it is read); no `Expect: 100-continue` outside S3.
    kinesis, sends = client("kinesis", "https")
    record(
        "kinesis put_record over the limit",
        lambda: kinesis.put_record(StreamName="s", Data=b"a" * SPEC["size"], PartitionKey="p"),
        sends,
    )
elif scenario == "stall_tls":
    # Over HTTPS, an S3 upload whose source stalls once (a slow disk, a paused producer) for
    # longer than the layer's body timeouts, mid-body: the layer answers `RequestTimeout`.
    # botocore streams it `aws-chunked` (idle timeout) by default, as one buffered body
    # (`body_timeout`) when told to compute checksums only when required. One attempt, so
    # that the result is what the user reads once retries are spent.
    import io
    import time
    import traceback

    class StallingFile(io.RawIOBase):
        """Stalls once (SPEC["stall"] seconds) while urllib3 sends it, past its first 300 KiB."""

        def __init__(self, data):
            self.data = io.BytesIO(data)
            self.stalled = False

        def readable(self):
            return True

        def seekable(self):
            return True

        def seek(self, *args):
            return self.data.seek(*args)

        def tell(self):
            return self.data.tell()

        def readinto(self, buf):
            sending = any("urllib3" in f.filename for f in traceback.extract_stack())
            if sending and not self.stalled and self.data.tell() >= 300 * 1024:
                self.stalled = True
                time.sleep(SPEC["stall"])
            chunk = self.data.read(min(len(buf), 65536))
            buf[: len(chunk)] = chunk
            return len(chunk)

    for checksums in ("when_supported", "when_required"):
        sends = []
        s3 = boto3.session.Session().client(
            "s3",
            region_name="us-east-1",
            endpoint_url=f"https://{SPEC['addr']}",
            aws_access_key_id=SPEC["access_key"],
            aws_secret_access_key=SPEC["secret_key"],
            verify=SPEC["ca_bundle"],
            config=Config(
                retries={"total_max_attempts": 1, "mode": "standard"},
                request_checksum_calculation=checksums,
                s3={"addressing_style": "path"},
            ),
        )
        s3.meta.events.register("before-send", lambda **kwargs: sends.append(1) and None)
        body = StallingFile(b"x" * (900 * 1024))
        record(
            f"s3 put_object stalling mid-body, checksums {checksums}",
            lambda: s3.put_object(Bucket="bucket", Key="key", Body=body),
            sends,
        )
else:
    raise SystemExit(f"unknown scenario {scenario}")

json.dump(RESULTS, sys.stdout)
