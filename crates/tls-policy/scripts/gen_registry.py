#!/usr/bin/env python3
"""Generates src/registry/table.rs, the cipher-suite registry, from two committed inputs.

Inputs (see data/README.md for where each comes from):
  data/tls-parser-0.12.2-ciphersuites.txt  every IANA-registered suite, with cipher, mode,
                                           key size, MAC and PRF (tls-parser's own table)
  data/openssl-3.0.19-ciphers-V.txt        `openssl ciphers -stdname -V` over every suite
                                           OpenSSL 3 knows: OpenSSL names and the minimum
                                           protocol version OpenSSL assigns

Run from crates/tls-policy:  python3 scripts/gen_registry.py > src/registry/table.rs
Key exchange and authentication come from the IANA name (tls-parser's columns mix them for
the PSK and anonymous suites); everything else from tls-parser's columns.
"""
import re
import sys

TP = "data/tls-parser-0.12.2-ciphersuites.txt"
OSSL = "data/openssl-3.0.19-ciphers-V.txt"

# IANA name prefix (before _WITH_) -> (KeyExchange, Authentication)
KXAU = {
    "TLS_NULL": ("Null", "Anonymous"),
    "TLS_RSA": ("Rsa", "Rsa"),
    "TLS_RSA_EXPORT": ("Rsa", "Rsa"),
    "TLS_RSA_EXPORT1024": ("Rsa", "Rsa"),
    "TLS_DH_DSS": ("Dh", "Dss"),
    "TLS_DH_DSS_EXPORT": ("Dh", "Dss"),
    "TLS_DH_RSA": ("Dh", "Rsa"),
    "TLS_DH_RSA_EXPORT": ("Dh", "Rsa"),
    "TLS_DHE_DSS": ("Dhe", "Dss"),
    "TLS_DHE_DSS_EXPORT": ("Dhe", "Dss"),
    "TLS_DHE_DSS_EXPORT1024": ("Dhe", "Dss"),
    "TLS_DHE_RSA": ("Dhe", "Rsa"),
    "TLS_DHE_RSA_EXPORT": ("Dhe", "Rsa"),
    "TLS_DH_anon": ("Dhe", "Anonymous"),
    "TLS_DH_anon_EXPORT": ("Dhe", "Anonymous"),
    "TLS_ECDH_ECDSA": ("Ecdh", "Ecdsa"),
    "TLS_ECDH_RSA": ("Ecdh", "Rsa"),
    "TLS_ECDHE_ECDSA": ("Ecdhe", "Ecdsa"),
    "TLS_ECDHE_RSA": ("Ecdhe", "Rsa"),
    "TLS_ECDH_anon": ("Ecdhe", "Anonymous"),
    "TLS_PSK": ("Psk", "Psk"),
    "TLS_DHE_PSK": ("DhePsk", "Psk"),
    "TLS_PSK_DHE": ("DhePsk", "Psk"),
    "TLS_RSA_PSK": ("RsaPsk", "Rsa"),
    "TLS_ECDHE_PSK": ("EcdhePsk", "Psk"),
    "TLS_KRB5": ("Krb5", "Krb5"),
    "TLS_KRB5_EXPORT": ("Krb5", "Krb5"),
    "TLS_SRP_SHA": ("Srp", "Srp"),
    "TLS_SRP_SHA_RSA": ("Srp", "Rsa"),
    "TLS_SRP_SHA_DSS": ("Srp", "Dss"),
    "TLS_ECCPWD": ("EcCpwd", "EcCpwd"),
}
# Ephemeral (EC)DH per connection: the session keys survive a later key compromise.
FORWARD_SECRET = {"Dhe", "Ecdhe", "DhePsk", "EcdhePsk", "Tls13", "EcCpwd"}

CIPHER = {
    "NULL": "Null", "DES": "Des", "3DES": "TripleDes", "RC2": "Rc2", "RC4": "Rc4",
    "IDEA": "Idea", "SEED": "Seed", "AES": "Aes", "ARIA": "Aria", "CAMELLIA": "Camellia",
    "CHACHA20_POLY1305": "ChaCha20Poly1305", "SM4": "Sm4", "AEGIS": "Aegis",
}
MAC = {
    "NULL": "Null", "HMAC-MD5": "HmacMd5", "HMAC-SHA1": "HmacSha1",
    "HMAC-SHA256": "HmacSha256", "HMAC-SHA384": "HmacSha384", "HMAC-SHA512": "HmacSha512",
    "AEAD": "Aead",
}
OSSL_VERSION = {"SSLv3": "Ssl3", "TLSv1": "Tls10", "TLSv1.2": "Tls12", "TLSv1.3": "Tls13"}


