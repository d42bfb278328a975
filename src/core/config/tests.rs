//! Loading and validating settings from every source, in a jailed environment.

// figment::Jail's closures return its own large error.
#![allow(clippy::result_large_err)]

use figment::Jail;

use super::cors::validate_origin;
use super::*;

fn load_in(jail: &Jail) -> Result<Settings, ConfigError> {
    Settings::from_figment(&Settings::figment(&jail.directory().join("warren.toml")))
}

#[test]
fn defaults_match_the_contract() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        let settings = load_in(jail).expect("defaults are valid");
        assert_eq!(settings.env, Environment::Development);
        assert_eq!(settings.server.port, 8000);
        assert_eq!(settings.server.host.to_string(), "127.0.0.1");
        assert_eq!(settings.database_url(), "sqlite://./data/warren.db");
        assert!(settings.database.auto_migrate);
        assert_eq!(settings.auth.issuer, "http://localhost:8000");
        assert_eq!(settings.auth.audience, "warren");
        assert_eq!(settings.auth.access_token_ttl_secs, 900);
        assert_eq!(settings.auth.refresh_idle_ttl_secs, 1_209_600);
        assert_eq!(settings.auth.refresh_absolute_ttl_secs, 2_592_000);
        assert_eq!(settings.auth.refresh_reuse_grace_secs, 10);
        assert_eq!(settings.password.min_length, 12);
        assert_eq!(settings.log_format(), LogFormat::Pretty);
        Ok(())
    });
}

#[test]
fn environment_overrides_file_which_overrides_defaults() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file("warren.toml", "[server]\nport = 9000\nhost = \"0.0.0.0\"\n")?;
        jail.set_env("WARREN_SERVER__PORT", "9100");
        jail.set_env("WARREN_CORS__ALLOWED_ORIGINS", "[https://app.example.com]");
        let settings = load_in(jail).expect("valid");
        assert_eq!(settings.server.port, 9100);
        assert_eq!(settings.server.host.to_string(), "0.0.0.0");
        assert_eq!(settings.cors.allowed_origins, ["https://app.example.com"]);
        Ok(())
    });
}

#[test]
fn database_url_is_honoured_and_warren_specific_key_wins() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("DATABASE_URL", "postgres://db.example/warren");
        assert_eq!(load_in(jail).expect("valid").database_url(), "postgres://db.example/warren");
        jail.set_env("WARREN_DATABASE__URL", "sqlite://other.db");
        assert_eq!(load_in(jail).expect("valid").database_url(), "sqlite://other.db");
        Ok(())
    });
}

#[test]
fn errors_name_the_bad_key() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("WARREN_SERVER__PORT", "eighty");
        let message = load_in(jail).expect_err("port is not a number").to_string();
        assert!(message.contains("server.port"), "{message}");
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file("warren.toml", "[server]\nprot = 1\n")?;
        let message = load_in(jail).expect_err("typo").to_string();
        assert!(message.contains("prot"), "{message}");
        Ok(())
    });
}

#[test]
fn invalid_values_are_all_reported() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("WARREN_PASSWORD__MIN_LENGTH", "6");
        jail.set_env("WARREN_CORS__ALLOWED_ORIGINS", "[\"*\"]");
        jail.set_env("WARREN_AUTH__ISSUER", " ");
        let message = load_in(jail).expect_err("invalid").to_string();
        for key in ["password.min_length", "cors.allowed_origins", "auth.issuer"] {
            assert!(message.contains(key), "{key} missing from {message}");
        }
        Ok(())
    });
}

#[test]
fn production_refuses_generated_keys_and_localhost_issuer() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("WARREN_ENV", "production");
        let message = load_in(jail).expect_err("unsafe").to_string();
        assert!(message.contains("auth.signing_key_file"), "{message}");
        assert!(message.contains("mfa.encryption_key"), "{message}");
        assert!(message.contains("auth.issuer"), "{message}");
        assert!(message.contains("https://"), "{message}");
        Ok(())
    });
}

#[test]
fn debug_output_hides_the_database_password() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("DATABASE_URL", "postgres://warren:hunter2@db/warren");
        let settings = load_in(jail).expect("valid");
        assert!(!format!("{settings:?}").contains("hunter2"));
        Ok(())
    });
}

