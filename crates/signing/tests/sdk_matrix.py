"""An operation matrix of boto3 / the AWS CLI (default settings) against the layer, for
tests/layer_sdk_matrix.rs. stdin: ports, keys, suite; stdout: a JSON array of results, each
with "ok" and what was sent and seen."""

import datetime
import gzip
import hashlib
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import urllib.parse

os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ.pop("AWS_PROFILE", None)

import boto3  # noqa: E402
import botocore  # noqa: E402
from botocore.config import Config  # noqa: E402

_real_getaddrinfo = socket.getaddrinfo


def _getaddrinfo(host, *args, **kwargs):
    if isinstance(host, str) and (host == "localhost" or host.endswith(".localhost")):
        host = "127.0.0.1"
    return _real_getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _getaddrinfo

KEYS = [
    "a b", "a+b", "100%", "a%2Fb", "tilde~x", "star*x", "quote'x", "bang!x",
    "caf\u00e9", "cafe\u0301", "emoji \U0001F600", "a//b", "dir/", "a/./b", "a/../b",
    ".", "..", "x/..", "q?x=1&y=2", "h#frag", "semi;colon", "(paren),=@:$[]",
    "k" * 1024, "\u00e9" * 512, "/leading", "sp ace/ x ",
]

SPEC = json.load(sys.stdin)
RESULTS = []
STATE = {}


def client(service="s3", endpoint=None, tls=False, creds="long", **config):
    if creds == "long":
        ak, sk, token = SPEC["access_key"], SPEC["secret_key"], None
    else:
        ak, sk, token = SPEC["temp_access_key"], SPEC["temp_secret_key"], SPEC["token"]
    c = boto3.session.Session().client(
        service,
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id=ak,
        aws_secret_access_key=sk,
        aws_session_token=token,
        verify=SPEC["ca_bundle"] if tls else None,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
    )
    c.meta.events.register("before-send", _before_send)
    c.meta.events.register("before-parse", _before_parse)
    return c


def _before_send(request, **kwargs):
    body = request.body
    if hasattr(body, "read"):
        body = None
    STATE["sent"] = {
        "url": request.url,
        "headers": {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()},
        "body_len": None if body is None else len(body),
    }


def _before_parse(response_dict, **kwargs):
    STATE["response"] = {
        "status": response_dict["status_code"],
        "headers": {k.lower(): v for k, v in response_dict["headers"].items()},
        "body": response_dict["body"][:600].decode("utf-8", "replace") if isinstance(response_dict["body"], bytes) else "",
    }


def raw_path(url):
    # The request target as sent, without re-quoting.
    rest = url.split("://", 1)[1]
    slash = rest.find("/")
    target = rest[slash:] if slash >= 0 else "/"
    path, _, query = target.partition("?")
    return path, query


def record(name, call, expect_path=None, expect_body=None, extra=None):
    STATE.clear()
    error = None
    try:
        call()
    except Exception as e:  # noqa: BLE001
        error = f"{type(e).__name__}: {e}"[:400]
    sent = STATE.get("sent", {})
    response = STATE.get("response", {})
    headers = response.get("headers", {})
    status = response.get("status")
    result = {"name": name, "status": status, "error": error}
    problems = []
    if status != 200 and status != 206:
        problems.append(f"status {status}: {response.get('body', '')}")
    if sent:
        sent_path, sent_query = raw_path(sent["url"])
        result["sent_path"] = sent_path[:200]
        result["sent_query"] = sent_query[:300]
        result["sent_sha256"] = sent["headers"].get("x-amz-content-sha256")
        result["sent_encoding"] = sent["headers"].get("content-encoding")
        result["sent_expect"] = sent["headers"].get("expect")
        if "x-seen-path" in headers:
            if headers["x-seen-path"] != sent_path:
                problems.append(f"service saw path {headers['x-seen-path']!r}, SDK sent {sent_path!r}")
            if headers.get("x-seen-query", "") != sent_query:
                problems.append(f"service saw query {headers.get('x-seen-query')!r}, SDK sent {sent_query!r}")
    if "x-seen-path" in headers and expect_path is not None:
        seen = urllib.parse.unquote_to_bytes(headers["x-seen-path"])
        if seen != expect_path.encode("utf-8"):
            problems.append(f"service path decodes to {seen!r}, SDK meant {expect_path!r}")
    if expect_body is not None and "x-seen-sha256" in headers:
        if headers["x-seen-sha256"] != hashlib.sha256(expect_body).hexdigest():
            problems.append(f"service saw a body of {headers.get('x-seen-len')} bytes, not the {len(expect_body)} sent")
    if extra:
        problems.extend(extra(headers, sent) or [])
    if error and not problems and "x-seen-path" not in headers:
        problems.append("no answer from the service")
    result["problems"] = problems
    result["ok"] = not problems
    RESULTS.append(result)


