// `requirePeer(name)`: a package of the Node.js peers `cargo xtask setup` installs into
// $EDGEWARD_JS_PEERS (xtask/js-peers/package-lock.json), for the tests' `.cjs` scripts.
// `support/interop.rs` checks the directory before it starts a script.
"use strict";

const path = require("node:path");
const { createRequire } = require("node:module");

const peers = process.env.EDGEWARD_JS_PEERS;
if (!peers) {
  throw new Error("EDGEWARD_JS_PEERS is not set: run `cargo xtask test` (or `cargo xtask setup`)");
}

module.exports = { requirePeer: createRequire(path.join(peers, "package.json")) };