#[test]
fn origins_must_be_exact() {
    assert!(validate_origin("https://app.example.com").is_ok());
    assert!(validate_origin("http://localhost:5173").is_ok());
    for bad in [
        "*",
        "null",
        "https://app.example.com/",
        "app.example.com",
        "https://*.example.com",
        "https://App.example.com",
    ] {
        assert!(validate_origin(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_huge_session_lifetime_is_refused_naming_the_variable_that_set_it() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("WARREN_AUTH__REFRESH_ABSOLUTE_TTL_SECS", "18446744073709551615");
        let message = load_in(jail).expect_err("overflowing ttl").to_string();
        assert!(message.contains("auth.refresh_absolute_ttl_secs"), "{message}");
        assert!(message.contains("WARREN_AUTH__REFRESH_ABSOLUTE_TTL_SECS"), "{message}");
        assert!(message.contains(&MAX_SESSION_TTL_SECS.to_string()), "{message}");
        Ok(())
    });
}

#[test]
fn production_refuses_loopback_issuers_debug_logs_disabled_limits_and_plain_http_origins() {
    for issuer in ["https://127.0.0.1:8000", "https://[::1]/", "https://LOCALHOST"] {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("WARREN_ENV", "production");
            jail.set_env("WARREN_AUTH__ISSUER", issuer);
            let message = load_in(jail).expect_err("loopback issuer").to_string();
            assert!(message.contains("not localhost"), "{issuer}: {message}");
            Ok(())
        });
    }
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("WARREN_ENV", "production");
        jail.set_env("WARREN_LOG__LEVEL", "info,warren=debug");
        jail.set_env("RUST_LOG", "trace");
        jail.set_env("WARREN_RATE_LIMIT__ENABLED", "false");
        jail.set_env(
            "WARREN_CORS__ALLOWED_ORIGINS",
            "[http://app.example.com, http://localhost:5173]",
        );
        let message = load_in(jail).expect_err("unsafe production").to_string();
        for expected in
            ["log.level", "RUST_LOG", "rate_limit.enabled", "\"http://app.example.com\""]
        {
            assert!(message.contains(expected), "{expected} missing from {message}");
        }
        assert!(!message.contains("localhost:5173"), "{message}");
        Ok(())
    });
}

#[test]
fn a_safe_production_configuration_is_accepted() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("WARREN_ENV", "production");
        jail.set_env("WARREN_AUTH__ISSUER", "https://accounts.example.com");
        jail.set_env("WARREN_SERVER__PUBLIC_URL", "https://accounts.example.com");
        jail.set_env("WARREN_AUTH__SIGNING_KEY_FILE", "/etc/warren/signing.pem");
        jail.set_env(
            "WARREN_MFA__ENCRYPTION_KEY",
            "base64:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        );
        jail.set_env("WARREN_CORS__ALLOWED_ORIGINS", "[https://app.example.com]");
        jail.set_env("WARREN_EMAIL__TRANSPORT", "smtp");
        jail.set_env("WARREN_EMAIL__SMTP_URL", "smtps://mailer:secret@smtp.example.com:465");
        https_links(jail);
        let settings = load_in(jail).expect("safe production settings");
        assert!(!format!("{settings:?}").contains("secret"), "the SMTP password stays hidden");
        assert_eq!(settings.log_format(), LogFormat::Json);
        Ok(())
    });
}

#[test]
fn every_unknown_key_is_reported_as_typed_with_the_nearest_key() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("WARREN_SERVER__PROT", "9000");
        jail.set_env("WARREN_LOG__LEVLE", "info");
        jail.create_file(
            "warren.toml",
            "[server]\nhost = \"127.0.0.1\"\n\n[cors]\norigins = []\n",
        )?;
        let message = load_in(jail).expect_err("typos").to_string();
        assert!(message.contains("WARREN_SERVER__PROT: unknown setting"), "{message}");
        assert!(message.contains("did you mean WARREN_SERVER__PORT?"), "{message}");
        assert!(message.contains("did you mean WARREN_LOG__LEVEL?"), "{message}");
        assert!(message.contains("cors.origins in"), "{message}");
        assert!(message.contains("warren.toml:5"), "{message}");
        assert!(message.contains("did you mean cors.allowed_origins?"), "{message}");
        assert!(!message.contains('`'), "{message}");
        Ok(())
    });
}

#[test]
fn a_malformed_value_names_the_environment_variable() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("WARREN_SERVER__PORT", "eighty");
        let message = load_in(jail).expect_err("port is not a number").to_string();
        assert!(message.contains("server.port (WARREN_SERVER__PORT): invalid type"), "{message}");
        assert!(!message.contains('`'), "{message}");
        Ok(())
    });
}

