"""POST Object forms from botocore (generate_presigned_post) and minio-py
(presigned_post_policy), each encoded as multipart/form-data by urllib3 and by requests,
for tests/post_peers.rs.

stdin: {"access_key", "secret_key", "temporary": {"access_key", "secret_key", "token"},
"bucket", "file": base64}.
stdout: a JSON array of {"name", "fields": [[name, value], ...], "file_name", "content_type",
"body": base64, "key", "size_range": [min, max] or null}: the fields the peer made, in its
order, and the body an encoder made of them with the file last.
"""

import base64
import datetime
import json
import os
import sys

os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

import botocore.session  # noqa: E402
import requests  # noqa: E402
import urllib3  # noqa: E402
from botocore.config import Config  # noqa: E402
from minio import Minio  # noqa: E402
from minio.credentials import StaticProvider  # noqa: E402
from minio.datatypes import PostPolicy  # noqa: E402

FILE_NAME = "dir\\ünïcødé photo.jpg"


def botocore_forms(spec):
    out = []
    session = botocore.session.get_session()
    temporary = spec["temporary"]
    for keys in [(spec["access_key"], spec["secret_key"], None),
                 (temporary["access_key"], temporary["secret_key"], temporary["token"])]:
        token = keys[2]
        s3 = session.create_client(
            "s3",
            region_name="eu-west-3",
            endpoint_url="http://127.0.0.1:9",
            aws_access_key_id=keys[0],
            aws_secret_access_key=keys[1],
            aws_session_token=token,
            config=Config(signature_version="s3v4"),
        )
        cases = [
            ("exact key", "uploads/report.pdf", None, None, None),
            ("key from the file name", "uploads/${filename}", None, None, None),
            (
                "fields and conditions",
                "user/${filename}",
                {"acl": "public-read", "Content-Type": "image/jpeg",
                 "x-amz-meta-note": "a, b; c=\"d\"", "success_action_status": "201"},
                [{"acl": "public-read"}, ["starts-with", "$Content-Type", "image/"],
                 ["eq", "$x-amz-meta-note", "a, b; c=\"d\""], {"success_action_status": "201"},
                 ["content-length-range", 1, 1048576]],
                (1, 1048576),
            ),
        ]
        for name, key, fields, conditions, size_range in cases:
            post = s3.generate_presigned_post(
                spec["bucket"], key, Fields=fields, Conditions=conditions, ExpiresIn=600
            )
            out.append({"name": f"botocore {name} token={bool(token)}",
                        "fields": list(post["fields"].items()),
                        "key": key, "size_range": size_range})
    return out


def minio_forms(spec):
    client = Minio(
        "127.0.0.1:9",
        credentials=StaticProvider(spec["access_key"], spec["secret_key"]),
        secure=False,
        region="eu-west-3",
    )
    policy = PostPolicy(spec["bucket"], datetime.datetime.now(datetime.timezone.utc)
                        + datetime.timedelta(minutes=10))
    policy.add_starts_with_condition("key", "minio/")
    policy.add_equals_condition("Content-Type", "image/jpeg")
    policy.add_content_length_range_condition(1, 4096)
    fields = client.presigned_post_policy(policy)
    # minio-py leaves the key and the Content-Type for the form to add.
    items = list(fields.items()) + [("key", "minio/${filename}"), ("Content-Type", "image/jpeg")]
    return [{"name": "minio-py presigned_post_policy", "fields": items,
             "key": "minio/${filename}", "size_range": (1, 4096)}]


def encode(form, file_data):
    """The same fields as urllib3 and as requests encode them, the file last."""
    out = []
    encoded, content_type = urllib3.encode_multipart_formdata(
        list(form["fields"]) + [("file", (FILE_NAME, file_data, "image/jpeg"))]
    )
    out.append(dict(form, name=form["name"] + " (urllib3)", body=encoded, content_type=content_type))
    prepared = requests.Request(
        "POST", "http://127.0.0.1:9/bucket", data=list(form["fields"]),
        files={"file": (FILE_NAME, file_data, "image/jpeg")},
    ).prepare()
    out.append(dict(form, name=form["name"] + " (requests)", body=prepared.body,
                    content_type=prepared.headers["Content-Type"]))
    return out


def main():
    spec = json.load(sys.stdin)
    file_data = base64.b64decode(spec["file"])
    out = []
    for form in botocore_forms(spec) + minio_forms(spec):
        for encoded in encode(form, file_data):
            encoded["body"] = base64.b64encode(encoded["body"]).decode()
            encoded["file_name"] = FILE_NAME
            out.append(encoded)
    json.dump(out, sys.stdout)


main()
