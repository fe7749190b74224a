// The AWS SDK for JavaScript v3 over HTTP/2 (NodeHttp2Handler, h2c to an http:// endpoint):
// its host-header middleware replaces `host` with `:authority` and its signer signs that.
// stdin: {"endpoint", "access_key", "secret_key"}. stdout: a JSON array of results.
"use strict";

const fs = require("node:fs");
for (const name of ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"]) process.env[name] = "/dev/null";
for (const name of ["AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION"]) delete process.env[name];

const { requirePeer } = require("./support/js_peers.cjs");
const { STSClient, GetCallerIdentityCommand } = requirePeer("@aws-sdk/client-sts");
const { S3Client, PutObjectCommand } = requirePeer("@aws-sdk/client-s3");
const { NodeHttp2Handler } = requirePeer("@smithy/node-http-handler");

const spec = JSON.parse(fs.readFileSync(0, "utf8"));
const credentials = { accessKeyId: spec.access_key, secretAccessKey: spec.secret_key };

async function run(name, client, command) {
  let signedHeaders = null;
  client.middlewareStack.add(
    (next) => async (args) => {
      const auth = args.request.headers.authorization || "";
      signedHeaders = (auth.match(/SignedHeaders=([^,]*)/) || [])[1] || null;
      return next(args);
    },
    { step: "finalizeRequest", priority: "low" },
  );
  try {
    const out = await command();
    return { name, outcome: "ok", signed_headers: signedHeaders, arn: out.Arn ?? null };
  } catch (e) {
    return { name, outcome: "error", signed_headers: signedHeaders, code: e.name, message: e.message, status: e.$metadata?.httpStatusCode ?? null };
  } finally {
    client.destroy();
  }
}

(async () => {
  const results = [];
  const sts = new STSClient({ region: "us-east-1", endpoint: spec.endpoint, credentials, requestHandler: new NodeHttp2Handler() });
  results.push(await run("sts_h2", sts, () => sts.send(new GetCallerIdentityCommand({}))));
  const s3 = new S3Client({ region: "us-east-1", endpoint: spec.endpoint, forcePathStyle: true, credentials, requestHandler: new NodeHttp2Handler() });
  results.push(await run("s3_put_h2", s3, () => s3.send(new PutObjectCommand({ Bucket: "bucket", Key: "key", Body: "hello over h2" }))));
  process.stdout.write(JSON.stringify(results));
})();
