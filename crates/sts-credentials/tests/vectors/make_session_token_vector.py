"""Builds a session token with pyca/cryptography's AES-GCM, independently of the Rust code,
following the layout documented in src/mint.rs. Run with the interop venv's python:
    target/interop-venv/bin/python crates/sts-credentials/tests/vectors/make_session_token_vector.py
Output (committed as session_token_python.json) is opened by tests/session_token.rs."""
import base64, json, struct
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

key = bytes(range(32))
key_id = b"py-2026"
nonce = bytes.fromhex("000102030405060708090a0b")
expiry = 2000000000  # 2033-05-18T03:33:20Z
akid = b"ASIAPYTHONVECTOR0001"
secret = b"0123456789abcdefghijABCDEFGHIJ+/01234567"
arn = b"arn:aws:sts::123456789012:assumed-role/device/py"
session = b"py-session"
plain = struct.pack(">Q", expiry) + bytes([len(akid)]) + akid + bytes([len(secret)]) + secret \
    + struct.pack(">H", len(arn)) + arn + bytes([len(session)]) + session
header = bytes([1, len(key_id)]) + key_id
sealed = AESGCM(key).encrypt(nonce, plain, header)
token = base64.urlsafe_b64encode(header + nonce + sealed).rstrip(b"=").decode()
print(json.dumps({
    "provenance": "pyca/cryptography AESGCM via make_session_token_vector.py",
    "key_hex": key.hex(), "key_id": key_id.decode(), "token": token,
    "expiry_unix": expiry, "access_key_id": akid.decode(), "secret_access_key": secret.decode(),
    "principal_arn": arn.decode(), "session_name": session.decode(),
}, indent=2))
