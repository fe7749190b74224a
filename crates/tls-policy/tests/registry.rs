//! The cipher-suite registry against the `openssl` on the machine: every suite OpenSSL lists
//! (TLS 1.2 and older from `openssl ciphers -V 'ALL:COMPLEMENTOFALL:@SECLEVEL=0'`, TLS 1.3
//! from `-s -tls1_3` and `-ciphersuites`) must be in the registry, under the same OpenSSL and
//! IANA names, with the same minimum version, key exchange class, AEAD and no-encryption flags.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use edgeward_tls_policy::registry::{self, Cipher, KeyExchange};
use edgeward_tls_policy::ProtocolVersion;

struct Line {
    code: u16,
    iana: String,
    openssl: String,
    version: String,
    kx: String,
    enc: String,
    mac: String,
}

fn openssl_ciphers(args: &[&str]) -> Vec<Line> {
    let out = Command::new("openssl")
        .arg("ciphers")
        .arg("-stdname")
        .arg("-V")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl ciphers {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .map(|l| {
            // "0xC0,0x2F - TLS_ECDHE_RSA_… - ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 Kx=ECDH Au=RSA Enc=AESGCM(128) Mac=AEAD"
            let f: Vec<&str> = l.split_whitespace().collect();
            let (hi, lo) = f[0].split_once(',').unwrap();
            let byte = |s: &str| u16::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
            let field = |k: &str| f.iter().find_map(|x| x.strip_prefix(k)).unwrap().to_owned();
            Line {
                code: byte(hi) << 8 | byte(lo),
                iana: f[2].to_owned(),
                openssl: f[4].to_owned(),
                version: f[5].to_owned(),
                kx: field("Kx="),
                enc: field("Enc="),
                mac: field("Mac="),
            }
        })
        .collect()
}

fn check(lines: &[Line]) -> usize {
    for l in lines {
        let s = registry::lookup(l.code)
            .unwrap_or_else(|| panic!("{} (0x{:04X}) missing", l.openssl, l.code));
        assert_eq!(s.iana_name, l.iana, "0x{:04X}", l.code);
        assert_eq!(s.openssl_name, Some(l.openssl.as_str()), "0x{:04X}", l.code);
        let min = match l.version.as_str() {
            "SSLv3" => ProtocolVersion::Ssl3,
            "TLSv1" => ProtocolVersion::Tls10,
            "TLSv1.2" => ProtocolVersion::Tls12,
            "TLSv1.3" => ProtocolVersion::Tls13,
            v => panic!("unknown version column {v}"),
        };
        assert_eq!(s.min_version, min, "{}", l.openssl);
        // OpenSSL 3's Kx column: ECDH/DH are the ephemeral forms; "any" is TLS 1.3.
        let fs = matches!(l.kx.as_str(), "ECDH" | "DH" | "any" | "ECDHEPSK" | "DHEPSK");
        assert_eq!(s.forward_secret, fs, "{} Kx={}", l.openssl, l.kx);
        if l.kx == "RSA" {
            assert_eq!(s.kx, KeyExchange::Rsa, "{}", l.openssl);
        }
        assert_eq!(s.aead, l.mac == "AEAD", "{} Mac={}", l.openssl, l.mac);
        assert_eq!(
            s.cipher == Cipher::Null,
            l.enc == "None",
            "{} Enc={}",
            l.openssl,
            l.enc
        );
        assert!(s.usable_in(min), "{}", l.openssl);
    }
    lines.len()
}

#[test]
fn every_openssl_tls12_and_older_suite_is_in_the_registry() {
    let n = check(&openssl_ciphers(&["ALL:COMPLEMENTOFALL:@SECLEVEL=0"]));
    assert!(n > 100, "openssl listed only {n} suites");
}

#[test]
fn every_openssl_tls13_suite_is_in_the_registry() {
    let defaults = openssl_ciphers(&["-s", "-tls1_3"]);
    assert!(defaults.len() >= 3);
    check(&defaults);
    let all = openssl_ciphers(&[
        "-ciphersuites",
        "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256",
        "eNULL",
    ]);
    let tls13: Vec<Line> = all.into_iter().filter(|l| l.version == "TLSv1.3").collect();
    assert_eq!(check(&tls13), 5);
}

#[test]
fn registry_classifications_from_independent_knowledge() {
    // RFC 5246 / RFC 8446 facts, not read from our table.
    let rsa = registry::lookup(0x002F).unwrap(); // TLS_RSA_WITH_AES_128_CBC_SHA
    assert!(!rsa.forward_secret && !rsa.aead && rsa.min_version <= ProtocolVersion::Tls10);
    let ecdhe = registry::lookup(0xC02F).unwrap();
    assert!(ecdhe.forward_secret && ecdhe.aead && ecdhe.min_version == ProtocolVersion::Tls12);
    let tls13 = registry::lookup(0x1303).unwrap();
    assert!(tls13.is_tls13() && tls13.usable_in(ProtocolVersion::Tls13));
    assert!(!tls13.usable_in(ProtocolVersion::Tls12));
    let export = registry::lookup(0x0003).unwrap(); // TLS_RSA_EXPORT_WITH_RC4_40_MD5
    assert!(export.export && !export.usable_in(ProtocolVersion::Tls11));
    let dhe = registry::lookup(0x0039).unwrap(); // TLS_DHE_RSA_WITH_AES_256_CBC_SHA
    assert!(dhe.forward_secret && dhe.kx == KeyExchange::Dhe);
    assert!(registry::lookup(0x00FF).unwrap().signaling);
    assert!(registry::all_suites().len() >= 350);
}
