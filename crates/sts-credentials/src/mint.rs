//! Minting temporary credentials and sealing them into stateless session tokens.
//!
//! Token layout (before URL-safe base64 without padding):
//!
//! ```text
//! header = version (1 byte, 0x01) | key ID length (1 byte, 1..=32) | key ID (ASCII)
//! token  = header | nonce (12 bytes) | AES-256-GCM(plaintext, aad = header) | tag (16 bytes)
//! plaintext = expiry (u64 BE, Unix seconds)
//!           | access key ID (u8 length + bytes) | secret (u8 length + bytes)
//!           | principal ARN (u16 BE length + bytes) | session name (u8 length + bytes)
//! ```
//!
//! The key ID is authenticated as associated data, the access key ID is sealed so a token
//! cannot be paired with another key, and the encoding is canonical (no padding, no trailing
//! bits, no trailing bytes), so any change to a token's text is rejected.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::SecureRandom;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use zeroize::{Zeroize, Zeroizing};

use crate::Error;

const VERSION: u8 = 1;
const TAG_LEN: usize = 16;
const MAX_KEY_ID: usize = 32;
/// Longest token text accepted by [`KeyRing::open`] (before decoding).
pub const MAX_TOKEN_LEN: usize = 4096;
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// One AES-256-GCM sealing key with its ID. The key bytes are zeroized on drop.
pub struct SealingKey {
    id: String,
    key: LessSafeKey,
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealingKey")
            .field("id", &self.id)
            .field("key", &"** redacted **")
            .finish()
    }
}

impl SealingKey {
    /// A key from 32 bytes. The ID is 1 to 32 characters of `[A-Za-z0-9._-]`.
    pub fn new(id: impl Into<String>, mut bytes: [u8; 32]) -> Result<Self, Error> {
        let id = id.into();
        if id.is_empty()
            || id.len() > MAX_KEY_ID
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            bytes.zeroize();
            return Err(Error::InvalidSetting {
                setting: "key ID".into(),
                reason: "must be 1 to 32 characters of [A-Za-z0-9._-]".into(),
            });
        }
        let unbound = UnboundKey::new(&AES_256_GCM, &bytes);
        bytes.zeroize();
        let unbound = unbound.map_err(|_| Error::InvalidSetting {
            setting: "key".into(),
            reason: "AES-256-GCM rejected the key".into(),
        })?;
        Ok(Self {
            id,
            key: LessSafeKey::new(unbound),
        })
    }

    /// A fresh random key.
    pub fn generate(id: impl Into<String>, random: &dyn SecureRandom) -> Result<Self, Error> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        random
            .fill(bytes.as_mut())
            .map_err(|_| Error::InvalidSetting {
                setting: "randomness".into(),
                reason: "the random source failed".into(),
            })?;
        Self::new(id, *bytes)
    }

    /// The key ID.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Sealing keys, newest last: [`KeyRing::mint`] seals with the newest, [`KeyRing::open`]
/// accepts any key still in the ring.
#[derive(Debug)]
pub struct KeyRing {
    keys: Vec<SealingKey>,
}

/// What to mint: the principal, its session name and how long the credentials live.
#[derive(Debug, Clone)]
pub struct MintRequest {
    principal_arn: String,
    session_name: String,
    duration: Duration,
}

impl MintRequest {
    /// Credentials for `principal_arn` named `session_name`, valid for `duration`.
    pub fn new(
        principal_arn: impl Into<String>,
        session_name: impl Into<String>,
        duration: Duration,
    ) -> Self {
        Self {
            principal_arn: principal_arn.into(),
            session_name: session_name.into(),
            duration,
        }
    }
}

/// What a session token proves once opened.
pub struct SessionClaims {
    access_key_id: String,
    secret_access_key: Zeroizing<String>,
    principal_arn: String,
    session_name: String,
    expiry: SystemTime,
    key_id: String,
}

impl fmt::Debug for SessionClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionClaims")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field("principal_arn", &self.principal_arn)
            .field("session_name", &self.session_name)
            .field("expiry", &crate::time::rfc3339(self.expiry))
            .field("key_id", &self.key_id)
            .finish()
    }
}

impl SessionClaims {
    /// The `ASIA…` access key ID the token belongs to.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }
    /// The secret access key, for verifying the request signature.
    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }
    /// The principal the credentials act as.
    pub fn principal_arn(&self) -> &str {
        &self.principal_arn
    }
    /// The session name.
    pub fn session_name(&self) -> &str {
        &self.session_name
    }
    /// When the credentials expire.
    pub fn expiry(&self) -> SystemTime {
        self.expiry
    }
    /// The ID of the key that sealed the token.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
}

/// Freshly minted temporary credentials.
pub struct MintedCredentials {
    claims: SessionClaims,
    session_token: String,
}

impl fmt::Debug for MintedCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MintedCredentials")
            .field("claims", &self.claims)
            .field("session_token", &"** redacted **")
            .finish()
    }
}

