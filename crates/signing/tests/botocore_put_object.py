"""Uploads a file with botocore's S3 client (`put_object` with `ChecksumAlgorithm`), as a
botocore user would, for the tower-layer test; optionally changes the body on its way.

stdin: {"endpoint", "ca_bundle", "access_key", "secret_key", "file", "uploads": [{"key",
"algorithm": "CRC32" | "CRC32C" | …, "tamper": null | "data" | "trailer", "given": optional
{put_object parameter: value}, a checksum the user computed, e.g. {"ChecksumCRC32": …}}]}.
stdout: a JSON array, per upload, of {"sent": {lower-case header name: value}, "sent_trailer":
the checksum trailer's value as it went on the wire (null without one), "response": {"ETag",
"Checksum…"}} when it was accepted, or {"sent", "sent_trailer", "error": code, "message",
"status"} when refused.
"""

import json
import os
import sys

# Nothing from the environment: no profile, config or credentials file.
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

import botocore.session  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

CHECKSUM = b"x-amz-checksum-"


def trailer_value(sent):
    """The value of the checksum trailer in an aws-chunked body as sent, if it has one."""
    at = sent.rfind(b"\r\n" + CHECKSUM)
    if at < 0:
        return None
    start = sent.index(b":", at) + 1
    return sent[start : sent.index(b"\r\n", start)].decode("ascii")


def tamper_data(body):
    # In the second chunk's data (botocore sends 1 MiB chunks).
    body[1_500_000] ^= 1


def tamper_trailer(body):
    at = body.rfind(b"\r\n" + CHECKSUM)
    value = body.index(b":", at) + 1
    body[value] = ord("B") if body[value] == ord("A") else ord("A")


TAMPERS = {None: None, "data": tamper_data, "trailer": tamper_trailer}


class Tee:
    """The encoded body botocore hands the HTTP layer, read as it is sent and kept; with a
    tamper, read whole first and changed, as an attacker on the path would."""

    def __init__(self, raw, tamper):
        self._raw = raw
        self._tamper = tamper
        self.sent = bytearray()

    def read(self, size=-1):
        if self._tamper is not None:
            whole = bytearray(self._raw.read())
            self._tamper(whole)
            self._raw, self._tamper = _Bytes(bytes(whole)), None
        data = self._raw.read(size)
        self.sent += data
        return data


class _Bytes:
    def __init__(self, data):
        self._data, self._at = data, 0

    def read(self, size=-1):
        end = len(self._data) if size is None or size < 0 else self._at + size
        data = self._data[self._at : end]
        self._at += len(data)
        return data


def main():
    spec = json.load(sys.stdin)
    client = botocore.session.get_session().create_client(
        "s3",
        region_name="us-east-1",
        endpoint_url=spec["endpoint"],
        verify=spec["ca_bundle"],
        aws_access_key_id=spec["access_key"],
        aws_secret_access_key=spec["secret_key"],
        config=Config(
            s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}
        ),
    )
    current = {}

    def before_send(request, **_):
        current["sent"] = {
            k.lower(): v.decode() if isinstance(v, bytes) else v
            for k, v in request.headers.items()
        }
        current["tee"] = Tee(request.body, TAMPERS[current["tamper"]])
        request.body = current["tee"]

    client.meta.events.register("before-send.s3.PutObject", before_send)
    results = []
    for upload in spec["uploads"]:
        current.clear()
        current["tamper"] = upload["tamper"]
        result = {}
        with open(spec["file"], "rb") as body:
            try:
                response = client.put_object(
                    Bucket="bucket",
                    Key=upload["key"],
                    Body=body,
                    ChecksumAlgorithm=upload["algorithm"],
                    **upload.get("given", {}),
                )
                result["response"] = {
                    k: v
                    for k, v in response.items()
                    if k == "ETag" or k.startswith("Checksum")
                }
            except ClientError as e:
                result["error"] = e.response["Error"]["Code"]
                result["message"] = e.response["Error"]["Message"]
                result["status"] = e.response["ResponseMetadata"]["HTTPStatusCode"]
        result["sent"] = current["sent"]
        result["sent_trailer"] = trailer_value(bytes(current["tee"].sent))
        results.append(result)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
