//! Unit tests of key generation, loading, the JWKS and derived secrets.

use super::*;

/// A key ring over freshly generated files, for tests elsewhere in the crate.
pub(crate) fn generated_ring(dir: &Path) -> KeyRing {
    let path = dir.join("signing.pem");
    KeyRing::generate_file(&path).expect("generate");
    let ParsedKey::Private(key) = read_key(&path).expect("read") else {
        panic!("generated key must be private");
    };
    KeyRing::new(&key, &[]).expect("ring")
}

#[test]
fn generated_keys_are_private_pkcs8_with_owner_only_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("keys/signing.pem");
    let kid = KeyRing::generate_file(&path).expect("generate");
    let pem = std::fs::read_to_string(&path).expect("read");
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let mode = std::fs::metadata(&path).expect("metadata").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(kid.len(), 43, "base64url SHA-256");
}

/// The public key `openssl pkey -pubout` derives from the private key file at `path`.
pub(crate) fn openssl_public_key(path: &Path) -> String {
    let output = std::process::Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(path)
        .output()
        .expect("openssl is installed");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "openssl refused the key: {stderr}");
    String::from_utf8(output.stdout).expect("PEM is ASCII")
}

#[test]
fn generated_keys_are_pkcs8_v1_that_openssl_reads() {
    use ed25519_dalek::pkcs8::EncodePublicKey;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("signing.pem");
    KeyRing::generate_file(&path).expect("generate");
    let ParsedKey::Private(key) = read_key(&path).expect("read") else {
        panic!("generated key must be private");
    };
    let ours = key.verifying_key().to_public_key_pem(LineEnding::LF).expect("encode");
    assert_eq!(openssl_public_key(&path), ours);
    // v1: SEQUENCE { version 0, algorithm, seed } is 48 bytes; v2 adds the public key.
    let der = std::fs::read_to_string(&path).expect("read");
    let (_, document) = ed25519_dalek::pkcs8::SecretDocument::from_pem(&der).expect("PEM");
    assert_eq!(document.as_bytes().len(), 48, "PKCS#8 v1 carries the seed only");
}

#[test]
fn pkcs8_v2_keys_written_by_earlier_versions_still_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v2.pem");
    let key = SigningKey::from_bytes(&[9; 32]);
    let pem = key.to_pkcs8_pem(LineEnding::LF).expect("encode v2");
    std::fs::write(&path, pem.as_bytes()).expect("write");
    let ParsedKey::Private(loaded) = read_key(&path).expect("read") else {
        panic!("a v2 private key is private");
    };
    assert_eq!(loaded.to_bytes(), key.to_bytes());
}

#[test]
fn derived_secrets_are_hkdf_of_the_seed_and_differ_per_purpose() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ring = generated_ring(dir.path());
    let refresh = ring.derive_secret("refresh-token-successor");
    assert_eq!(refresh, ring.derive_secret("refresh-token-successor"), "deterministic");
    assert_ne!(refresh, ring.derive_secret("something-else"));
    let mut expected = [0u8; 32];
    Hkdf::<Sha256>::new(Some(b"warren"), ring.seed.as_ref())
        .expand(b"warren derived secret v1\0refresh-token-successor", &mut expected)
        .expect("expand");
    assert_eq!(refresh, expected, "RFC 5869, checkable by any HKDF implementation");
}

#[test]
fn generating_never_overwrites_an_existing_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("signing.pem");
    KeyRing::generate_file(&path).expect("first");
    assert!(matches!(KeyRing::generate_file(&path), Err(KeyError::Write { .. })));
}

#[test]
fn jwks_publishes_signing_and_older_keys_once_each() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (old, new) = (dir.path().join("old.pem"), dir.path().join("new.pem"));
    let old_kid = KeyRing::generate_file(&old).expect("old");
    let new_kid = KeyRing::generate_file(&new).expect("new");
    let signing = match read_key(&new).expect("read") {
        ParsedKey::Private(key) => key,
        ParsedKey::Public(_) => panic!("private expected"),
    };
    let older = [read_key(&old).expect("read").verifying_key(), signing.verifying_key()];
    let ring = KeyRing::new(&signing, &older).expect("ring");
    let jwks = serde_json::to_value(ring.jwks()).expect("json");
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid"))
        .collect();
    assert_eq!(kids, [new_kid.as_str(), old_kid.as_str()]);
    assert_eq!(ring.signing_kid(), new_kid);
    assert!(ring.decoding_key(&old_kid).is_some());
    assert!(jwks["keys"][0].get("d").is_none(), "private part must never be published");
}

#[test]
fn published_keys_have_the_members_and_kid_they_always_had() {
    use sha2::Digest;
    let key = SigningKey::from_bytes(&[5; 32]).verifying_key();
    let (jwk, kid) = public_jwk(&key).expect("jwk");
    let x = URL_SAFE_NO_PAD.encode(key.as_bytes());
    // RFC 7638 §3.2 by hand: kids must not change when the code computing them does.
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    assert_eq!(kid, URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())));
    let expected = serde_json::json!({
        "kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig",
    });
    assert_eq!(serde_json::to_value(&jwk).expect("json"), expected);
}

#[test]
fn files_that_are_not_ed25519_keys_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("junk.pem");
    std::fs::write(&path, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        .expect("write");
    assert!(matches!(read_key(&path), Err(KeyError::Parse { .. })));
}