impl MintedCredentials {
    /// The access key ID (`ASIA` + 16 base32 characters).
    pub fn access_key_id(&self) -> &str {
        &self.claims.access_key_id
    }
    /// The 40-character secret access key.
    pub fn secret_access_key(&self) -> &str {
        &self.claims.secret_access_key
    }
    /// The session token.
    pub fn session_token(&self) -> &str {
        &self.session_token
    }
    /// When they expire.
    pub fn expiry(&self) -> SystemTime {
        self.claims.expiry
    }
    /// The claims sealed in the token.
    pub fn claims(&self) -> &SessionClaims {
        &self.claims
    }
    /// As `aws_credential_types::Credentials`.
    pub fn to_credentials(&self) -> Credentials {
        Credentials::builder()
            .access_key_id(self.access_key_id())
            .secret_access_key(self.secret_access_key())
            .session_token(self.session_token())
            .expiry(self.expiry())
            .provider_name("edgeward-minted")
            .build()
    }
}

impl Drop for MintedCredentials {
    fn drop(&mut self) {
        self.session_token.zeroize();
    }
}

fn random_bytes<const N: usize>(random: &dyn SecureRandom) -> Result<Zeroizing<[u8; N]>, Error> {
    let mut bytes = Zeroizing::new([0u8; N]);
    random
        .fill(bytes.as_mut())
        .map_err(|_| Error::InvalidSetting {
            setting: "randomness".into(),
            reason: "the random source failed".into(),
        })?;
    Ok(bytes)
}

/// 10 random bytes are exactly 16 base32 characters.
fn access_key_id(random: &dyn SecureRandom) -> Result<String, Error> {
    let bytes = random_bytes::<10>(random)?;
    let mut out = String::with_capacity(20);
    out.push_str("ASIA");
    let mut buffer: u64 = 0;
    let mut bits = 0;
    for &b in bytes.iter() {
        buffer = (buffer << 8) | u64::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((buffer >> bits) & 31) as usize] as char);
        }
    }
    Ok(out)
}

/// 30 random bytes are exactly 40 base64 characters (`A-Za-z0-9+/`), like AWS secrets.
fn secret_access_key(random: &dyn SecureRandom) -> Result<Zeroizing<String>, Error> {
    let bytes = random_bytes::<30>(random)?;
    Ok(Zeroizing::new(
        base64::engine::general_purpose::STANDARD.encode(bytes.as_ref()),
    ))
}

