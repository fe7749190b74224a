// Signs a batch of requests with @smithy/signature-v4, the SigV4 signer of the AWS SDK for
// JavaScript v3, for edgeward-signing's differential tests. The packages are those
// `cargo xtask setup` installs into $EDGEWARD_JS_PEERS (xtask/js-peers/package-lock.json).
//
// stdin: a JSON array of requests, the same as botocore_sign.py takes:
//   {"method", "url", "headers": [[name, value], ...], "body" (latin-1 text), "access_key",
//    "secret_key", "token" (or null), "region", "service", "amz_date" ("YYYYMMDDTHHMMSSZ"),
//    "kind": "header" | "query", "s3": bool, "unsigned": bool, "expires": seconds}
// stdout: a JSON array, one result per request:
//   {"url", "headers": [[name, value], ...], "body", "signature"} or {"error": "..."}.
//
// The request is built as the SDK's Node.js clients hand it to the signer: the path as the
// serializer wrote it (percent-encoded), the query as a map of decoded values (a repeated key
// holds an array), headers as a map, and on the wire the query the SDK's
// @smithy/querystring-builder writes. The S3 settings are the S3 client's: the path as sent
// (`uriEscapePath: false`) and x-amz-content-sha256 (`applyChecksum`); other services get
// neither. The payload is UNSIGNED-PAYLOAD for "unsigned" and for any presigned S3 request
// (the signer's choice for a body it cannot hash: a stream), else the body's SHA-256.
// Presigning keeps every header a header (`unhoistableHeaders`), as the other peers sign.
"use strict";

const fs = require("node:fs");

const { requirePeer } = require("./support/js_peers.cjs");
const { SignatureV4 } = requirePeer("@smithy/signature-v4");
const { Hash } = requirePeer("@smithy/hash-node");
const { parseQueryString } = requirePeer("@smithy/querystring-parser");
const { buildQueryString } = requirePeer("@smithy/querystring-builder");

const Sha256 = Hash.bind(null, "sha256");

function splitUrl(url) {
  const afterScheme = url.indexOf("://") + 3;
  const slash = url.indexOf("/", afterScheme);
  const pathAndQuery = url.slice(slash);
  const question = pathAndQuery.indexOf("?");
  return question < 0
    ? [url.slice(0, slash), pathAndQuery, null]
    : [url.slice(0, slash), pathAndQuery.slice(0, question), pathAndQuery.slice(question + 1)];
}

// A key without `=` has no value to the parser (null), which the signer would leave out of
// the canonical query; SigV4 signs it as `key=`, as an SDK that serializes an empty value does.
function withEmptyValues(query) {
  for (const key of Object.keys(query)) {
    const value = query[key];
    query[key] = Array.isArray(value) ? value.map((v) => v ?? "") : (value ?? "");
  }
  return query;
}

// One entry per name: a header that comes twice is one value, its lines trimmed and joined
// with "," (what SigV4 signs of repeated headers, and what Node.js sends for an array).
function headerMap(pairs) {
  const trim = (value) => value.replace(/[ \t]+/g, " ").replace(/^ | $/g, "");
  const headers = {};
  for (const [name, value] of pairs) {
    headers[name] = name in headers ? `${trim(headers[name])},${trim(value)}` : value;
  }
  return headers;
}

async function sign(spec) {
  const [origin, requestPath, rawQuery] = splitUrl(spec.url);
  const headers = headerMap(spec.headers);
  const presign = spec.kind === "query";
  const unsigned = spec.unsigned || (presign && spec.s3);
  const request = {
    method: spec.method,
    protocol: "http:",
    hostname: origin.slice(origin.indexOf("://") + 3).split(":")[0],
    path: requestPath,
    query: withEmptyValues(rawQuery == null ? {} : parseQueryString(rawQuery)),
    headers,
    // A body the signer cannot hash (a stream, to it) is signed as UNSIGNED-PAYLOAD.
    body: unsigned ? { stream: true } : spec.body,
  };
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: spec.access_key,
      secretAccessKey: spec.secret_key,
      sessionToken: spec.token ?? undefined,
    },
    region: spec.region,
    service: spec.service,
    sha256: Sha256,
    uriEscapePath: !spec.s3,
    applyChecksum: spec.s3,
  });
  const [, y, mo, d, h, mi, s] = spec.amz_date.match(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/);
  const signingDate = new Date(Date.UTC(+y, +mo - 1, +d, +h, +mi, +s));
  let signed;
  let signature;
  if (presign) {
    const unhoistableHeaders = new Set(Object.keys(headers).map((name) => name.toLowerCase()));
    signed = await signer.presign(request, { signingDate, expiresIn: spec.expires, unhoistableHeaders });
    signature = signed.query["X-Amz-Signature"];
  } else {
    signed = await signer.sign(request, { signingDate });
    signature = signed.headers.authorization.split("Signature=")[1];
  }
  const query = buildQueryString(signed.query);
  return {
    url: origin + signed.path + (query ? `?${query}` : ""),
    headers: Object.entries(signed.headers),
    body: spec.body,
    signature,
  };
}

async function main() {
  const specs = JSON.parse(fs.readFileSync(0, "utf8"));
  const results = [];
  for (const spec of specs) {
    try {
      results.push(await sign(spec));
    } catch (error) {
      // Reported per request, so one bad case names itself.
      results.push({ error: String(error?.stack ?? error) });
    }
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