def endpoints(style):
    plain = f"http://127.0.0.1:{SPEC['plain_port']}"
    if style == "virtual":
        return f"http://localhost:{SPEC['plain_port']}", "virtual"
    if style == "prefix":
        return plain + "/prefix", "path"
    return plain, "path"


def key_path(style, key):
    if style == "virtual":
        return "/" + key
    if style == "prefix":
        return "/prefix/bucket/" + key
    return "/bucket/" + key


def suite_keys(style):
    endpoint, addressing = endpoints(style)
    s3 = client(endpoint=endpoint, s3={"addressing_style": addressing})
    for key in KEYS:
        body = f"body of {key}".encode()
        short = key[:40]
        record(f"{style} put {short!r}", lambda: s3.put_object(Bucket="bucket", Key=key, Body=body),
               key_path(style, key), body)
        record(f"{style} get {short!r}", lambda: s3.get_object(Bucket="bucket", Key=key)["Body"].read(),
               key_path(style, key))
        record(f"{style} head {short!r}", lambda: s3.head_object(Bucket="bucket", Key=key),
               key_path(style, key))

        def copy_seen(headers, sent):
            src = headers.get("x-seen-copy-source", "")
            decoded = urllib.parse.unquote_to_bytes(src)
            if decoded != ("bucket/" + key).encode():
                return [f"copy source seen {src!r} decodes to {decoded!r}"]
            return []

        record(f"{style} copy {short!r}",
               lambda: s3.copy_object(Bucket="bucket", Key=key + "-copy",
                                      CopySource={"Bucket": "bucket", "Key": key}),
               key_path(style, key + "-copy"), extra=copy_seen)