fn unix_seconds(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn malformed(reason: &'static str) -> Error {
    Error::TokenMalformed { reason }
}

impl KeyRing {
    /// A ring holding one key.
    pub fn new(key: SealingKey) -> Self {
        Self { keys: vec![key] }
    }

    /// Adds `key` as the newest: new tokens are sealed with it; tokens of older keys still
    /// open. A key with the same ID replaces the old one.
    pub fn rotate(&mut self, key: SealingKey) {
        self.keys.retain(|k| k.id != key.id);
        self.keys.push(key);
    }

    /// Removes a key: its tokens no longer open. Returns whether it was present.
    pub fn retire(&mut self, id: &str) -> bool {
        let before = self.keys.len();
        self.keys.retain(|k| k.id != id);
        before != self.keys.len()
    }

    /// The IDs, oldest first.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.id.as_str())
    }

    /// Mints credentials valid from `now` for the request's duration, sealed with the newest
    /// key.
    pub fn mint(
        &self,
        request: &MintRequest,
        now: SystemTime,
        random: &dyn SecureRandom,
    ) -> Result<MintedCredentials, Error> {
        let key = self.keys.last().ok_or(Error::EmptyKeyRing)?;
        if request.principal_arn.is_empty() || request.principal_arn.len() > 2048 {
            return Err(Error::InvalidSetting {
                setting: "principal ARN".into(),
                reason: "must be 1 to 2048 bytes".into(),
            });
        }
        if request.session_name.is_empty() || request.session_name.len() > 64 {
            return Err(Error::InvalidSetting {
                setting: "session name".into(),
                reason: "must be 1 to 64 bytes".into(),
            });
        }
        let expiry_secs = unix_seconds(now).saturating_add(request.duration.as_secs());
        let expiry = UNIX_EPOCH + Duration::from_secs(expiry_secs);
        let access_key_id = access_key_id(random)?;
        let secret = secret_access_key(random)?;

        let mut plaintext = Zeroizing::new(Vec::with_capacity(
            8 + 1 + 20 + 1 + 40 + 2 + request.principal_arn.len() + 1 + request.session_name.len(),
        ));
        plaintext.extend_from_slice(&expiry_secs.to_be_bytes());
        plaintext.push(access_key_id.len() as u8);
        plaintext.extend_from_slice(access_key_id.as_bytes());
        plaintext.push(secret.len() as u8);
        plaintext.extend_from_slice(secret.as_bytes());
        // Lengths checked above: ARN <= 2048 fits u16, session name <= 64 fits u8.
        plaintext.extend_from_slice(&(request.principal_arn.len() as u16).to_be_bytes());
        plaintext.extend_from_slice(request.principal_arn.as_bytes());
        plaintext.push(request.session_name.len() as u8);
        plaintext.extend_from_slice(request.session_name.as_bytes());

        let mut header = Vec::with_capacity(2 + key.id.len());
        header.push(VERSION);
        header.push(key.id.len() as u8);
        header.extend_from_slice(key.id.as_bytes());
        let nonce_bytes = random_bytes::<NONCE_LEN>(random)?;
        let nonce = Nonce::assume_unique_for_key(*nonce_bytes);

        let mut sealed = plaintext.to_vec();
        key.key
            .seal_in_place_append_tag(nonce, Aad::from(&header[..]), &mut sealed)
            .map_err(|_| Error::InvalidSetting {
                setting: "key".into(),
                reason: "sealing failed".into(),
            })?;
        let mut token = header;
        token.extend_from_slice(nonce_bytes.as_ref());
        token.extend_from_slice(&sealed);
        let session_token = URL_SAFE_NO_PAD.encode(&token);
        Ok(MintedCredentials {
            claims: SessionClaims {
                access_key_id,
                secret_access_key: secret,
                principal_arn: request.principal_arn.clone(),
                session_name: request.session_name.clone(),
                expiry,
                key_id: key.id.clone(),
            },
            session_token,
        })
    }

    /// Opens a session token: its claims if it is authentic, sealed by a key in the ring, and
    /// not expired at `now`.
    pub fn open(&self, token: &str, now: SystemTime) -> Result<SessionClaims, Error> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(malformed("longer than the maximum token length"));
        }
        let raw = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| malformed("not canonical URL-safe base64"))?;
        let (&version, rest) = raw.split_first().ok_or(malformed("empty"))?;
        if version != VERSION {
            return Err(malformed("unknown version"));
        }
        let (&id_len, rest) = rest.split_first().ok_or(malformed("truncated header"))?;
        let id_len = usize::from(id_len);
        if id_len == 0 || id_len > MAX_KEY_ID || rest.len() < id_len + NONCE_LEN + TAG_LEN {
            return Err(malformed("truncated"));
        }
        let (id_bytes, rest) = rest.split_at(id_len);
        let key_id = std::str::from_utf8(id_bytes).map_err(|_| malformed("key ID is not UTF-8"))?;
        let header = &raw[..2 + id_len];
        let key =
            self.keys
                .iter()
                .find(|k| k.id == key_id)
                .ok_or_else(|| Error::TokenUnknownKey {
                    key_id: key_id.to_owned(),
                })?;
        let (nonce_bytes, sealed) = rest.split_at(NONCE_LEN);
        let nonce =
            Nonce::try_assume_unique_for_key(nonce_bytes).map_err(|_| malformed("nonce"))?;
        let mut buffer = Zeroizing::new(sealed.to_vec());
        let plaintext = key
            .key
            .open_in_place(nonce, Aad::from(header), buffer.as_mut_slice())
            .map_err(|_| Error::TokenTampered)?;
        let claims = parse_claims(plaintext, key_id)?;
        if now >= claims.expiry {
            return Err(Error::TokenExpired {
                expired_at: claims.expiry,
            });
        }
        Ok(claims)
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if self.0.len() < n {
            return Err(malformed("sealed claims truncated"));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }
    fn u8_prefixed(&mut self) -> Result<&'a [u8], Error> {
        let n = usize::from(self.take(1)?[0]);
        self.take(n)
    }
    fn string(bytes: &[u8]) -> Result<String, Error> {
        String::from_utf8(bytes.to_vec()).map_err(|_| malformed("sealed claim is not UTF-8"))
    }
}

fn parse_claims(plaintext: &[u8], key_id: &str) -> Result<SessionClaims, Error> {
    let mut r = Reader(plaintext);
    let mut expiry = [0u8; 8];
    expiry.copy_from_slice(r.take(8)?);
    let expiry = UNIX_EPOCH
        .checked_add(Duration::from_secs(u64::from_be_bytes(expiry)))
        .ok_or(malformed("expiry out of range"))?;
    let access_key_id = Reader::string(r.u8_prefixed()?)?;
    let secret = Zeroizing::new(Reader::string(r.u8_prefixed()?)?);
    let arn_len = r.take(2)?;
    let arn_len = usize::from(u16::from_be_bytes([arn_len[0], arn_len[1]]));
    let principal_arn = Reader::string(r.take(arn_len)?)?;
    let session_name = Reader::string(r.u8_prefixed()?)?;
    if !r.0.is_empty() {
        return Err(malformed("trailing bytes in sealed claims"));
    }
    Ok(SessionClaims {
        access_key_id,
        secret_access_key: secret,
        principal_arn,
        session_name,
        expiry,
        key_id: key_id.to_owned(),
    })
}
