"""botocore's generate_presigned_post at a fixed time, for tests/post_peers.rs: the forms our
presign_post must make byte for byte.

stdin: {"amz_date", "credentials": [{"access_key", "secret_key", "token"}], "cases": [{"bucket",
"key", "expires_in", "fields": [[name, value], ...], "conditions": [...]}]}.
stdout: a JSON array, per credentials then per case, of {"fields": [[name, value], ...]}.
"""

import datetime
import json
import os
import sys

os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

import botocore.auth  # noqa: E402
import botocore.session  # noqa: E402
import botocore.signers  # noqa: E402
from botocore.config import Config  # noqa: E402


def main():
    spec = json.load(sys.stdin)
    when = datetime.datetime.strptime(spec["amz_date"], "%Y%m%dT%H%M%SZ")
    # Both the policy's expiration (signers) and the signature's time (auth) read this.
    botocore.signers.get_current_datetime = lambda: when
    botocore.auth.get_current_datetime = lambda: when
    out = []
    session = botocore.session.get_session()
    for keys in spec["credentials"]:
        s3 = session.create_client(
            "s3", region_name="eu-west-3", endpoint_url="http://127.0.0.1:9",
            aws_access_key_id=keys["access_key"], aws_secret_access_key=keys["secret_key"],
            aws_session_token=keys["token"], config=Config(signature_version="s3v4"),
        )
        for case in spec["cases"]:
            post = s3.generate_presigned_post(
                case["bucket"], case["key"], Fields=dict(case["fields"]),
                Conditions=case["conditions"], ExpiresIn=case["expires_in"],
            )
            out.append({"fields": list(post["fields"].items())})
    json.dump(out, sys.stdout)


main()