#[test]
fn email_settings_are_checked_and_production_refuses_the_file_transport() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("WARREN_ENV", "production");
        jail.set_env("WARREN_EMAIL__MAX_ATTEMPTS", "0");
        jail.set_env("WARREN_EMAIL__RESET_TTL_SECS", "0");
        jail.set_env("WARREN_EMAIL__LINKS__VERIFY_EMAIL", "https://app.example.com/verify");
        jail.set_env("WARREN_EMAIL__FROM", "not an address");
        let message = load_in(jail).expect_err("unsafe email settings").to_string();
        for key in [
            "email.transport",
            "email.max_attempts",
            "email.reset_ttl_secs",
            "email.links.verify_email",
            "email.from",
        ] {
            assert!(
                message.contains(&key.to_uppercase().replace('.', "__")) || message.contains(key),
                "{key} missing from {message}"
            );
        }
        jail.set_env("WARREN_EMAIL__TRANSPORT", "smtp");
        let message = load_in(jail).expect_err("smtp without a URL").to_string();
        assert!(message.contains("SMTP_URL") || message.contains("smtp_url"), "{message}");
        Ok(())
    });
}

#[test]
fn production_serves_metrics_only_on_internal_addresses_unless_told_they_are_public() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("WARREN_ENV", "production");
        jail.set_env("WARREN_AUTH__ISSUER", "https://accounts.example.com");
        jail.set_env("WARREN_SERVER__PUBLIC_URL", "https://accounts.example.com");
        jail.set_env("WARREN_AUTH__SIGNING_KEY_FILE", "/etc/warren/signing.pem");
        jail.set_env(
            "WARREN_MFA__ENCRYPTION_KEY",
            "base64:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        );
        jail.set_env("WARREN_EMAIL__TRANSPORT", "smtp");
        jail.set_env("WARREN_EMAIL__SMTP_URL", "smtp://mail.internal:587?tls=required");
        https_links(jail);
        for internal in ["127.0.0.1:9100", "10.1.2.3:9100", "192.168.0.9:9100", "[fd00::1]:9100"] {
            jail.set_env("WARREN_SERVER__METRICS_ADDR", internal);
            let settings = load_in(jail).expect("an internal metrics address");
            assert_eq!(
                settings.server.metrics_addr.map(|a| a.to_string()).as_deref(),
                Some(internal)
            );
        }
        for public in ["0.0.0.0:9100", "203.0.113.5:9100", "[2001:db8::1]:9100"] {
            jail.set_env("WARREN_SERVER__METRICS_ADDR", public);
            let message = load_in(jail).expect_err("a public metrics address").to_string();
            assert!(message.contains("server.metrics_addr"), "{message}");
            assert!(message.contains("server.metrics_public = true"), "{message}");
        }
        jail.set_env("WARREN_SERVER__METRICS_PUBLIC", "true");
        assert!(load_in(jail).is_ok(), "metrics_public lets production expose metrics");
        jail.set_env("WARREN_ENV", "development");
        jail.set_env("WARREN_SERVER__METRICS_PUBLIC", "false");
        assert!(load_in(jail).is_ok(), "development binds where it is told");
        Ok(())
    });
}

#[test]
fn production_refuses_plaintext_smtp_to_another_host_and_http_link_templates() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("WARREN_ENV", "production");
        jail.set_env("WARREN_EMAIL__TRANSPORT", "smtp");
        jail.set_env("WARREN_EMAIL__SMTP_URL", "smtp://mailer:secret@smtp.example.com:587");
        jail.set_env(
            "WARREN_EMAIL__LINKS__RESET_PASSWORD",
            "http://app.example.com/reset#token={token}",
        );
        let message = load_in(jail).expect_err("plaintext mail and links").to_string();
        assert!(message.contains("email.smtp_url"), "{message}");
        assert!(message.contains("TLS"), "{message}");
        assert!(!message.contains("secret"), "the SMTP password stays hidden: {message}");
        // The defaults point at http://localhost:5173, which no recipient can open.
        for key in [
            "email.links.verify_email",
            "email.links.reset_password",
            "email.links.confirm_email_change",
        ] {
            assert!(message.contains(key), "{key} missing from {message}");
        }
        jail.set_env("WARREN_EMAIL__SMTP_URL", "smtp://127.0.0.1:2525");
        let message = load_in(jail).expect_err("http links remain").to_string();
        assert!(!message.contains("email.smtp_url"), "a local relay is allowed: {message}");
        Ok(())
    });
}

/// Link templates production accepts: https pages of the frontend.
fn https_links(jail: &mut Jail) {
    for (variable, page) in [
        ("WARREN_EMAIL__LINKS__VERIFY_EMAIL", "verify-email"),
        ("WARREN_EMAIL__LINKS__RESET_PASSWORD", "reset-password"),
        ("WARREN_EMAIL__LINKS__CONFIRM_EMAIL_CHANGE", "confirm-email"),
    ] {
        jail.set_env(variable, format!("https://app.example.com/{page}#token={{token}}"));
    }
}
