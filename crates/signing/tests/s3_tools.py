"""s3cmd, minio-py, rclone and restic against the layer in front of s3s-fs, for
tests/layer_s3_tools.rs.
stdin: the layer's addresses (plain and TLS, and plain behind two layers that take eu-west-1
alone, the second for location requests too), the CA bundle, a scratch directory, access
keys, and the object keys to write;
stdout: a JSON array of results, each with "name", "ok" and what was seen."""

import datetime
import hashlib
import io
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import traceback
import urllib.error
import urllib.request

import urllib3
from minio import Minio
from minio.commonconfig import CopySource
from minio.deleteobjects import DeleteObject
from minio.error import S3Error

SPEC = json.load(sys.stdin)
WORKDIR = SPEC["workdir"]
ALICE = SPEC["alice"]
TEMPORARY = SPEC["temporary"]
MIB = 1024 * 1024

# Keys whose bytes each signer escapes its own way (tests/layer_s3_tools.rs names them).
KEYS = SPEC["keys"]

RESULTS = []


def record(name, ok, **seen):
    RESULTS.append({"name": name, "ok": bool(ok), **seen})


def attempt(name, action):
    """Runs action() -> dict of what was seen (with "ok"); an exception is a failure."""
    try:
        seen = action()
    except Exception as e:  # noqa: BLE001 - every failure is reported, with its cause
        seen = {"ok": False, "error": repr(e), "trace": traceback.format_exc(limit=3)}
    record(name, **seen)


def run_tool(command, env, stdin=None):
    """Runs a client to its end (at most 300 s): its exit code, stdout (bytes) and stderr."""
    run = subprocess.run(command, input=stdin, capture_output=True, timeout=300, env=env)
    return run.returncode, run.stdout, run.stderr.decode(errors="replace")


def succeeded(what, ran):
    """The stdout of a run that exited 0; otherwise an error with what it said."""
    code, out, err = ran
    if code != 0:
        said = err.strip() or (out.decode(errors="replace") if isinstance(out, bytes) else out)
        raise RuntimeError(f"{what} exited {code}: {said.strip()}")
    return out


