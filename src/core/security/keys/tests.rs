//! Unit tests of key generation, loading, the JWKS and derived secrets.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;

use super::*;

/// A key ring over a freshly generated Ed25519 key file, for tests elsewhere in the crate.
pub(crate) fn generated_ring(dir: &Path) -> KeyRing {
    generated_ring_with(dir, SigningAlgorithm::EdDSA, &[])
}

/// A key ring signing with a fresh key of `algorithm` that also publishes `older`.
pub(crate) fn generated_ring_with(
    dir: &Path,
    algorithm: SigningAlgorithm,
    older: &[PublicKey],
) -> KeyRing {
    let path = dir.join(format!("signing-{algorithm}.pem"));
    KeyRing::generate_file(&path, algorithm).expect("generate");
    KeyRing::new(&private_key(&path), older).expect("ring")
}

pub(crate) fn private_key(path: &Path) -> PrivateKey {
    match read_key(path).expect("read") {
        ParsedKey::Private(key) => key,
        ParsedKey::Public(_) => panic!("{} must hold a private key", path.display()),
    }
}

#[test]
fn generated_keys_are_private_pkcs8_with_owner_only_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("keys/signing.pem");
    let kid = KeyRing::generate_file(&path, SigningAlgorithm::EdDSA).expect("generate");
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
    KeyRing::generate_file(&path, SigningAlgorithm::EdDSA).expect("generate");
    let PrivateKey::Ed25519(key) = private_key(&path) else { panic!("an Ed25519 key") };
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
    let PrivateKey::Ed25519(loaded) = private_key(&path) else { panic!("an Ed25519 key") };
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
    KeyRing::generate_file(&path, SigningAlgorithm::EdDSA).expect("first");
    assert!(matches!(
        KeyRing::generate_file(&path, SigningAlgorithm::EdDSA),
        Err(KeyError::Write { .. })
    ));
}

#[test]
fn jwks_publishes_signing_and_older_keys_once_each() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (old, new) = (dir.path().join("old.pem"), dir.path().join("new.pem"));
    let old_kid = KeyRing::generate_file(&old, SigningAlgorithm::EdDSA).expect("old");
    let new_kid = KeyRing::generate_file(&new, SigningAlgorithm::EdDSA).expect("new");
    let signing = private_key(&new);
    let older = [read_key(&old).expect("read").public_key(), signing.public_key()];
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
    let (jwk, kid) = PublicKey::Ed25519(key).jwk().expect("jwk");
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
fn files_that_are_not_ed25519_or_p256_keys_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("junk.pem");
    std::fs::write(&path, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        .expect("write");
    assert!(matches!(read_key(&path), Err(KeyError::Parse { .. })));
}

#[test]
fn generated_p256_keys_are_pkcs8_that_openssl_reads() {
    use ed25519_dalek::pkcs8::EncodePublicKey;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("es256.pem");
    let kid = KeyRing::generate_file(&path, SigningAlgorithm::ES256).expect("generate");
    let pem = std::fs::read_to_string(&path).expect("read");
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "PKCS#8, not SEC1");
    let PrivateKey::P256(key) = private_key(&path) else { panic!("a P-256 key") };
    let ours = key.public_key().to_public_key_pem(LineEnding::LF).expect("encode");
    assert_eq!(openssl_public_key(&path), ours);
    assert_eq!(PublicKey::P256(key.public_key()).jwk().expect("jwk").1, kid);
}