def main():
    ossl = {}
    for line in open(OSSL):
        m = re.match(r"\s*0x(..),0x(..) - (\S+)\s+- (\S+)\s+(\S+)", line)
        if not m:
            sys.exit("unparsable openssl line: " + line)
        ossl[int(m[1] + m[2], 16)] = (m[3], m[4], OSSL_VERSION[m[5]])

    rows = []
    for line in open(TP):
        v = line.strip().split(":")
        code = int(v[0], 16)
        name = v[1]
        export = v[12] == "1"
        signaling = name.endswith("_SCSV")
        if signaling:
            kx, au = "Null", "Anonymous"
        elif "_WITH_" in name:
            prefix = name.split("_WITH_")[0]
            kx, au = KXAU[prefix]
        else:
            kx, au = "Tls13", "Tls13"
        cipher = CIPHER[v[4]]
        mode = {"CBC": "Cbc", "GCM": "Gcm", "CCM": "Ccm", "": "Stream", "NULL": "Stream"}[v[5]]
        if cipher == "Null":
            mode = "None"
        if name.endswith("CCM_8") or "CCM_8_" in name:
            mode = "Ccm8"
        if cipher in ("ChaCha20Poly1305", "Aegis"):
            mode = "Aead"
        key_bits = int(v[6])
        mac = MAC[v[7]]
        aead = mode in ("Gcm", "Ccm", "Ccm8", "Aead")
        if aead:
            mac = "Aead"
        if cipher == "ChaCha20Poly1305":
            key_bits = 256  # tls-parser says 128; the ChaCha20 key is 256 bits (RFC 7905)
        prf_sha2 = v[9] in ("SHA256", "SHA384", "SHA512", "SM3")
        if code in ossl:
            ossl_std, ossl_name, min_v = ossl[code]
            if ossl_std != name:
                sys.exit(f"name mismatch {code:04x}: {ossl_std} vs {name}")
            ossl_name = f'Some("{ossl_name}")'
        else:
            ossl_name = "None"
            if kx == "Tls13":
                min_v = "Tls13"
            elif aead or prf_sha2:
                min_v = "Tls12"
            elif code <= 0x001B:
                min_v = "Ssl3"
            else:
                min_v = "Tls10"
        if kx == "Tls13":
            max_v = "Tls13"
        elif export:
            max_v = "Tls10"  # RFC 4346: export suites must not be negotiated in TLS 1.1+
        else:
            max_v = "Tls12"
        rows.append((code, name, ossl_name, kx, au, cipher, mode, key_bits, mac, aead,
                     kx in FORWARD_SECRET and not signaling, export, signaling, min_v, max_v))

    rows.sort()
    out = []
    out.append("// @generated by scripts/gen_registry.py from data/; do not edit by hand.\n")
    out.append("use super::*;\n\n")
    out.append(f"/// Every suite of the registry, sorted by code point ({len(rows)} entries).\n")
    out.append("pub(super) static SUITES: &[CipherSuiteInfo] = &[\n")
    for r in rows:
        (code, name, oname, kx, au, cipher, mode, bits, mac, aead, fs, export, sig, mn, mx) = r
        out.append(
            f"    CipherSuiteInfo {{ code: 0x{code:04X}, iana_name: \"{name}\", "
            f"openssl_name: {oname}, kx: KeyExchange::{kx}, auth: Authentication::{au}, "
            f"cipher: Cipher::{cipher}, mode: CipherMode::{mode}, key_bits: {bits}, "
            f"mac: Mac::{mac}, aead: {str(aead).lower()}, forward_secret: {str(fs).lower()}, "
            f"export: {str(export).lower()}, signaling: {str(sig).lower()}, "
            f"min_version: ProtocolVersion::{mn}, max_version: ProtocolVersion::{mx} }},\n"
        )
    out.append("];\n")
    sys.stdout.write("".join(out))


main()