def fetch(url, method="GET", body=None, headers=None):
    parts = urllib.parse.urlsplit(url)
    path, query = raw_path(url)
    target = path + ("?" + query if query else "")
    if parts.scheme == "https":
        ctx = ssl.create_default_context(cafile=SPEC["ca_bundle"])
        conn = http.client.HTTPSConnection("127.0.0.1", parts.port, context=ctx)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", parts.port)
    h = {"Host": parts.netloc}
    h.update(headers or {})
    conn.request(method, target, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    STATE["response"] = {"status": r.status, "headers": {k.lower(): v for k, v in r.getheaders()},
                         "body": data[:600].decode("utf-8", "replace")}
    STATE["sent"] = {"url": url, "headers": {}, "body_len": None}


def suite_presigned():
    for style in ["path", "virtual", "prefix"]:
        endpoint, addressing = endpoints(style)
        for creds in ["long", "temp"]:
            # botocore presigns S3 with SigV2 unless told otherwise (SigV2 is out of scope).
            s3 = client(endpoint=endpoint, creds=creds, s3={"addressing_style": addressing},
                        signature_version="s3v4")
            for key in KEYS:
                short = key[:40]
                url = s3.generate_presigned_url("get_object", Params={"Bucket": "bucket", "Key": key})
                record(f"presign get {style} {creds} {short!r}", lambda: fetch(url), key_path(style, key))
                url = s3.generate_presigned_url("head_object", Params={"Bucket": "bucket", "Key": key})
                record(f"presign head {style} {creds} {short!r}", lambda: fetch(url, "HEAD"), key_path(style, key))
                body = b"presigned upload"
                url = s3.generate_presigned_url("put_object", Params={"Bucket": "bucket", "Key": key})
                record(f"presign put {style} {creds} {short!r}", lambda: fetch(url, "PUT", body),
                       key_path(style, key), body)
    # STS GetCallerIdentity presigned with temporary credentials.
    for creds in ["long", "temp"]:
        for endpoint in [f"http://127.0.0.1:{SPEC['plain_port']}", f"http://127.0.0.1:{SPEC['plain_port']}/prefix/"]:
            sts = client("sts", endpoint=endpoint, creds=creds)
            # The operation's method (POST) unless told otherwise.
            url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=900)
            record(f"presign sts {creds} {endpoint}", lambda: fetch(url, "POST", b""))
            url = sts.generate_presigned_url("get_caller_identity", HttpMethod="GET", ExpiresIn=900)
            record(f"presign sts GET {creds} {endpoint}", lambda: fetch(url))
            url = sts.generate_presigned_url("get_caller_identity", HttpMethod="POST", ExpiresIn=900)
            record(f"presign sts POST {creds} {endpoint}", lambda: fetch(url, "POST", b""))


def suite_cli_presign():
    home = SPEC["dir"]
    config = os.path.join(home, "config")
    with open(config, "w") as f:
        f.write("[default]\ns3 =\n    signature_version = s3v4\n")
    env = {
        "PATH": os.environ.get("PATH", ""), "HOME": home, "AWS_CONFIG_FILE": config,
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "none"),
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": SPEC["access_key"], "AWS_SECRET_ACCESS_KEY": SPEC["secret_key"],
    }
    for style in ["path", "prefix"]:
        endpoint, _ = endpoints(style)
        for key in KEYS:
            out = subprocess.run(
                [sys.executable, "-m", "awscli", "s3", "presign", f"s3://bucket/{key}",
                 "--endpoint-url", endpoint],
                env=env, capture_output=True, text=True)
            url = out.stdout.strip()
            if out.returncode != 0:
                RESULTS.append({"name": f"cli presign {style} {key[:40]!r}", "ok": False,
                                "problems": ["cli failed: " + out.stderr[-300:]]})
                continue
            record(f"cli presign {style} {key[:40]!r}", lambda: fetch(url), key_path(style, key))


