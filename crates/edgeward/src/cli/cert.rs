//! `edgeward cert`: inspect and verify device certificates, and run a small PKI.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use edgeward_device_identity::{
    certificate_pem, create_csr, crl_pem, csr_pem, load_certificates, load_crls, load_private_key,
    parse_csr_input, write_private_key_file, write_public_file, CaSettings, CertificateAuthority,
    CertificateInfo, CrlSettings, DevicePolicy, DeviceSettings, Error, KeyType, LoadOptions,
    PrivateKey, ServerSettings, Validator,
};
use rustls_pki_types::UnixTime;
use time::{Duration, OffsetDateTime};

use super::{outln, Outcome};

/// Inspect, verify and issue X.509 device certificates.
#[derive(Args)]
#[command(after_help = "Examples:
  edgeward cert inspect device.pem --json
  edgeward cert verify --ca root.pem --chain issuing.pem --crl root.crl device.pem
  edgeward cert ca create --name 'Fleet Root' --out root.pem --key-out root.key
  edgeward cert issue --ca root.pem --ca-key root.key --device thermostat-42 --out dev.pem --key-out dev.key
  edgeward cert csr --thing-name thermostat-42 --key-out dev.key --out dev.csr
  edgeward cert sign-csr --ca root.pem --ca-key root.key --out dev.pem dev.csr
  edgeward cert crl --ca root.pem --ca-key root.key --revoke dev.pem --number 2 --out root.crl

Key files are written readable by their owner only (0600); key files readable by group or others
are refused when read.")]
pub(crate) struct CertArgs {
    #[command(subcommand)]
    command: CertCommand,
}

#[derive(Subcommand)]
enum CertCommand {
    /// Print what a certificate says (certificate ID = SHA-256 of the DER, thing name, ...).
    Inspect(InspectArgs),
    /// Validate a certificate chain: exit 0 valid, 1 invalid (with the reason), 2 usage error.
    Verify(VerifyArgs),
    /// Certificate authority commands.
    Ca(CaArgs),
    /// Issue a device or server certificate with a fresh key.
    Issue(IssueArgs),
    /// Create a CSR on the device; the private key never leaves it.
    Csr(CsrArgs),
    /// Sign a device's CSR with the CA (fleet provisioning).
    SignCsr(SignCsrArgs),
    /// Issue a certificate revocation list.
    Crl(CrlArgs),
}