def payload(size, seed):
    return hashlib.sha256(seed.encode()).digest() * (size // 32) + b"x" * (size % 32)


# --- s3cmd -----------------------------------------------------------------------------------

S3CMD = os.path.join(os.path.dirname(sys.executable), "s3cmd")


def s3cmd_config(name, keys, secret=None, signature_v2=False, host=None):
    host = host or SPEC["plain"]
    path = os.path.join(WORKDIR, f"{name}.s3cfg")
    with open(path, "w") as f:
        f.write(
            "[default]\n"
            f"access_key = {keys['access_key']}\n"
            f"secret_key = {secret or keys['secret_key']}\n"
            f"access_token = {keys.get('token', '')}\n"
            f"host_base = {host}\n"
            f"host_bucket = {host}\n"
            "use_https = False\n"
            f"signature_v2 = {signature_v2}\n"
            "bucket_location = us-east-1\n"
            "multipart_chunk_size_mb = 15\n"
            "progress_meter = False\n"
        )
    return path


def s3cmd(config, *args):
    code, out, err = run_tool(
        [sys.executable, S3CMD, "-c", config, *args], {**os.environ, "HOME": WORKDIR}
    )
    return code, out.decode(errors="replace"), err


def s3cmd_ok(config, *args):
    return succeeded(f"s3cmd {' '.join(args)}", s3cmd(config, *args))


def run_s3cmd():
    alice = s3cmd_config("alice", ALICE)
    bucket = "s3://s3cmd-bucket"
    attempt("s3cmd_make_bucket", lambda: {"ok": True, "out": s3cmd_ok(alice, "mb", bucket)})

    for i, key in enumerate(KEYS):
        body = payload(1000 + i, key)
        local = os.path.join(WORKDIR, f"s3cmd-{i}")
        with open(local, "wb") as f:
            f.write(body)

        def put_get(key=key, body=body, local=local, i=i):
            s3cmd_ok(alice, "put", local, f"{bucket}/{key}")
            info = s3cmd_ok(alice, "info", f"{bucket}/{key}")
            back = os.path.join(WORKDIR, f"s3cmd-back-{i}")
            s3cmd_ok(alice, "get", "--force", f"{bucket}/{key}", back)
            with open(back, "rb") as f:
                got = f.read()
            return {"ok": got == body, "info": info, "size": len(got)}

        attempt(f"s3cmd_put_get_{i}", put_get)

    def listing():
        out = s3cmd_ok(alice, "ls", "--recursive", f"{bucket}/")
        missing = [key for key in KEYS if f"{bucket}/{key}" not in out]
        return {"ok": not missing, "missing": missing, "out": out}

    attempt("s3cmd_list", listing)

    def copy():
        s3cmd_ok(alice, "cp", f"{bucket}/{KEYS[2]}", f"{bucket}/copied/{KEYS[2]}")
        back = os.path.join(WORKDIR, "s3cmd-copied")
        s3cmd_ok(alice, "get", "--force", f"{bucket}/copied/{KEYS[2]}", back)
        with open(back, "rb") as f:
            return {"ok": f.read() == payload(1002, KEYS[2])}

    attempt("s3cmd_copy", copy)

    def put_in_parts():
        # 15 MiB parts, each signed with its SHA-256: over the layer's default buffer.
        body = payload(20 * MIB + 17, "s3cmd parts")
        local = os.path.join(WORKDIR, "s3cmd-large")
        with open(local, "wb") as f:
            f.write(body)
        out = s3cmd_ok(alice, "put", "--progress", local, f"{bucket}/large/object.bin")
        parts = max((int(m) for m in re.findall(r"part \d+ of (\d+)", out)), default=0)
        back = os.path.join(WORKDIR, "s3cmd-large-back")
        s3cmd_ok(alice, "get", "--force", f"{bucket}/large/object.bin", back)
        with open(back, "rb") as f:
            same = hashlib.sha256(f.read()).digest() == hashlib.sha256(body).digest()
        return {"ok": same and parts >= 2, "parts": parts, "out": out}

    attempt("s3cmd_put_in_parts", put_in_parts)

    def temporary():
        config = s3cmd_config("temporary", TEMPORARY)
        local = os.path.join(WORKDIR, "s3cmd-0")
        s3cmd_ok(config, "put", local, f"{bucket}/temporary/{KEYS[1]}")
        out = s3cmd_ok(config, "ls", f"{bucket}/temporary/dir/sub dir/")
        return {"ok": "a b.txt" in out, "out": out}

    attempt("s3cmd_session_token", temporary)

    def wrong_secret():
        config = s3cmd_config("wrong", ALICE, secret="not-the-secret")
        code, out, err = s3cmd(config, "ls", f"{bucket}/")
        found = re.search(r"\((\w+)\)", err)
        return {"ok": code != 0 and found is not None, "code": found and found.group(1), "err": err}

    attempt("s3cmd_wrong_secret", wrong_secret)

    def lists_having_recovered(config, recovery):
        # `s3cmd ls` of the bucket: it must end well, having made the recovery its debug log
        # names.
        code, out, err = s3cmd(config, "--debug", "ls", f"{bucket}/")
        recovered = recovery in err
        listed = f"{bucket}/{KEYS[0]}" in out
        tail = err[-2000:] if code != 0 or not recovered else ""
        return {"ok": code == 0 and recovered and listed, "recovered": recovered, "err": tail}

    # Set to sign with SigV2, s3cmd signs again with SigV4 when the answer is S3's
    # InvalidRequest in S3's words (its `_http_400_handler`), as AWS's V4-only regions say.
    attempt(
        "s3cmd_signature_v2_signs_again_with_v4",
        lambda: lists_having_recovered(
            s3cmd_config("v2", ALICE, signature_v2=True), "Endpoint requires signature v4"
        ),
    )
    # The same S3 behind a layer that takes eu-west-1 alone: s3cmd signs for us-east-1, reads
    # the region from S3's AuthorizationHeaderMalformed and signs again for it.
    attempt(
        "s3cmd_signs_again_for_the_region_named",
        lambda: lists_having_recovered(
            s3cmd_config("eu-west-1", ALICE, host=SPEC["eu_west_1"]),
            "Forwarding request to eu-west-1",
        ),
    )

    def delete():
        s3cmd_ok(alice, "del", "--recursive", "--force", f"{bucket}/")
        s3cmd_ok(alice, "rb", bucket)
        return {"ok": True}

    attempt("s3cmd_delete_all", delete)


# --- minio-py --------------------------------------------------------------------------------


class CountingPool(urllib3.PoolManager):
    """Counts the part uploads a client sends (`?partNumber=`)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.parts = 0

    def urlopen(self, method, url, *args, **kwargs):
        if method == "PUT" and "partNumber=" in url:
            self.parts += 1
        return super().urlopen(method, url, *args, **kwargs)


def minio_client(keys, secure, secret=None, endpoint=None, region="us-east-1"):
    pool = (
        CountingPool(cert_reqs="CERT_REQUIRED", ca_certs=SPEC["ca_bundle"])
        if secure
        else CountingPool()
    )
    client = Minio(
        endpoint or (SPEC["tls"] if secure else SPEC["plain"]),
        access_key=keys["access_key"],
        secret_key=secret or keys["secret_key"],
        session_token=keys.get("token"),
        secure=secure,
        region=region,
        http_client=pool,
    )
    return client, pool


def read_object(client, bucket, key):
    response = client.get_object(bucket, key)
    try:
        return response.read()
    finally:
        response.close()
        response.release_conn()


def s3_error_code(action):
    try:
        action()
    except S3Error as e:
        return {"ok": True, "code": e.code, "status": e.response.status}
    return {"ok": False, "code": None}


def run_minio(prefix, secure):
    client, pool = minio_client(ALICE, secure)
    bucket = f"{prefix.replace('_', '-')}-bucket"

    def make_bucket():
        client.make_bucket(bucket)
        return {"ok": client.bucket_exists(bucket)}

    attempt(f"{prefix}_make_bucket", make_bucket)

    for i, key in enumerate(KEYS):
        body = payload(2000 + i, key)

        def put_get(key=key, body=body):
            client.put_object(bucket, key, io.BytesIO(body), len(body))
            stat = client.stat_object(bucket, key)
            got = read_object(client, bucket, key)
            return {"ok": got == body and stat.size == len(body), "size": stat.size}

        attempt(f"{prefix}_put_get_{i}", put_get)

    def listing():
        names = sorted(o.object_name for o in client.list_objects(bucket, recursive=True))
        nested = sorted(o.object_name for o in client.list_objects(bucket, prefix="dir/sub dir/"))
        # minio-py asks for `encoding-type=url` and reads each key with unquote_plus; s3s-fs
        # answers with the keys raw, so a `+` comes back a space.
        expected = sorted(key.replace("+", " ") for key in KEYS)
        return {
            "ok": names == expected and nested == ["dir/sub dir/a b.txt"],
            "names": names,
            "nested": nested,
        }

    attempt(f"{prefix}_list", listing)

    def copy():
        client.copy_object(bucket, f"copied/{KEYS[2]}", CopySource(bucket, KEYS[2]))
        return {"ok": read_object(client, bucket, f"copied/{KEYS[2]}") == payload(2002, KEYS[2])}

    attempt(f"{prefix}_copy", copy)

    def presigned_get():
        url = client.presigned_get_object(bucket, KEYS[4], expires=datetime.timedelta(hours=1))
        with urllib.request.urlopen(url, context=tls_context(secure), timeout=30) as response:
            return {"ok": response.read() == payload(2004, KEYS[4]), "url": url}

    attempt(f"{prefix}_presigned_get", presigned_get)

    def presigned_put():
        url = client.presigned_put_object(bucket, "presigned/put me.bin")
        request = urllib.request.Request(url, data=b"presigned body", method="PUT")
        urllib.request.urlopen(request, context=tls_context(secure), timeout=30).close()
        return {"ok": read_object(client, bucket, "presigned/put me.bin") == b"presigned body"}

    attempt(f"{prefix}_presigned_put", presigned_put)

    def put_in_parts():
        body = payload(12 * MIB + 5, prefix)
        before = pool.parts
        client.put_object(
            bucket, "large/object.bin", io.BytesIO(body), len(body), part_size=5 * MIB
        )
        got = read_object(client, bucket, "large/object.bin")
        parts = pool.parts - before
        return {"ok": got == body and parts >= 2, "parts": parts}

    attempt(f"{prefix}_put_in_parts", put_in_parts)

    def temporary():
        temp, _ = minio_client(TEMPORARY, secure)
        temp.put_object(bucket, "temporary/object", io.BytesIO(b"temp"), 4)
        return {"ok": read_object(temp, bucket, "temporary/object") == b"temp"}

    attempt(f"{prefix}_session_token", temporary)

    def region_asked():
        # No region given: minio-py asks for the bucket's location signed for us-east-1, then
        # signs for the region answered. A layer taking eu-west-1 alone accepts that request by
        # default; one that holds it to eu-west-1 refuses it, and minio-py gives up there (it
        # reads no region from the refusal). It lists the buckets signed for us-east-1 too,
        # which the default layer, told its domain, accepts as well.
        found, _ = minio_client(ALICE, False, endpoint=SPEC["eu_west_1"], region=None)
        names = [o.object_name for o in found.list_objects(bucket, prefix="dir/", recursive=True)]
        buckets = [b.name for b in found.list_buckets()]
        strict, _ = minio_client(ALICE, False, endpoint=SPEC["eu_west_1_strict"], region=None)
        refused = s3_error_code(lambda: list(strict.list_objects(bucket, prefix="dir/")))
        refused_list = s3_error_code(strict.list_buckets)
        return {
            "ok": names == ["dir/sub dir/a b.txt"] and bucket in buckets,
            "names": names,
            "buckets": buckets,
            # minio-py's cache of the region each bucket's location request answered.
            "region": found._region_map.get(bucket),
            "strict_code": refused["code"],
            "strict_list_code": refused_list["code"],
        }

    if not secure:
        attempt(f"{prefix}_asks_for_the_region", region_asked)

    def delete():
        names = KEYS + [
            f"copied/{KEYS[2]}",
            "presigned/put me.bin",
            "large/object.bin",
            "temporary/object",
        ]
        errors = list(client.remove_objects(bucket, [DeleteObject(n) for n in names[1:]]))
        client.remove_object(bucket, names[0])
        left = [o.object_name for o in client.list_objects(bucket, recursive=True)]
        client.remove_bucket(bucket)
        return {"ok": not errors and not left, "errors": [repr(e) for e in errors], "left": left}

    attempt(f"{prefix}_delete_all", delete)


def tls_context(secure):
    if not secure:
        return None
    return ssl.create_default_context(cafile=SPEC["ca_bundle"])


def run_minio_refusals():
    client, _ = minio_client(ALICE, False)
    client.make_bucket("refusals")
    client.put_object("refusals", "object", io.BytesIO(b"data"), 4)

    wrong, _ = minio_client(ALICE, False, secret="not-the-secret")
    attempt("minio_wrong_secret", lambda: s3_error_code(lambda: wrong.get_object("refusals", "object")))
    unknown, _ = minio_client({"access_key": "AKIDUNKNOWN", "secret_key": "x"}, False)
    attempt(
        "minio_unknown_key", lambda: s3_error_code(lambda: unknown.get_object("refusals", "object"))
    )

    def tampered():
        url = client.presigned_get_object("refusals", "object")
        url = url.replace("/refusals/object?", "/refusals/objecT?")
        try:
            urllib.request.urlopen(url, timeout=30).close()
        except urllib.error.HTTPError as e:
            body = e.read().decode()
            code = re.search(r"<Code>(\w+)</Code>", body)
            return {"ok": e.code == 403, "code": code and code.group(1), "status": e.code}
        return {"ok": False, "code": None}

    attempt("minio_presigned_get_tampered", tampered)


# --- rclone (aws-sdk-go v1) ------------------------------------------------------------------


def go_tool_env(**extra):
    """The environment for rclone and restic: none of the machine's AWS_*, RCLONE_* or
    RESTIC_* variables (keys come from the test; and aws-sdk-go v1 refuses rclone's own
    HTTP transport when AWS_CA_BUNDLE is set), a scratch HOME, then `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "RCLONE_", "RESTIC_"))
    }
    env["HOME"] = WORKDIR
    env.update(extra)
    return env


def tool(name):
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"`{name}` is not on the PATH (cargo xtask setup installs it)")
    return path


def rclone_config(name, keys, endpoint, secret=None):
    path = os.path.join(WORKDIR, f"{name}.rclone.conf")
    with open(path, "w") as f:
        f.write(
            f"[{name}]\n"
            "type = s3\n"
            "provider = Other\n"
            f"access_key_id = {keys['access_key']}\n"
            f"secret_access_key = {secret or keys['secret_key']}\n"
            f"session_token = {keys.get('token', '')}\n"
            f"endpoint = {endpoint}\n"
            "region = us-east-1\n"
            "force_path_style = true\n"
        )
    return path


def rclone(config, *args, stdin=None, secure=False):
    command = [tool("rclone"), "--config", config, "--retries", "1", "--low-level-retries", "1"]
    if secure:
        command += ["--ca-cert", SPEC["ca_bundle"]]
    return run_tool([*command, *args], go_tool_env(), stdin=stdin)


def rclone_ok(config, *args, stdin=None, secure=False):
    return succeeded(f"rclone {' '.join(args)}", rclone(config, *args, stdin=stdin, secure=secure))


# What s3cmd would read as a glob (`*`, `?`), and more bytes each signer escapes its own way.
RCLONE_KEYS = [
    "eq=amp&.txt",
    "hash#q?.txt",
    "back\\slash.txt",
    "pct%25%2F.txt",
    "star*at@dollar$.txt",
    "-",
]


def run_rclone(prefix, secure):
    endpoint = f"https://{SPEC['tls']}" if secure else f"http://{SPEC['plain']}"
    config = rclone_config("alice", ALICE, endpoint)
    bucket = f"{prefix.replace('_', '-')}-bucket"
    remote = f"alice:{bucket}"

    def ok(*args, stdin=None):
        return rclone_ok(config, *args, stdin=stdin, secure=secure)

    attempt(f"{prefix}_version", lambda: {"ok": True, "version": ok("version").decode()})
    attempt(f"{prefix}_make_bucket", lambda: {"ok": ok("mkdir", remote) == b""})

    keys = KEYS + RCLONE_KEYS
    for i, key in enumerate(keys):
        body = payload(3000 + i, key)

        def put_get(key=key, body=body):
            ok("rcat", f"{remote}/{key}", stdin=body)
            got = ok("cat", f"{remote}/{key}")
            return {"ok": got == body, "size": len(got)}

        attempt(f"{prefix}_put_get_{i}", put_get)

    def listing():
        names = sorted(ok("lsf", "-R", "--files-only", remote).decode().splitlines())
        nested = ok("lsf", f"{remote}/dir/sub dir").decode().splitlines()
        # Two objects to a page: every listing after the first goes on from a continuation
        # token, or a marker that is a key with these bytes in it (ListObjects v1).
        paged = [
            sorted(
                ok("lsf", "-R", "--files-only", "--s3-list-chunk", "2", version, remote)
                .decode()
                .splitlines()
            )
            for version in ["--s3-list-version=1", "--s3-list-version=2"]
        ]
        return {
            "ok": names == sorted(keys) and nested == ["a b.txt"] and paged == [names, names],
            "names": names,
            "paged": paged,
        }

    attempt(f"{prefix}_list", listing)

    def put_in_parts():
        body = payload(12 * MIB + 3, prefix)
        local = os.path.join(WORKDIR, f"{prefix}-large")
        with open(local, "wb") as f:
            f.write(body)
        # 5 MiB parts (S3's smallest); `-vv` logs each one.
        code, _, log = rclone(
            config,
            "copyto", "-vv", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M",
            local, f"{remote}/large/object.bin",
            secure=secure,
        )
        if code != 0:
            raise RuntimeError(f"rclone copyto exited {code}: {log.strip()}")
        parts = len(re.findall(r"multipart upload starting chunk \d+", log))
        got = ok("cat", f"{remote}/large/object.bin")
        return {"ok": got == body and parts >= 2, "parts": parts}

    attempt(f"{prefix}_put_in_parts", put_in_parts)

    def server_side_copy():
        ok("copyto", f"{remote}/{KEYS[2]}", f"{remote}/copied/{KEYS[2]}")
        return {"ok": ok("cat", f"{remote}/copied/{KEYS[2]}") == payload(3002, KEYS[2])}

    attempt(f"{prefix}_copy", server_side_copy)

    def presigned_get():
        url = ok("link", "--expire", "1h", f"{remote}/{KEYS[4]}").decode().strip()
        with urllib.request.urlopen(url, context=tls_context(secure), timeout=30) as response:
            return {"ok": response.read() == payload(3004, KEYS[4]), "url": url}

    attempt(f"{prefix}_presigned_get", presigned_get)

    def temporary():
        temp = rclone_config("temporary", TEMPORARY, endpoint)
        target = f"temporary:{bucket}/temporary/object"
        rclone_ok(temp, "rcat", target, stdin=b"temp", secure=secure)
        got = rclone_ok(temp, "cat", target, secure=secure)
        # A presigned URL made with temporary keys carries the token in its query.
        url = rclone_ok(temp, "link", "--expire", "1h", target, secure=secure).decode().strip()
        with urllib.request.urlopen(url, context=tls_context(secure), timeout=30) as response:
            presigned = response.read()
        without = re.sub(r"&?X-Amz-Security-Token=[^&]*", "", url)
        try:
            urllib.request.urlopen(without, context=tls_context(secure), timeout=30).close()
            refused = None
        except urllib.error.HTTPError as e:
            refused = e.code
        return {
            "ok": got == b"temp" and presigned == b"temp" and without != url and refused == 403,
            "url": url,
            "without_token": refused,
        }

    attempt(f"{prefix}_session_token", temporary)

    def wrong_secret():
        wrong = rclone_config("wrong", ALICE, endpoint, secret="not-the-secret")
        code, _, err = rclone(wrong, "lsf", f"wrong:{bucket}", secure=secure)
        # aws-sdk-go v1: "…: Code: Message\n\tstatus code: 403, …".
        found = re.search(r"([A-Z]\w+): [^:\n]*\n\s*status code: (\d+)", err)
        return {
            "ok": code != 0 and found is not None,
            "code": found and found.group(1),
            "status": found and int(found.group(2)),
            "err": err[-2000:],
        }

    attempt(f"{prefix}_wrong_secret", wrong_secret)

    def delete():
        ok("purge", remote)
        code, _, err = rclone(config, "lsf", remote, secure=secure)
        return {"ok": code != 0, "err": err[-500:]}

    attempt(f"{prefix}_delete_all", delete)


# --- restic (minio-go v7) --------------------------------------------------------------------


def run_restic(prefix, secure):
    endpoint = f"https://{SPEC['tls']}" if secure else f"http://{SPEC['plain']}"
    repository = f"s3:{endpoint}/{prefix.replace('_', '-')}-bucket/repository"
    source = os.path.join(WORKDIR, f"{prefix}-source")
    os.makedirs(os.path.join(source, "dir with space", "caf\u00e9"), exist_ok=True)
    files = {
        "small.txt": b"small",
        "dir with space/caf\u00e9/medium.bin": payload(300 * 1024, "medium"),
        "large.bin": os.urandom(6 * MIB),
    }
    for name, body in files.items():
        with open(os.path.join(source, name), "wb") as f:
            f.write(body)

    def restic(keys, *args, secret=None, repo=repository, region="us-east-1"):
        env = go_tool_env(
            AWS_ACCESS_KEY_ID=keys["access_key"],
            AWS_SECRET_ACCESS_KEY=secret or keys["secret_key"],
            RESTIC_PASSWORD="edgeward test repository",
            RESTIC_REPOSITORY=repo,
            RESTIC_CACHE_DIR=os.path.join(WORKDIR, f"{prefix}-cache"),
        )
        if "token" in keys:
            env["AWS_SESSION_TOKEN"] = keys["token"]
        command = [tool("restic")]
        if region:
            command += ["-o", f"s3.region={region}"]
        if secure:
            command += ["--cacert", SPEC["ca_bundle"]]
        code, out, err = run_tool([*command, *args], env)
        return code, out.decode(errors="replace"), err

    def ok(*args, keys=ALICE):
        return succeeded(f"restic {' '.join(args)}", restic(keys, *args))

    attempt(f"{prefix}_version", lambda: {"ok": True, "version": ok("version")})
    attempt(f"{prefix}_init", lambda: {"ok": True, "out": ok("init")})
    attempt(f"{prefix}_backup", lambda: {"ok": True, "out": ok("backup", source)[-1000:]})
    attempt(
        f"{prefix}_check_read_data",
        lambda: {"ok": True, "out": ok("check", "--read-data")[-1000:]},
    )

    def restore():
        target = os.path.join(WORKDIR, f"{prefix}-restored")
        ok("restore", "latest", "--target", target)
        restored = target + source
        different = []
        for name, body in files.items():
            with open(os.path.join(restored, name), "rb") as f:
                if f.read() != body:
                    different.append(name)
        return {"ok": not different, "different": different}

    attempt(f"{prefix}_restore", restore)

    def temporary():
        out = ok("snapshots", "--json", keys=TEMPORARY)
        return {"ok": len(json.loads(out)) == 1, "out": out[-500:]}

    attempt(f"{prefix}_session_token", temporary)

    def region_found(layer):
        # No region given: minio-go asks for the bucket's location signed for us-east-1. A
        # layer taking eu-west-1 alone accepts that request by default, and the answer names
        # eu-west-1; one that holds it to eu-west-1 refuses it naming eu-west-1, and minio-go
        # signs again for that. Only plain: the eu-west-1 layers have no TLS listener.
        eu_west_1 = repository.replace(SPEC["plain"], SPEC[layer])
        ran = restic(ALICE, "snapshots", "--json", repo=eu_west_1, region=None)
        out = succeeded(f"restic snapshots ({layer})", ran)
        return {"ok": len(json.loads(out)) == 1, "out": out[-500:]}

    if not secure:
        attempt(f"{prefix}_asks_for_the_region", lambda: region_found("eu_west_1"))
        attempt(f"{prefix}_finds_the_region_named", lambda: region_found("eu_west_1_strict"))

    def wrong_secret():
        code, _, err = restic(ALICE, "snapshots", secret="not-the-secret")
        # restic's first request is a HEAD of the repository's config: the 403 has no body to
        # name its code, and minio-go reads a bodiless 403 as "Access Denied".
        return {"ok": code != 0 and "Stat: Access Denied." in err, "err": err[-1000:]}

    attempt(f"{prefix}_wrong_secret", wrong_secret)
    attempt(
        f"{prefix}_prune",
        lambda: {"ok": True, "out": ok("forget", "--keep-last", "1", "--prune")[-500:]},
    )


run_s3cmd()
run_minio("minio", secure=False)
run_minio("minio_tls", secure=True)
run_minio_refusals()
run_rclone("rclone", secure=False)
run_rclone("rclone_tls", secure=True)
run_restic("restic", secure=False)
run_restic("restic_tls", secure=True)
json.dump(RESULTS, sys.stdout)
