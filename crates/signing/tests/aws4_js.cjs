// aws4 (mhart's SigV4 signer for Node.js, written apart from every AWS SDK) against the
// layer, for tests/layer_aws4_js.rs. The package is one of those `cargo xtask setup` installs
// into $EDGEWARD_JS_PEERS (xtask/js-peers/package-lock.json).
//
// Two ways aws4 signs that no AWS SDK does: for S3 it sends the path as given and signs the
// key it names (decoded, then encoded again), so `*`, `@`, `(`, `;` go raw on the wire and
// escaped in the signature, and `%7E` goes escaped and is signed as `~`; and it signs a query
// for any other service without `X-Amz-Expires` (as AWS IoT's WebSocket URLs are).
//
// stdin: {"host", "port", "alice": {"access_key", "secret_key"}, "temporary": {"access_key",
//   "secret_key", "token"}}
// stdout: a JSON array, one result per request: {"name", "status", "code" (the error code of
//   a refusal, from S3's XML or the JSON form), "body", "path" (as sent)}.
"use strict";

const fs = require("node:fs");
const http = require("node:http");

const { requirePeer } = require("./support/js_peers.cjs");
const aws4 = requirePeer("aws4");

const spec = JSON.parse(fs.readFileSync(0, "utf8"));
const keys = (who) => ({ accessKeyId: who.access_key, secretAccessKey: who.secret_key, sessionToken: who.token });
const alice = keys(spec.alice);
const temporary = keys(spec.temporary);
const wrong = { ...alice, secretAccessKey: "not-the-secret" };

function send(name, request, credentials) {
  const signed = aws4.sign(
    { host: `${spec.host}:${spec.port}`, region: "us-east-1", ...request },
    credentials,
  );
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      { host: spec.host, port: spec.port, method: signed.method || "GET", path: signed.path, headers: signed.headers },
      (answer) => {
        let body = "";
        answer.setEncoding("utf8");
        answer.on("data", (chunk) => (body += chunk));
        answer.on("end", () => {
          const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? jsonCode(body);
          resolve({ name, status: answer.statusCode, code, body, path: signed.path });
        });
      },
    );
    outgoing.on("error", reject);
    outgoing.end(signed.body);
  });
}

function jsonCode(body) {
  try {
    const parsed = JSON.parse(body);
    return (parsed.__type ?? parsed.code ?? "").split("#").pop() || null;
  } catch {
    return null;
  }
}

async function main() {
  const results = [];
  // S3 keys aws4 sends raw (or escaped where S3 would not) and signs as S3 reads them.
  const s3Keys = {
    sub_delimiters: "/bucket/star*at@(x)!'.txt",
    separators: "/bucket/a;b,c=d&e$",
    escaped_tilde: "/bucket/%7Euser/caf%c3%a9",
  };
  for (const [label, path] of Object.entries(s3Keys)) {
    results.push(await send(`s3_get_${label}`, { service: "s3", path }, alice));
    results.push(
      await send(`s3_put_${label}`, { service: "s3", method: "PUT", path, body: "aws4 object" }, temporary),
    );
    results.push(await send(`s3_presigned_get_${label}`, { service: "s3", path, signQuery: true }, temporary));
  }
  // A raw `+`, which aws4 (like S3) reads as a space: a service behind the layer reads a plus.
  results.push(await send("s3_get_raw_plus", { service: "s3", path: "/bucket/a+b" }, alice));
  results.push(await send("s3_get_wrong_secret", { service: "s3", path: s3Keys.sub_delimiters }, wrong));

  // Query authentication without X-Amz-Expires, for services other than S3.
  results.push(await send("api_query", { service: "execute-api", path: "/prod/items?id=1&tag=a%20b", signQuery: true }, alice));
  results.push(await send("iot_query_temporary", { service: "iotdevicegateway", path: "/mqtt", signQuery: true }, temporary));
  results.push(await send("api_query_wrong_secret", { service: "execute-api", path: "/prod/items", signQuery: true }, wrong));
  // Signed 20 minutes ago (aws4 takes a given X-Amz-Date): past the 15-minute window.
  const past = new Date(Date.now() - 20 * 60 * 1000).toISOString().replace(/[-:]|\.\d{3}/g, "");
  results.push(
    await send("api_query_past_window", { service: "execute-api", path: `/prod/items?X-Amz-Date=${past}`, signQuery: true }, alice),
  );
  results.push(
    await send("api_header_post", { service: "execute-api", method: "POST", path: "/prod/items", body: '{"id":1}', headers: { "content-type": "application/json" } }, alice),
  );
  process.stdout.write(JSON.stringify(results));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
