"""Browser uploads as a Python program sends them: botocore's generate_presigned_post for an
endpoint, and the form POSTed with requests (the file last), for tests/post_peers.rs.

stdin: {"endpoint", "access_key", "secret_key", "bucket", "file": base64}.
stdout: a JSON array of {"name", "key" (as the form gives it), "filename_in_key" (what S3
puts for ${filename}), "status", "body", "verified_key" (the endpoint's
x-edgeward-verified-key header, or null)}: what the endpoint answered.
"""

import base64
import hashlib
import json
import os
import sys
import zlib

os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

import botocore.session  # noqa: E402
import requests  # noqa: E402
from botocore.config import Config  # noqa: E402


def main():
    spec = json.load(sys.stdin)
    data = base64.b64decode(spec["file"])
    s3 = botocore.session.get_session().create_client(
        "s3",
        region_name="us-east-1",
        endpoint_url=spec["endpoint"],
        aws_access_key_id=spec["access_key"],
        aws_secret_access_key=spec["secret_key"],
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    out = []
    cases = [
        ("exact key", "uploads/report.bin", None, None, {}),
        ("key from the file name", "uploads/${filename}", None, None, {}),
        ("201 with a range", "ranged/${filename}",
         {"success_action_status": "201"},
         [{"success_action_status": "201"}, ["content-length-range", 1, 1048576]], {}),
        ("an extra field", "extra/${filename}", None, None, {"x-amz-meta-extra": "1"}),
    ]
    # The file's checksums as a browser's page would compute them (hashlib, zlib), claimed
    # by a field the policy names: the file's own, and another file's.
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    crc32 = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    other_crc32 = base64.b64encode(zlib.crc32(data + b"!").to_bytes(4, "big")).decode()
    for name, key, field, value in [
        ("its Content-MD5", "md5/${filename}", "Content-MD5", md5),
        ("its CRC32", "crc32/${filename}", "x-amz-checksum-crc32", crc32),
        ("another file's CRC32", "other/${filename}", "x-amz-checksum-crc32", other_crc32),
    ]:
        cases.append((name, key, {field: value}, [{field: value}], {}))
    for name, key, fields, conditions, extra in cases:
        post = s3.generate_presigned_post(spec["bucket"], key, Fields=fields,
                                          Conditions=conditions, ExpiresIn=600)
        form = dict(post["fields"], **extra)
        response = requests.post(post["url"], data=form,
                                 files={"file": ("photo one.bin", data)}, timeout=30)
        out.append({"name": name, "key": key,
                    "status": response.status_code, "body": response.text,
                    "verified_key": response.headers.get("x-edgeward-verified-key"),
                    "filename_in_key": "photo one.bin"})
    json.dump(out, sys.stdout)


main()
