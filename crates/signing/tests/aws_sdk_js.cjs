// The AWS SDK for JavaScript v3's STS, S3 and SQS clients against the layer, for
// tests/layer_aws_sdk_js.rs. The packages are those `cargo xtask setup` installs into
// $EDGEWARD_JS_PEERS (xtask/js-peers/package-lock.json).
//
// stdin: {"endpoint", "alice": {"access_key", "secret_key"}, "temporary": {"access_key",
//   "secret_key", "token"}, "object"}: the object's text is uploaded, from memory with a CRC32
//   and streamed with each checksum the SDK computes without the CRT (CRC32, CRC32C,
//   CRC64NVME in its JavaScript fallback, SHA1, SHA256), and as one part of a multipart
//   upload (CRC64NVME); an upload reports the checksum S3's answer carried. SQS (JSON, and
//   query-compatible: the client reads the query-era code of a refusal) lists its queues.
// stdout: a JSON array, one result per call: {"name", "outcome": "ok", ...what the call
//   returned} or {"name", "outcome": "error", "code", "status"}; each S3 upload also reports
//   "content_sha256" and "content_encoding", the headers the SDK signed, so the test knows
//   which form of upload went on the wire.
"use strict";

const fs = require("node:fs");
const { Readable } = require("node:stream");

for (const name of ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"]) {
  process.env[name] = "/dev/null";
}
for (const name of ["AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION"]) {
  delete process.env[name];
}

const { requirePeer } = require("./support/js_peers.cjs");
const { STSClient, GetCallerIdentityCommand } = requirePeer("@aws-sdk/client-sts");
const {
  S3Client,
  PutObjectCommand,
  GetObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
} = requirePeer("@aws-sdk/client-s3");
const { getSignedUrl } = requirePeer("@aws-sdk/s3-request-presigner");
const { SQSClient, ListQueuesCommand } = requirePeer("@aws-sdk/client-sqs");

const spec = JSON.parse(fs.readFileSync(0, "utf8"));
const KEY = "dir/an object+ሴ.txt";

function credentials({ access_key, secret_key, token }) {
  return { accessKeyId: access_key, secretAccessKey: secret_key, sessionToken: token ?? undefined };
}

const common = (keys) => ({
  endpoint: spec.endpoint,
  region: "us-east-1",
  credentials: credentials(keys),
  maxAttempts: 1,
});

function s3(keys) {
  const client = new S3Client({ ...common(keys), forcePathStyle: true });
  const signed = {};
  // After signing: what went on the wire.
  client.middlewareStack.addRelativeTo(
    (next) => async (args) => {
      signed.content_sha256 = args.request.headers["x-amz-content-sha256"] ?? null;
      signed.content_encoding = args.request.headers["content-encoding"] ?? null;
      return next(args);
    },
    { relation: "after", toMiddleware: "httpSigningMiddleware", name: "edgewardRecordSigned" },
  );
  return [client, signed];
}

async function call(name, run) {
  try {
    return { name, outcome: "ok", ...(await run()) };
  } catch (error) {
    return {
      name,
      outcome: "error",
      code: error.Code ?? error.name,
      status: error.$metadata?.httpStatusCode ?? null,
      message: String(error.message ?? error),
    };
  }
}

async function callerIdentity(keys) {
  const answer = await new STSClient(common(keys)).send(new GetCallerIdentityCommand({}));
  return { arn: answer.Arn, account: answer.Account };
}

async function listQueues(keys) {
  const answer = await new SQSClient(common(keys)).send(new ListQueuesCommand({}));
  return { queue_urls: answer.QueueUrls };
}

async function put(keys, body, algorithm = "CRC32") {
  const [client, signed] = s3(keys);
  const answer = await client.send(
    new PutObjectCommand({
      Bucket: "bucket",
      Key: KEY,
      Body: body(),
      ContentLength: Buffer.byteLength(spec.object),
      ChecksumAlgorithm: algorithm,
    }),
  );
  return { etag: answer.ETag, checksum: answer[`Checksum${algorithm}`] ?? null, ...signed };
}

