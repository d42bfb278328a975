//! `warren check-config`: tries what serve would and ends with one verdict.

use std::os::unix::fs::PermissionsExt;

use crate::Operator;

#[test]
fn check_config_summarises_cors_proxies_limits_and_the_key_then_gives_one_verdict() {
    let operator = Operator::new();
    let generated = operator.succeeds(&["keys", "generate", "--out", "data/keys/signing.pem"], &[]);
    let kid = generated.trim().rsplit_once("kid ").expect("kid printed").1.trim_end_matches(')');
    let env = [
        ("WARREN_SERVER__PORT", "0"),
        ("WARREN_CORS__ALLOWED_ORIGINS", "[http://localhost:5173]"),
        ("WARREN_TRUSTED_PROXIES", "[10.0.0.0/8]"),
    ];
    operator.succeeds(&["migrate", "up"], &env);
    let summary = operator.succeeds(&["check-config"], &env);
    for expected in [kid, "http://localhost:5173", "10.0.0.0/8", "10/min", "all applied"] {
        assert!(summary.contains(expected), "{expected} missing from {summary}");
    }
    assert_eq!(summary.matches("verdict:").count(), 1, "{summary}");
    assert!(summary.trim_end().ends_with("ready: serve would start with this configuration"));
}

#[test]
fn check_config_fails_on_pending_migrations_when_serve_would_not_apply_them() {
    let operator = Operator::new();
    operator.succeeds(&["migrate", "up"], &[]);
    operator.succeeds(&["migrate", "down"], &[]);
    let env = [("WARREN_DATABASE__AUTO_MIGRATE", "false"), ("WARREN_SERVER__PORT", "0")];
    let report = operator.fails(&["check-config"], &env);
    assert!(report.contains("1 migration(s) pending"), "{report}");
    assert!(report.contains("warren migrate up"), "{report}");
    assert!(report.contains("verdict: NOT ready"), "{report}");
}

#[test]
fn check_config_in_production_warns_about_a_key_others_can_read() {
    let operator = Operator::new();
    operator.succeeds(&["keys", "generate", "--out", "prod.pem"], &[]);
    let key = operator.path().join("prod.pem");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let env = [
        ("WARREN_ENV", "production"),
        ("WARREN_AUTH__ISSUER", "https://accounts.example.com"),
        ("WARREN_SERVER__PUBLIC_URL", "https://accounts.example.com"),
        ("WARREN_AUTH__SIGNING_KEY_FILE", "prod.pem"),
        ("WARREN_MFA__ENCRYPTION_KEY", "a passphrase of at least thirty-two characters"),
        ("WARREN_SERVER__PORT", "0"),
        ("WARREN_EMAIL__TRANSPORT", "smtp"),
        ("WARREN_EMAIL__SMTP_URL", "smtp://127.0.0.1:2525"),
        ("WARREN_EMAIL__LINKS__VERIFY_EMAIL", "https://app.example.com/verify#token={token}"),
        ("WARREN_EMAIL__LINKS__RESET_PASSWORD", "https://app.example.com/reset#token={token}"),
        ("WARREN_EMAIL__LINKS__CONFIRM_EMAIL_CHANGE", "https://app.example.com/c#token={token}"),
    ];
    let report = operator.succeeds(&["check-config"], &env);
    assert!(report.contains("warning: prod.pem is readable by group or others"), "{report}");

    let mut unsafe_mail = env.to_vec();
    unsafe_mail.push(("WARREN_EMAIL__SMTP_URL", "smtp://smtp.example.com:587"));
    unsafe_mail
        .push(("WARREN_EMAIL__LINKS__VERIFY_EMAIL", "http://app.example.com/v#token={token}"));
    let report = operator.fails(&["check-config"], &unsafe_mail);
    for key in ["email.smtp_url", "email.links.verify_email"] {
        assert!(report.contains(key), "check-config must name {key}: {report}");
    }
}