def suite_operations():
    plain = f"http://127.0.0.1:{SPEC['plain_port']}"
    tls = f"https://127.0.0.1:{SPEC['tls_port']}"
    for scheme, endpoint in [("http", plain), ("https", tls)]:
        s3 = client(endpoint=endpoint, tls=scheme == "https")
        objs = [{"Key": k} for k in KEYS[:12]]
        record(f"{scheme} delete_objects", lambda: s3.delete_objects(Bucket="bucket", Delete={"Objects": objs}),
               "/bucket")
        for algo in ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"]:
            record(f"{scheme} delete_objects {algo}",
                   lambda: s3.delete_objects(Bucket="bucket", Delete={"Objects": objs}, ChecksumAlgorithm=algo),
                   "/bucket")
            body = b"checksummed " * 100
            record(f"{scheme} put {algo}",
                   lambda: s3.put_object(Bucket="bucket", Key="ck/" + algo, Body=body, ChecksumAlgorithm=algo),
                   "/bucket/ck/" + algo, body)
        # Multipart.
        for algo in [None, "SHA256", "CRC32C"]:
            kw = {"ChecksumAlgorithm": algo} if algo else {}
            key = "mp/a b+c\u00e9"
            try:
                up = s3.create_multipart_upload(Bucket="bucket", Key=key, **kw)
                upload_id = up["UploadId"]
            except Exception as e:  # noqa: BLE001
                RESULTS.append({"name": f"{scheme} create_multipart {algo}", "ok": False, "problems": [str(e)[:300]]})
                continue
            part = b"p" * 70000
            parts = []

            def upload_part(n):
                r = s3.upload_part(Bucket="bucket", Key=key, UploadId=upload_id, PartNumber=n, Body=part, **kw)
                entry = {"PartNumber": n, "ETag": r["ETag"]}
                for name in ["ChecksumSHA256", "ChecksumCRC32C"]:
                    if r.get(name):
                        entry[name] = r[name]
                parts.append(entry)

            record(f"{scheme} upload_part 1 {algo}", lambda: upload_part(1), "/bucket/" + key, part)
            record(f"{scheme} upload_part 2 {algo}", lambda: upload_part(2), "/bucket/" + key, part)
            record(f"{scheme} complete {algo}",
                   lambda: s3.complete_multipart_upload(Bucket="bucket", Key=key, UploadId=upload_id,
                                                        MultipartUpload={"Parts": parts}),
                   "/bucket/" + key)
            record(f"{scheme} upload_part_copy {algo}",
                   lambda: s3.upload_part_copy(Bucket="bucket", Key=key, UploadId=upload_id, PartNumber=3,
                                               CopySource={"Bucket": "bucket", "Key": "src/a b+c?d"},
                                               CopySourceRange="bytes=0-9"),
                   "/bucket/" + key)
        for prefix, delimiter, token, start in [
            ("a b+c%/\u00fc?#;", "/", "1/a+b=c==", "x y"),
            ("", "+", "tok en%2F", "\U0001F600"),
            ("dir/", "%", "a&b=c", "a+b"),
        ]:
            record(f"{scheme} list_objects_v2 {prefix!r} {delimiter!r}",
                   lambda: s3.list_objects_v2(Bucket="bucket", Prefix=prefix, Delimiter=delimiter,
                                              ContinuationToken=token, StartAfter=start),
                   "/bucket")
        record(f"{scheme} get range+if-none-match",
               lambda: s3.get_object(Bucket="bucket", Key="r k", Range="bytes=0-9", IfNoneMatch='"abc"',
                                     IfModifiedSince=datetime.datetime(2020, 1, 1)),
               "/bucket/r k")
        record(f"{scheme} get versionId+response-content-disposition",
               lambda: s3.get_object(Bucket="bucket", Key="r k", VersionId="v+1/2=",
                                     ResponseContentDisposition='attachment; filename="a b;c.txt"',
                                     ResponseContentType="text/plain; charset=utf-8"),
               "/bucket/r k")
        raw = b"hello gzip " * 50
        gz = gzip.compress(raw)

        def enc(headers, sent):
            if headers.get("x-seen-encoding", "").replace(" ", "") != "gzip":
                return [f"service saw Content-Encoding {headers.get('x-seen-encoding')!r}"]
            return []

        record(f"{scheme} put gzip", lambda: s3.put_object(Bucket="bucket", Key="gz", Body=gz, ContentEncoding="gzip"),
               "/bucket/gz", gz, extra=enc)
        for algo in ["CRC32", "SHA256", "CRC64NVME"]:
            record(f"{scheme} put gzip {algo}",
                   lambda: s3.put_object(Bucket="bucket", Key="gz", Body=gz, ContentEncoding="gzip", ChecksumAlgorithm=algo),
                   "/bucket/gz", gz, extra=enc)
        record(f"{scheme} put empty", lambda: s3.put_object(Bucket="bucket", Key="empty", Body=b""),
               "/bucket/empty", b"")
        record(f"{scheme} put no body", lambda: s3.put_object(Bucket="bucket", Key="nobody"),
               "/bucket/nobody", b"")
        path = os.path.join(SPEC["dir"], f"big-{scheme}.bin")
        big = bytes(range(256)) * (3 * 1024 * 1024 // 256 + 7)
        with open(path, "wb") as f:
            f.write(big)

        def put_file():
            with open(path, "rb") as f:
                s3.put_object(Bucket="bucket", Key="big file", Body=f)

        record(f"{scheme} put 3 MiB file", put_file, "/bucket/big file", big)
        record(f"{scheme} put 3 MiB bytes", lambda: s3.put_object(Bucket="bucket", Key="big", Body=big),
               "/bucket/big", big)
        # Past the layer's 10 MiB buffer: over HTTP botocore signs its SHA-256 in the head, and
        # the layer passes the body on as read, held to that hash at its end.
        huge = bytes(range(256)) * (12 * 1024 * 1024 // 256 + 3)

        def passed_on(headers, sent):
            expected = "sha256 passed on" if scheme == "http" else "streamed"
            if headers.get("x-seen-payload") != expected:
                return [f"the layer handed the body over as {headers.get('x-seen-payload')!r}"]
            return []

        record(f"{scheme} put 12 MiB bytes", lambda: s3.put_object(Bucket="bucket", Key="huge", Body=huge),
               "/bucket/huge", huge, extra=passed_on)
        record(f"{scheme} put 3 MiB gzip file SHA1",
               lambda: s3.put_object(Bucket="bucket", Key="big", Body=open(path, "rb"), ContentEncoding="gzip",
                                     ChecksumAlgorithm="SHA1"),
               "/bucket/big", big, extra=enc)
        record(f"{scheme} put metadata",
               lambda: s3.put_object(Bucket="bucket", Key="m", Body=b"x",
                                     Metadata={"ab": "c  d", "x": " pad ", "tab": "a\tb"},
                                     ContentType="text/plain; charset=utf-8", CacheControl="no-cache",
                                     Tagging="k=v&a b=c+d", ContentDisposition='attachment; filename="x y"'),
               "/bucket/m", b"x")
        if scheme == "https":
            record(f"{scheme} put sse-c+expires",
                   lambda: s3.put_object(Bucket="bucket", Key="sse k", Body=b"secret",
                                         SSECustomerAlgorithm="AES256", SSECustomerKey="k" * 32,
                                         Expires=datetime.datetime(2030, 1, 2, 3, 4, 5),
                                         ObjectLockRetainUntilDate=datetime.datetime(2031, 1, 1),
                                         RequestPayer="requester", WebsiteRedirectLocation="/a b?c#d"),
                   "/bucket/sse k", b"secret")
            record(f"{scheme} get sse-c",
                   lambda: s3.get_object(Bucket="bucket", Key="sse k", SSECustomerAlgorithm="AES256",
                                         SSECustomerKey="k" * 32, ChecksumMode="ENABLED"),
                   "/bucket/sse k")
        record(f"{scheme} put_object_tagging",
               lambda: s3.put_object_tagging(Bucket="bucket", Key="t k",
                                             Tagging={"TagSet": [{"Key": "a b", "Value": "c&d"}]}),
               "/bucket/t k")
        record(f"{scheme} delete_object", lambda: s3.delete_object(Bucket="bucket", Key="d k+"), "/bucket/d k+")
        record(f"{scheme} list_buckets", lambda: s3.list_buckets(), "/")
        record(f"{scheme} get_bucket_location", lambda: s3.get_bucket_location(Bucket="bucket"), "/bucket")
        sts = client("sts", endpoint=endpoint, tls=scheme == "https", creds="temp")
        record(f"{scheme} sts get_caller_identity temp", lambda: sts.get_caller_identity(), "/")


def suite_transfers():
    import boto3.s3.transfer as T
    plain = f"http://127.0.0.1:{SPEC['plain_port']}"
    tls = f"https://127.0.0.1:{SPEC['tls_port']}"
    path = os.path.join(SPEC["dir"], "transfer.bin")
    data = os.urandom(9 * 1024 * 1024 + 5)
    with open(path, "wb") as f:
        f.write(data)
    for scheme, endpoint in [("http", plain), ("https", tls)]:
        s3 = client(endpoint=endpoint, tls=scheme == "https")
        seen = []

        def after(http_response, **kw):
            seen.append((http_response.status_code, http_response.headers.get("x-seen-path"),
                         http_response.content[:300]))

        s3.meta.events.register("after-call", lambda **kw: None)
        s3.meta.events.register("response-received", lambda **kw: None)
        s3.meta.events.register("before-parse", lambda response_dict, **kw: seen.append(
            (response_dict["status_code"], response_dict["headers"].get("x-seen-path"),
             response_dict["body"][:300] if isinstance(response_dict["body"], bytes) else b"")))
        for key in ["dir/a b+c \u00e9.bin", "x%2Fy~z!*'().bin"]:
            seen.clear()
            error = None
            try:
                s3.upload_file(path, "bucket", key, Config=T.TransferConfig(use_threads=False))
            except Exception as e:  # noqa: BLE001
                error = f"{type(e).__name__}: {e}"[:300]
            bad = [s for s in seen if s[0] != 200]
            RESULTS.append({"name": f"{scheme} upload_file {key!r}", "requests": len(seen),
                            "ok": not bad and error is None,
                            "problems": [repr(b)[:400] for b in bad] + ([error] if error else [])})


def suite_cli_ops():
    home = SPEC["dir"]
    config = os.path.join(home, "config-ops")
    with open(config, "w") as f:
        f.write("[default]\n")
    env = {
        "PATH": os.environ.get("PATH", ""), "HOME": home, "AWS_CONFIG_FILE": config,
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "none"),
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": SPEC["access_key"], "AWS_SECRET_ACCESS_KEY": SPEC["secret_key"],
        "AWS_MAX_ATTEMPTS": "1", "AWS_CA_BUNDLE": SPEC["ca_bundle"],
    }
    small = os.path.join(home, "small.txt")
    with open(small, "wb") as f:
        f.write(b"small file\n" * 10)
    big = os.path.join(home, "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(9 * 1024 * 1024 + 3))
    plain = f"http://127.0.0.1:{SPEC['plain_port']}"
    tls = f"https://127.0.0.1:{SPEC['tls_port']}"
    for endpoint in [plain, tls]:
        for args in [
            ["s3", "cp", small, "s3://bucket/dir/a b+c \u00e9.txt"],
            ["s3", "cp", big, "s3://bucket/dir/big one+.bin"],
            ["s3", "ls", "s3://bucket/dir/a b+"],
            ["s3", "rm", "s3://bucket/dir/a b+c \u00e9.txt"],
            ["s3api", "list-objects-v2", "--bucket", "bucket", "--prefix", "a b+%"],
            ["s3api", "head-object", "--bucket", "bucket", "--key", "h k+\u00e9"],
            ["sts", "get-caller-identity"],
        ]:
            out = subprocess.run([sys.executable, "-m", "awscli", *args, "--endpoint-url", endpoint],
                                 env=env, capture_output=True, text=True)
            # `aws s3 ls` exits 1 when it lists nothing.
            fine = out.returncode == 0 or (args[1] == "ls" and out.returncode == 1 and not out.stderr)
            RESULTS.append({"name": f"cli {endpoint} {args[:2]} {args[-1]!r}", "ok": fine,
                            "problems": [] if fine else [out.stderr[-600:]]})


SUITES = {
    "transfers": suite_transfers,
    "cli_ops": suite_cli_ops,
    "keys_path": lambda: suite_keys("path"),
    "keys_virtual": lambda: suite_keys("virtual"),
    "keys_prefix": lambda: suite_keys("prefix"),
    "operations": suite_operations,
    "presigned": suite_presigned,
    "cli_presign": suite_cli_presign,
}
SUITES[SPEC["suite"]]()
json.dump(RESULTS, sys.stdout)