async function main() {
  const wrong = { ...spec.alice, secret_key: "not-the-secret" };
  const unknown = { ...spec.alice, access_key: "AKIDUNKNOWN" };
  const inMemory = () => Buffer.from(spec.object);
  // A stream of unknown content the SDK cannot hash in advance: it sends it aws-chunked.
  const streamed = () => Readable.from([Buffer.from(spec.object.slice(0, 7)), Buffer.from(spec.object.slice(7))]);
  const results = [];
  results.push(await call("sts_alice", () => callerIdentity(spec.alice)));
  results.push(await call("sts_temporary", () => callerIdentity(spec.temporary)));
  results.push(await call("sts_wrong_secret", () => callerIdentity(wrong)));
  results.push(await call("sqs_alice", () => listQueues(spec.alice)));
  results.push(await call("sqs_wrong_secret", () => listQueues(wrong)));
  results.push(await call("sqs_unknown_key", () => listQueues(unknown)));
  results.push(await call("s3_put_buffer", () => put(spec.alice, inMemory)));
  results.push(await call("s3_put_stream", () => put(spec.temporary, streamed)));
  for (const algorithm of ["CRC32C", "CRC64NVME", "SHA1", "SHA256"]) {
    results.push(await call(`s3_put_stream_${algorithm}`, () => put(spec.alice, streamed, algorithm)));
  }
  results.push(await call("s3_put_stream_wrong_secret", () => put(wrong, streamed)));
  // Start (POST ?uploads), one streamed part (PUT ?partNumber=1&uploadId=…, the ID escaped),
  // complete (POST ?uploadId=…, an XML body naming the part and its checksum).
  results.push(
    await call("s3_multipart", async () => {
      const [client, signed] = s3(spec.alice);
      const target = { Bucket: "bucket", Key: KEY };
      const started = await client.send(new CreateMultipartUploadCommand({ ...target, ChecksumAlgorithm: "CRC64NVME" }));
      const part = await client.send(
        new UploadPartCommand({
          ...target,
          UploadId: started.UploadId,
          PartNumber: 1,
          Body: streamed(),
          ContentLength: Buffer.byteLength(spec.object),
          ChecksumAlgorithm: "CRC64NVME",
        }),
      );
      const partSigned = { ...signed }; // The part's headers, before the completion's replace them.
      const completed = await client.send(
        new CompleteMultipartUploadCommand({
          ...target,
          UploadId: started.UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag, ChecksumCRC64NVME: part.ChecksumCRC64NVME }] },
        }),
      );
      return {
        upload_id: started.UploadId,
        part_etag: part.ETag,
        part_checksum: part.ChecksumCRC64NVME ?? null,
        part_content_sha256: partSigned.content_sha256,
        etag: completed.ETag,
      };
    }),
  );
  results.push(await call("s3_put_unknown_key", () => put(unknown, inMemory)));
  results.push(
    await call("s3_get", async () => {
      const [client] = s3(spec.alice);
      const answer = await client.send(new GetObjectCommand({ Bucket: "bucket", Key: KEY }));
      return { body: await answer.Body.transformToString() };
    }),
  );
  const [presigner] = s3(spec.alice);
  const url = await getSignedUrl(presigner, new GetObjectCommand({ Bucket: "bucket", Key: KEY }), { expiresIn: 300 });
  for (const [name, target] of [
    ["s3_presigned_get", url],
    ["s3_presigned_get_other_key", url.replace("object", "objects")],
  ]) {
    results.push(
      await call(name, async () => {
        const answer = await fetch(target);
        return { url: target, status: answer.status, body: await answer.text() };
      }),
    );
  }
  // A presigned upload with temporary credentials: the token rides in the query.
  const [temporaryPresigner] = s3(spec.temporary);
  const putUrl = await getSignedUrl(temporaryPresigner, new PutObjectCommand({ Bucket: "bucket", Key: KEY }), {
    expiresIn: 300,
  });
  results.push(
    await call("s3_presigned_put_temporary", async () => {
      const answer = await fetch(putUrl, { method: "PUT", body: spec.object });
      return { url: putUrl, status: answer.status, etag: answer.headers.get("etag") };
    }),
  );
  process.stdout.write(JSON.stringify(results));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