#[derive(Args)]
struct InspectArgs {
    /// Certificate file (PEM, possibly a chain, or DER).
    file: PathBuf,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum PurposeArg {
    /// A device certificate: clientAuth required.
    Client,
    /// A server certificate: serverAuth required.
    Server,
}

#[derive(Args)]
struct VerifyArgs {
    /// Trusted root certificate(s), PEM.
    #[arg(long = "ca", required = true)]
    ca: Vec<PathBuf>,
    /// Intermediate certificates the device sends, PEM.
    #[arg(long = "chain")]
    chain: Vec<PathBuf>,
    /// Certificate revocation lists, PEM or DER.
    #[arg(long = "crl")]
    crl: Vec<PathBuf>,
    /// Validation time: RFC 3339 (2026-01-02T03:04:05Z) or Unix seconds. Default: now.
    #[arg(long)]
    at: Option<String>,
    /// What the certificate is for.
    #[arg(long, value_enum, default_value = "client")]
    purpose: PurposeArg,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
    /// The certificate to verify (PEM; further certificates in the file count as intermediates).
    cert: PathBuf,
}

#[derive(Args)]
struct CaArgs {
    #[command(subcommand)]
    command: CaCommand,
}

#[derive(Subcommand)]
enum CaCommand {
    /// Create a self-signed root CA.
    Create(CaCreateArgs),
}

#[derive(Args)]
struct CaCreateArgs {
    /// Subject common name.
    #[arg(long)]
    name: String,
    /// Key type: p256 (default), p384, ed25519, rsa2048, rsa3072.
    #[arg(long, default_value = "p256")]
    key_type: String,
    /// Lifetime in days.
    #[arg(long, default_value_t = 3650)]
    days: i64,
    /// pathLenConstraint (default: none).
    #[arg(long)]
    path_len: Option<u8>,
    /// Where to write the certificate (PEM).
    #[arg(long)]
    out: PathBuf,
    /// Where to write the private key (PKCS#8 PEM, mode 0600).
    #[arg(long)]
    key_out: PathBuf,
}

#[derive(Args)]
struct IssueArgs {
    /// CA certificate (PEM).
    #[arg(long)]
    ca: PathBuf,
    /// CA private key.
    #[arg(long)]
    ca_key: PathBuf,
    /// Issue a device certificate for this thing name (CN, clientAuth).
    #[arg(long, conflicts_with = "server", required_unless_present = "server")]
    device: Option<String>,
    /// Issue a server certificate for these DNS names / IP addresses (serverAuth).
    #[arg(long, num_args = 1..)]
    server: Vec<String>,
    /// Key type: p256 (default), p384, ed25519, rsa2048, rsa3072.
    #[arg(long, default_value = "p256")]
    key_type: String,
    /// Lifetime in days (default: 7 for devices, 90 for servers).
    #[arg(long)]
    days: Option<i64>,
    /// Where to write the certificate (PEM).
    #[arg(long)]
    out: PathBuf,
    /// Where to write the private key (PKCS#8 PEM, mode 0600).
    #[arg(long)]
    key_out: PathBuf,
}

#[derive(Args)]
struct CsrArgs {
    /// The thing name (written as the subject common name).
    #[arg(long)]
    thing_name: String,
    /// Use this existing private key instead of generating one.
    #[arg(long, conflicts_with = "key_out")]
    key: Option<PathBuf>,
    /// Generate a key and write it here (PKCS#8 PEM, mode 0600).
    #[arg(long, required_unless_present = "key")]
    key_out: Option<PathBuf>,
    /// Key type for a generated key.
    #[arg(long, default_value = "p256")]
    key_type: String,
    /// Where to write the CSR (PEM).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
struct SignCsrArgs {
    /// CA certificate (PEM).
    #[arg(long)]
    ca: PathBuf,
    /// CA private key.
    #[arg(long)]
    ca_key: PathBuf,
    /// Thing name to certify (default: the CSR's common name).
    #[arg(long)]
    thing_name: Option<String>,
    /// Lifetime in days.
    #[arg(long, default_value_t = 7)]
    days: i64,
    /// Where to write the certificate (PEM).
    #[arg(long)]
    out: PathBuf,
    /// The CSR (PEM or DER).
    csr: PathBuf,
}

#[derive(Args)]
struct CrlArgs {
    /// CA certificate (PEM).
    #[arg(long)]
    ca: PathBuf,
    /// CA private key.
    #[arg(long)]
    ca_key: PathBuf,
    /// Certificates to list as revoked.
    #[arg(long)]
    revoke: Vec<PathBuf>,
    /// cRLNumber; must grow with every CRL the CA issues.
    #[arg(long, default_value_t = 1)]
    number: u64,
    /// Days until nextUpdate.
    #[arg(long, default_value_t = 7)]
    days: i64,
    /// Where to write the CRL (PEM).
    #[arg(long)]
    out: PathBuf,
}

pub(crate) fn run(args: CertArgs) -> anyhow::Result<Outcome> {
    match args.command {
        CertCommand::Inspect(a) => inspect(&a),
        CertCommand::Verify(a) => verify(&a),
        CertCommand::Ca(CaArgs {
            command: CaCommand::Create(a),
        }) => ca_create(&a),
        CertCommand::Issue(a) => issue(&a),
        CertCommand::Csr(a) => csr(&a),
        CertCommand::SignCsr(a) => sign_csr(&a),
        CertCommand::Crl(a) => crl(&a),
    }
}

fn key_type(text: &str) -> anyhow::Result<KeyType> {
    KeyType::parse(text).with_context(|| {
        format!("unknown key type {text:?} (p256, p384, ed25519, rsa2048, rsa3072)")
    })
}

fn days(n: i64) -> anyhow::Result<Duration> {
    anyhow::ensure!(n > 0, "the number of days must be positive, got {n}");
    Ok(Duration::days(n))
}

fn load_ca(cert: &Path, key: &Path) -> anyhow::Result<CertificateAuthority> {
    CertificateAuthority::load(cert, key, &LoadOptions::default()).with_context(|| {
        format!(
            "loading the CA from {} and {}",
            cert.display(),
            key.display()
        )
    })
}

fn write_cert(path: &Path, pem: &str) -> anyhow::Result<()> {
    write_public_file(path, pem).with_context(|| format!("writing {}", path.display()))
}

fn write_key(path: &Path, pem: &str) -> anyhow::Result<()> {
    write_private_key_file(path, pem).with_context(|| format!("writing {}", path.display()))
}

fn inspect(args: &InspectArgs) -> anyhow::Result<Outcome> {
    let chain = load_certificates(&args.file)?;
    let infos = chain
        .iter()
        .map(|c| CertificateInfo::from_der(c))
        .collect::<Result<Vec<_>, _>>()?;
    if args.json {
        let value = if infos.len() == 1 {
            serde_json::to_value(&infos[0])?
        } else {
            serde_json::to_value(&infos)?
        };
        outln!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(Outcome::Ok);
    }
    for (i, info) in infos.iter().enumerate() {
        if i > 0 {
            outln!();
        }
        print_info(info);
    }
    Ok(Outcome::Ok)
}

fn print_info(info: &CertificateInfo) {
    let list = |v: &[String]| {
        if v.is_empty() {
            "-".to_owned()
        } else {
            v.join(", ")
        }
    };
    outln!("Certificate ID:      {}", info.certificate_id);
    outln!("SHA-1 fingerprint:   {}", info.sha1_fingerprint);
    outln!("Subject:             {}", info.subject);
    outln!("Issuer:              {}", info.issuer);
    outln!("Thing name (CN):     {}", info.thing_name().unwrap_or("-"));
    let sans: Vec<String> = info
        .subject_alt_names
        .iter()
        .map(ToString::to_string)
        .collect();
    outln!("Subject alt names:   {}", list(&sans));
    outln!("Serial:              {}", info.serial);
    outln!("Not before:          {}", rfc3339(info.not_before));
    outln!("Not after:           {}", rfc3339(info.not_after));
    outln!("Public key:          {}", info.public_key);
    outln!("Signature algorithm: {}", info.signature_algorithm);
    match info.basic_constraints {
        Some(bc) => outln!(
            "Basic constraints:   CA:{}{}",
            if bc.ca { "TRUE" } else { "FALSE" },
            bc.path_len
                .map(|n| format!(", pathlen:{n}"))
                .unwrap_or_default()
        ),
        None => outln!("Basic constraints:   -"),
    }
    outln!("Key usage:           {}", list(&info.key_usage));
    outln!("Extended key usage:  {}", list(&info.extended_key_usage));
    outln!(
        "Subject key ID:      {}",
        info.subject_key_id.as_deref().unwrap_or("-")
    );
    outln!(
        "Authority key ID:    {}",
        info.authority_key_id.as_deref().unwrap_or("-")
    );
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

fn parse_time(text: &str) -> anyhow::Result<UnixTime> {
    let secs = match text.parse::<u64>() {
        Ok(secs) => secs,
        Err(_) => {
            let t = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .with_context(|| format!("--at {text:?} is neither RFC 3339 nor Unix seconds"))?;
            u64::try_from(t.unix_timestamp()).context("--at is before 1970")?
        }
    };
    Ok(UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        secs,
    )))
}

fn verify(args: &VerifyArgs) -> anyhow::Result<Outcome> {
    let mut roots = Vec::new();
    for path in &args.ca {
        roots.extend(load_certificates(path)?);
    }
    let mut presented = load_certificates(&args.cert)?;
    let leaf = presented.remove(0);
    let mut intermediates = presented;
    for path in &args.chain {
        intermediates.extend(load_certificates(path)?);
    }
    let mut crls = Vec::new();
    for path in &args.crl {
        crls.extend(load_crls(path)?);
    }
    let at = match &args.at {
        Some(text) => parse_time(text)?,
        None => UnixTime::now(),
    };
    let policy = match args.purpose {
        PurposeArg::Client => DevicePolicy::device(),
        PurposeArg::Server => DevicePolicy::server(),
    };
    let validator = Validator::new(&roots, policy)?.with_crls(&crls)?;
    match validator.validate(&leaf, &intermediates, at) {
        Ok(identity) => {
            if args.json {
                let value = serde_json::json!({
                    "valid": true,
                    "certificate_id": identity.certificate_id(),
                    "thing_name": identity.thing_name(),
                    "path": identity.path(),
                });
                outln!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                outln!(
                    "valid: {} (certificate ID {})",
                    identity.info().subject,
                    identity.certificate_id()
                );
                outln!(
                    "path: {}",
                    identity
                        .path()
                        .iter()
                        .map(|id| id.as_str())
                        .collect::<Vec<_>>()
                        .join(" -> ")
                );
            }
            Ok(Outcome::Ok)
        }
        Err(Error::Rejected { certificate, rule }) => {
            if args.json {
                let value = serde_json::json!({
                    "valid": false,
                    "certificate": { "subject": certificate.subject, "certificate_id": certificate.id },
                    "rule": rule.code(),
                    "reason": rule.to_string(),
                });
                outln!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                outln!("invalid: certificate {certificate} refused: {rule}");
            }
            Ok(Outcome::CheckFailed)
        }
        Err(other) => Err(other.into()),
    }
}

fn ca_create(args: &CaCreateArgs) -> anyhow::Result<Outcome> {
    let settings = CaSettings::new(&args.name)
        .key_type(key_type(&args.key_type)?)
        .lifetime(days(args.days)?)
        .path_len(args.path_len);
    let ca = CertificateAuthority::create_root(&settings, OffsetDateTime::now_utc())?;
    write_key(&args.key_out, ca.key_pem())?;
    write_cert(&args.out, &ca.certificate_pem())?;
    eprintln!(
        "wrote {} and {}",
        args.out.display(),
        args.key_out.display()
    );
    Ok(Outcome::Ok)
}

fn issue(args: &IssueArgs) -> anyhow::Result<Outcome> {
    let ca = load_ca(&args.ca, &args.ca_key)?;
    let now = OffsetDateTime::now_utc();
    let key_type = key_type(&args.key_type)?;
    let issued = match &args.device {
        Some(thing) => {
            let mut settings = DeviceSettings::new(thing).key_type(key_type);
            if let Some(d) = args.days {
                settings = settings.lifetime(days(d)?);
            }
            ca.issue_device(&settings, now)?
        }
        None => {
            let mut settings = ServerSettings::new(&args.server).key_type(key_type);
            if let Some(d) = args.days {
                settings = settings.lifetime(days(d)?);
            }
            ca.issue_server(&settings, now)?
        }
    };
    write_key(&args.key_out, &issued.key.to_pem())?;
    write_cert(&args.out, &issued.certificate_pem())?;
    eprintln!(
        "wrote {} and {}",
        args.out.display(),
        args.key_out.display()
    );
    Ok(Outcome::Ok)
}

fn csr(args: &CsrArgs) -> anyhow::Result<Outcome> {
    let key = match (&args.key, &args.key_out) {
        (Some(path), _) => {
            PrivateKey::from_der(&*load_private_key(path, &LoadOptions::default())?)?
        }
        (None, Some(out)) => {
            let key = PrivateKey::generate(key_type(&args.key_type)?)?;
            write_key(out, &key.to_pem())?;
            key
        }
        (None, None) => anyhow::bail!("give --key or --key-out"),
    };
    let der = create_csr(&key, &args.thing_name)?;
    write_cert(&args.out, &csr_pem(&der))?;
    eprintln!("wrote {}", args.out.display());
    Ok(Outcome::Ok)
}

fn sign_csr(args: &SignCsrArgs) -> anyhow::Result<Outcome> {
    let ca = load_ca(&args.ca, &args.ca_key)?;
    let bytes =
        std::fs::read(&args.csr).with_context(|| format!("reading {}", args.csr.display()))?;
    let der = parse_csr_input(&bytes)?;
    let cert = ca.sign_csr(
        &der,
        args.thing_name.as_deref(),
        days(args.days)?,
        OffsetDateTime::now_utc(),
    )?;
    write_cert(&args.out, &certificate_pem(&cert))?;
    eprintln!("wrote {}", args.out.display());
    Ok(Outcome::Ok)
}

fn crl(args: &CrlArgs) -> anyhow::Result<Outcome> {
    let ca = load_ca(&args.ca, &args.ca_key)?;
    let mut settings = CrlSettings::new(OffsetDateTime::now_utc(), days(args.days)?, args.number);
    for path in &args.revoke {
        for cert in load_certificates(path)?.iter().take(1) {
            settings = settings.revoke(cert)?;
        }
    }
    let der = ca.issue_crl(&settings)?;
    write_cert(&args.out, &crl_pem(&der))?;
    eprintln!("wrote {}", args.out.display());
    Ok(Outcome::Ok)
}
