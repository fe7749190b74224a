// POST Object forms from the AWS SDK for JavaScript v3 (@aws-sdk/s3-presigned-post's
// createPresignedPost), encoded by Node.js's WHATWG FormData (the encoding a browser's
// `fetch` gives a form), for tests/post_peers.rs.
//
// stdin: {"mode": "forms", "access_key", "secret_key", "temporary": {"access_key",
// "secret_key", "token"}, "bucket", "file": base64}
// stdout: a JSON array of {"name", "fields": [[name, value], ...], "file_name",
// "content_type", "body": base64, "key", "size_range": [min, max] or null}, as
// post_peers.py prints them.
//
// stdin: {"mode": "send" or "browser", "endpoint", "access_key", "secret_key", "bucket",
// "file": base64, and for "browser" "chromium" (its binary)}
// stdout: a JSON array of {"name", "key", "filename_in_key", "status", "body",
// "verified_key"}: each form POSTed with `fetch`, or by Chromium (driven by playwright-core)
// submitting an HTML form whose file input holds the file; what the endpoint answered, and
// its x-edgeward-verified-key header (null without one).
"use strict";

const crypto = require("node:crypto");
const { requirePeer } = require("./support/js_peers.cjs");
const { S3Client } = requirePeer("@aws-sdk/client-s3");
const { createPresignedPost } = requirePeer("@aws-sdk/s3-presigned-post");

const FILE_NAME = "dir\\ünïcødé photo.jpg";
// What S3 puts for `${filename}`: the name without its directory.
const FILENAME_IN_KEY = "ünïcødé photo.jpg";

// An S3 client for `endpoint`; the forms mode POSTs nothing, so its endpoint is a port
// nobody listens on (the form's URL is all it would name).
function client(endpoint, accessKeyId, secretAccessKey, sessionToken) {
  return new S3Client({
    region: "us-east-1",
    endpoint: endpoint || "http://127.0.0.1:9",
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
  });
}

// The form a browser's page would send: the fields in the SDK's order, the file last.
function formData(fields, file) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    form.append(name, value);
  }
  form.append("file", new Blob([file], { type: "image/jpeg" }), FILE_NAME);
  return form;
}

async function forms(spec, file) {
  const out = [];
  const temporary = spec.temporary;
  const identities = [
    ["long-term", spec.access_key, spec.secret_key, undefined],
    ["temporary", temporary.access_key, temporary.secret_key, temporary.token],
  ];
  for (const [who, accessKey, secretKey, token] of identities) {
    const s3 = client(undefined, accessKey, secretKey, token);
    const cases = [
      ["exact key", "uploads/report.bin", {}, [], null],
      [
        "key from the file name",
        "uploads/${filename}",
        // JSON.stringify leaves text past ASCII as it is (Python's json.dumps escapes it).
        { "Content-Type": "image/jpeg", "x-amz-meta-note": 'a "quoted" \\ value, ünïcødé' },
        [["content-length-range", 1, 1048576]],
        [1, 1048576],
      ],
      [
        "starts-with and a status",
        "photos/${filename}",
        { "Content-Type": "image/png", success_action_status: "201" },
        [["starts-with", "$Content-Type", "image/"]],
        null,
      ],
    ];
    for (const [name, key, fields, conditions, sizeRange] of cases) {
      const post = await createPresignedPost(s3, {
        Bucket: spec.bucket,
        Key: key,
        Fields: fields,
        Conditions: conditions,
        Expires: 600,
      });
      const encoded = new Response(formData(post.fields, file));
      const body = Buffer.from(await encoded.arrayBuffer());
      out.push({
        name: `aws-sdk-js ${who}: ${name}`,
        fields: Object.entries(post.fields),
        file_name: FILE_NAME,
        content_type: encoded.headers.get("content-type"),
        body: body.toString("base64"),
        key,
        size_range: sizeRange,
      });
    }
  }
  return out;
}

// The header post_peers.rs's service adds to s3s-fs's answer: the layer's key, in hex.
const VERIFIED_KEY_HEADER = "x-edgeward-verified-key";

// POSTs a form with Node.js's `fetch`: {status, body, verified_key}.
async function byFetch(url, fields, file) {
  const response = await fetch(url, { method: "POST", body: formData(fields, file) });
  return {
    status: response.status,
    body: await response.text(),
    verified_key: response.headers.get(VERIFIED_KEY_HEADER),
  };
}

function escapeHtml(text) {
  const entities = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  return String(text).replace(/[&<>"']/g, (c) => entities[c]);
}

// A Chromium whose pages submit a form as a user would: hidden inputs for the fields, a file
// input holding the file, the submit button clicked. Chromium encodes the body itself.
async function browser(executablePath) {
  const { chromium } = requirePeer("playwright-core");
  // Root (as in CI) has no user-namespace sandbox; the page is the test's own.
  const instance = await chromium.launch({
    executablePath,
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  const submit = async (url, fields, file) => {
    const page = await instance.newPage();
    const inputs = Object.entries(fields)
      .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
      .join("");
    await page.setContent(
      `<form method="post" enctype="multipart/form-data" action="${escapeHtml(url)}">` +
        `${inputs}<input type="file" name="file"><button type="submit">Upload</button></form>`,
    );
    await page.setInputFiles("input[type=file]", { name: FILE_NAME, mimeType: "image/jpeg", buffer: file });
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url() === url && r.request().method() === "POST"),
      page.click("button"),
    ]);
    // A 204 has no body, and leaves the page where it was (no document to read one from).
    const status = response.status();
    const answer = {
      status,
      body: status === 204 ? "" : await response.text(),
      verified_key: (await response.allHeaders())[VERIFIED_KEY_HEADER] ?? null,
    };
    await page.close();
    return answer;
  };
  return { submit, close: () => instance.close() };
}

async function send(spec, file, submit) {
  const s3 = client(spec.endpoint, spec.access_key, spec.secret_key, undefined);
  const sha256 = (data) => crypto.createHash("sha256").update(data).digest("base64");
  const cases = [
    ["exact key", "js/report.bin", {}, {}],
    ["key from the file name", "js/${filename}", {}, {}],
    ["201", "js201/${filename}", { success_action_status: "201" }, {}],
    ["its SHA-256", "sha/${filename}", { "x-amz-checksum-sha256": sha256(file) }, {}],
    [
      "another file's SHA-256",
      "other/${filename}",
      { "x-amz-checksum-sha256": sha256(Buffer.concat([file, Buffer.from("!")])) },
      {},
    ],
    ["an extra field", "extra/${filename}", {}, { "x-amz-meta-extra": "1" }],
  ];
  const out = [];
  for (const [name, key, fields, extra] of cases) {
    const post = await createPresignedPost(s3, {
      Bucket: spec.bucket,
      Key: key,
      Fields: fields,
      Expires: 600,
    });
    const answer = await submit(post.url, { ...post.fields, ...extra }, file);
    out.push({ name, key, filename_in_key: FILENAME_IN_KEY, ...answer });
  }
  return out;
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  const spec = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const file = Buffer.from(spec.file, "base64");
  let out;
  if (spec.mode === "forms") {
    out = await forms(spec, file);
  } else if (spec.mode === "send") {
    out = await send(spec, file, byFetch);
  } else {
    const chromium = await browser(spec.chromium);
    try {
      out = await send(spec, file, chromium.submit);
    } finally {
      await chromium.close();
    }
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
