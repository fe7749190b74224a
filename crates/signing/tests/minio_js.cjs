// MinIO's JavaScript client (minio-js, a SigV4 signer of its own) against the layer in front
// of s3s-fs, for tests/layer_s3_tools.rs, beside s3_tools.py. The package is one of those
// `cargo xtask setup` installs into $EDGEWARD_JS_PEERS (xtask/js-peers/package-lock.json).
//
// stdin: the same as s3_tools.py's: {"plain", "tls", "eu_west_1", "eu_west_1_strict" (each
//   host:port), "ca_bundle", "alice": {"access_key", "secret_key"}, "temporary": {...,
//   "token"}, "keys" (the object keys to write)}
// stdout: a JSON array of results, each with "name", "ok" and what was seen.
"use strict";

const crypto = require("node:crypto");
const fs = require("node:fs");
const http = require("node:http");
const https = require("node:https");

const { requirePeer } = require("./support/js_peers.cjs");
const Minio = requirePeer("minio");

const spec = JSON.parse(fs.readFileSync(0, "utf8"));
const MIB = 1024 * 1024;
// Keys whose bytes each signer escapes its own way (tests/layer_s3_tools.rs names them).
const KEYS = spec.keys;

const results = [];

async function attempt(name, action) {
  try {
    results.push({ name, ...(await action()) });
  } catch (e) {
    results.push({ name, ok: false, error: String(e), code: e.code ?? null, stack: e.stack });
  }
}

function payload(size, seed) {
  const out = Buffer.alloc(size);
  let block = crypto.createHash("sha256").update(seed).digest();
  for (let at = 0; at < size; at += block.length) {
    block.copy(out, at);
    block = crypto.createHash("sha256").update(block).digest();
  }
  return out;
}

// Part uploads (`?partNumber=`) sent, by every client.
let parts = 0;
const countingTransport = (module) => ({
  request(options, callback) {
    if (options.method === "PUT" && String(options.path).includes("partNumber=")) parts += 1;
    return module.request(options, callback);
  },
});

function client(address, { keys = spec.alice, secure = false, secret, region = "us-east-1" } = {}) {
  const [host, port] = address.split(":");
  return new Minio.Client({
    endPoint: host,
    port: Number(port),
    useSSL: secure,
    accessKey: keys.access_key,
    secretKey: secret ?? keys.secret_key,
    sessionToken: keys.token,
    region,
    pathStyle: true,
    transport: countingTransport(secure ? https : http),
    transportAgent: secure ? new https.Agent({ ca: fs.readFileSync(spec.ca_bundle) }) : undefined,
  });
}