#[test]
fn p256_keys_from_openssl_load_private_and_public() {
    let dir = tempfile::tempdir().expect("tempdir");
    let private = dir.path().join("p256.pem");
    let status = std::process::Command::new("openssl")
        .args(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out"])
        .arg(&private)
        .status()
        .expect("openssl is installed");
    assert!(status.success());
    let public = dir.path().join("p256.pub.pem");
    std::fs::write(&public, openssl_public_key(&private)).expect("write");
    let from_private = private_key(&private).public_key().jwk().expect("jwk");
    let ParsedKey::Public(from_public) = read_key(&public).expect("read") else {
        panic!("a public key file is public");
    };
    assert_eq!(from_public.algorithm(), SigningAlgorithm::ES256);
    assert_eq!(from_public.jwk().expect("jwk").1, from_private.1, "same key, same kid");
}

#[test]
fn published_p256_keys_have_es256_members_and_their_rfc7638_kid() {
    use sha2::Digest;
    let key = p256::SecretKey::from_slice(&[7; 32]).expect("scalar").public_key();
    let (jwk, kid) = PublicKey::P256(key).jwk().expect("jwk");
    let json = serde_json::to_value(&jwk).expect("json");
    let (x, y) = (json["x"].as_str().expect("x"), json["y"].as_str().expect("y"));
    assert_eq!(URL_SAFE_NO_PAD.decode(x).expect("b64").len(), 32);
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    assert_eq!(kid, URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())));
    let expected = serde_json::json!({
        "kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "alg": "ES256", "use": "sig",
    });
    assert_eq!(json, expected);
}

fn settings_in(dir: &Path, algorithm: SigningAlgorithm) -> Settings {
    let mut settings = Settings { data_dir: dir.to_owned(), ..Settings::default() };
    settings.auth.signing_algorithm = algorithm;
    settings
}

#[test]
fn es256_development_keys_live_beside_the_ed25519_one_and_are_reused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ring = KeyRing::load(&settings_in(dir.path(), SigningAlgorithm::ES256)).expect("load");
    assert_eq!(ring.signing_algorithm(), SigningAlgorithm::ES256);
    assert!(dir.path().join("keys/signing-es256.pem").exists());
    assert!(!dir.path().join("keys/signing.pem").exists(), "no Ed25519 key was needed");
    let again = KeyRing::load(&settings_in(dir.path(), SigningAlgorithm::ES256)).expect("reload");
    assert_eq!(again.signing_kid(), ring.signing_kid());
    assert_eq!(again.derive_secret("p"), ring.derive_secret("p"), "same key, same secrets");
}

#[test]
fn a_signing_key_of_the_other_algorithm_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ed.pem");
    KeyRing::generate_file(&path, SigningAlgorithm::EdDSA).expect("generate");
    let mut settings = settings_in(dir.path(), SigningAlgorithm::ES256);
    settings.auth.signing_key_file = Some(path);
    let error = KeyRing::load(&settings).expect_err("an Ed25519 key cannot sign ES256");
    assert!(matches!(error, KeyError::WrongAlgorithm { .. }), "{error}");
    assert!(error.to_string().contains("--algorithm ES256"), "{error}");
}

#[test]
fn verification_keys_may_mix_algorithms_and_each_keeps_its_own() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (old_ed, new_es) = (dir.path().join("old-ed.pem"), dir.path().join("new-es.pem"));
    let old_kid = KeyRing::generate_file(&old_ed, SigningAlgorithm::EdDSA).expect("old");
    let new_kid = KeyRing::generate_file(&new_es, SigningAlgorithm::ES256).expect("new");
    let mut settings = settings_in(dir.path(), SigningAlgorithm::ES256);
    settings.auth.signing_key_file = Some(new_es);
    settings.auth.verification_key_files = vec![old_ed];
    let ring = KeyRing::load(&settings).expect("load");
    assert_eq!(ring.signing_kid(), new_kid);
    assert_eq!(ring.decoding_key(&new_kid).expect("new").1, Algorithm::ES256);
    assert_eq!(ring.decoding_key(&old_kid).expect("old").1, Algorithm::EdDSA);
    assert_eq!(ring.algorithms(), [Algorithm::ES256, Algorithm::EdDSA], "signing key's first");
    let jwks = serde_json::to_value(ring.jwks()).expect("json");
    let algs: Vec<&str> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["alg"].as_str().expect("alg"))
        .collect();
    assert_eq!(algs, ["ES256", "EdDSA"]);
}