async function read(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function names(minio, bucket, prefix = "") {
  const listed = [];
  for await (const item of minio.listObjectsV2(bucket, prefix, true)) listed.push(item.name);
  return listed.sort();
}

async function errorCode(action) {
  try {
    await action();
  } catch (e) {
    return { ok: true, code: e.code ?? null };
  }
  return { ok: false, code: null };
}

async function run(prefix, secure) {
  const minio = client(secure ? spec.tls : spec.plain, { secure });
  const bucket = `${prefix.replaceAll("_", "-")}-bucket`;

  await attempt(`${prefix}_make_bucket`, async () => {
    await minio.makeBucket(bucket);
    return { ok: await minio.bucketExists(bucket) };
  });

  for (const [i, key] of KEYS.entries()) {
    await attempt(`${prefix}_put_get_${i}`, async () => {
      const body = payload(2000 + i, key);
      await minio.putObject(bucket, key, body, body.length);
      const stat = await minio.statObject(bucket, key);
      const got = await read(await minio.getObject(bucket, key));
      return { ok: got.equals(body) && stat.size === body.length, size: stat.size };
    });
  }

  // minio-js asks for `encoding-type=url` and reads each key with decodeURIComponent, a `+`
  // as a space first; s3s-fs answers with the keys raw, so a `+` comes back a space, and a `%`
  // that starts no escape throws. So the key with one leaves before the listings.
  const PERCENT = KEYS[3];
  await attempt(`${prefix}_list`, async () => {
    await minio.removeObject(bucket, PERCENT);
    const listed = await names(minio, bucket);
    const expected = KEYS.filter((key) => key !== PERCENT)
      .map((key) => key.replaceAll("+", " "))
      .sort();
    return { ok: JSON.stringify(listed) === JSON.stringify(expected), names: listed };
  });

  await attempt(`${prefix}_presigned_get`, async () => {
    const url = await minio.presignedGetObject(bucket, KEYS[4], 3600);
    const answer = await fetchWith(url, secure);
    return { ok: answer.equals(payload(2004, KEYS[4])), url };
  });

  await attempt(`${prefix}_put_in_parts`, async () => {
    const body = payload(12 * MIB + 5, prefix);
    const key = "large/object.bin";
    const before = parts;
    // putObject given a stream first asks for uploads to resume (ListMultipartUploads), which
    // s3s-fs does not implement; the calls it then makes are made here one by one.
    const uploadID = await minio.initiateNewMultipartUpload(bucket, key, {});
    const etags = [];
    for (let at = 0, partNumber = 1; at < body.length; at += 5 * MIB, partNumber += 1) {
      const part = body.subarray(at, at + 5 * MIB);
      const headers = { "Content-Length": part.length };
      const config = { bucketName: bucket, objectName: key, uploadID, partNumber, headers };
      etags.push(await minio.uploadPart(config, part));
    }
    // s3s-fs's answer has no `<Location>`, without which minio-js reads it as unparsable;
    // the object it names is whole all the same, as reading it shows.
    const completed = await minio.completeMultipartUpload(bucket, key, uploadID, etags).then(
      () => "answer read",
      (e) => {
        if (!String(e).includes("failed to parse server response")) throw e;
        return "answer without <Location>";
      },
    );
    const got = await read(await minio.getObject(bucket, key));
    return { ok: got.equals(body) && parts - before >= 2, parts: parts - before, completed };
  });

  await attempt(`${prefix}_session_token`, async () => {
    const temporary = client(secure ? spec.tls : spec.plain, { keys: spec.temporary, secure });
    await temporary.putObject(bucket, "temporary/object", Buffer.from("temp"));
    const got = await read(await temporary.getObject(bucket, "temporary/object"));
    return { ok: got.toString() === "temp" };
  });

  // A GET, not a HEAD: a refused HEAD has no body to name its code in.
  await attempt(`${prefix}_wrong_secret`, () => {
    const wrong = client(secure ? spec.tls : spec.plain, { secure, secret: "not-the-secret" });
    return errorCode(() => wrong.getObject(bucket, KEYS[0]));
  });

  if (!secure) {
    // No region given: minio-js asks for the bucket's location signed for us-east-1, then
    // signs for the region answered. A layer taking eu-west-1 alone accepts that request by
    // default; one that holds it to eu-west-1 refuses it, and minio-js gives up there: it
    // looks for the refusal's code and region as `e.name` and `e.Region`, where its own error
    // parser puts them at `e.code` and `e.region`.
    await attempt(`${prefix}_asks_for_the_region`, async () => {
      const found = client(spec.eu_west_1, { region: "" });
      const listed = await names(found, bucket, "dir/");
      // Signed for us-east-1 too; the default layer, told its domain, accepts it as well.
      const buckets = (await found.listBuckets()).map((b) => b.name);
      const strict = client(spec.eu_west_1_strict, { region: "" });
      const refused = await errorCode(() => names(strict, bucket, "dir/"));
      const refusedList = await errorCode(() => strict.listBuckets());
      return {
        ok:
          JSON.stringify(listed) === JSON.stringify(["dir/sub dir/a b.txt"]) &&
          buckets.includes(bucket),
        names: listed,
        buckets,
        // minio-js's cache of the region each bucket's location request answered.
        region: found.regionMap[bucket] ?? null,
        strict_code: refused.code,
        strict_list_code: refusedList.code,
      };
    });
  }

  await attempt(`${prefix}_delete_all`, async () => {
    const all = [...KEYS.filter((key) => key !== PERCENT), "large/object.bin", "temporary/object"];
    await minio.removeObjects(bucket, all);
    const left = await names(minio, bucket);
    await minio.removeBucket(bucket);
    return { ok: left.length === 0, left };
  });
}

function fetchWith(url, secure) {
  const agent = secure ? new https.Agent({ ca: fs.readFileSync(spec.ca_bundle) }) : undefined;
  const module = secure ? https : http;
  return new Promise((resolve, reject) => {
    module
      .get(url, { agent }, (answer) => {
        read(answer).then((body) => {
          if (answer.statusCode === 200) resolve(body);
          else reject(new Error(`${answer.statusCode}: ${body}`));
        }, reject);
      })
      .on("error", reject);
  });
}

(async () => {
  await run("minio_js", false);
  await run("minio_js_tls", true);
  process.stdout.write(JSON.stringify(results));
})();
