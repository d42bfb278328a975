//! Naming configuration problems the way the user wrote them: the environment variable they
//! set (`WARREN_SERVER__PROT`), the `.env` file, or the TOML file and line; every unknown key
//! at once, each with the nearest known key as a suggestion.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::sync::OnceLock;

use figment::value::{Dict, Value};
use figment::{Figment, Metadata, Provider};

use super::{ConfigError, Problems, Settings};

/// Names of the variables `.env` supplied (not those the real environment already had).
static FROM_DOTENV: OnceLock<(String, HashSet<String>)> = OnceLock::new();

/// Loads `.env` (if any) without overriding the real environment and remembers which names it
/// supplied, so problems with them can say `.env`.
pub(super) fn load_dotenv() -> Result<(), ConfigError> {
    let fail = |error: dotenvy::Error| ConfigError(vec![format!(".env: {error}")]);
    let entries = match dotenvy::dotenv_iter() {
        Ok(entries) => entries,
        Err(error) if error.not_found() => return Ok(()),
        Err(error) => return Err(fail(error)),
    };
    let mut supplied = HashSet::new();
    for entry in entries {
        let (name, _) = entry.map_err(fail)?;
        if std::env::var_os(&name).is_none() {
            supplied.insert(name);
        }
    }
    let path = dotenvy::dotenv().map_err(fail)?;
    let here = std::env::current_dir().ok().map(|dir| dir.join(".env"));
    let label =
        if here.as_deref() == Some(&path) { ".env".to_owned() } else { path.display().to_string() };
    let _ = FROM_DOTENV.set((label, supplied));
    Ok(())
}

/// Every key the settings know, dotted (`server.port`), from the defaults' own shape.
fn known_keys() -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let defaults = serde_json::to_value(Settings::default()).unwrap_or_default();
    collect_json_keys("", &defaults, &mut keys);
    keys
}

fn collect_json_keys(prefix: &str, value: &serde_json::Value, keys: &mut BTreeSet<String>) {
    if let serde_json::Value::Object(fields) = value {
        for (name, inner) in fields {
            let key = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
            collect_json_keys(&key, inner, keys);
            keys.insert(key);
        }
    }
}

/// One line per key that no setting has, each with a suggestion when one is close.
pub(super) fn unknown_keys(figment: &Figment) -> Vec<String> {
    let known = known_keys();
    let mut unknown = Vec::new();
    let dicts: Vec<Dict> =
        figment.data().map_or_else(|_| vec![], |data| data.into_values().collect());
    for dict in dicts {
        collect_unknown("", &dict, &known, &mut unknown);
    }
    unknown
        .iter()
        .map(|key| {
            let written = origin(figment, key).unwrap_or_else(|| key.clone());
            let hint = nearest(key, &known)
                .map(|near| format!("; did you mean {}?", spelled_like(figment, key, near)))
                .unwrap_or_default();
            format!("{written}: unknown setting{hint}")
        })
        .collect()
}

fn collect_unknown(prefix: &str, dict: &Dict, known: &BTreeSet<String>, out: &mut Vec<String>) {
    for (name, value) in dict {
        let key = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
        let has_children = known.iter().any(|k| k.starts_with(&format!("{key}.")));
        match value {
            Value::Dict(_, inner) if has_children => collect_unknown(&key, inner, known, out),
            _ if known.contains(&key) => {}
            _ => out.push(key),
        }
    }
}

/// The known key closest to `key` by edit distance if it is close enough to be a typo, else a
/// key of the same section whose name contains the typed one (`cors.origins`).
fn nearest<'a>(key: &str, known: &'a BTreeSet<String>) -> Option<&'a str> {
    let (distance, best) =
        known.iter().map(|k| (edit_distance(key, k), k.as_str())).min_by_key(|(d, _)| *d)?;
    if distance <= (key.len() / 3).max(2) {
        return Some(best);
    }
    let (section, leaf) = key.rsplit_once('.')?;
    known
        .iter()
        .map(String::as_str)
        .find(|k| k.rsplit_once('.').is_some_and(|(s, l)| s == section && l.contains(leaf)))
}

/// Levenshtein distance over bytes; keys are ASCII.
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.as_bytes().iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, &cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// A suggested key in the user's own spelling: an environment variable for an env typo.
fn spelled_like(figment: &Figment, typed: &str, suggestion: &str) -> String {
    match figment.find_metadata(typed) {
        Some(metadata) if metadata.name.contains("environment") => env_name(suggestion),
        _ => suggestion.to_owned(),
    }
}

/// The environment variable that sets a dotted key.
pub fn env_name(key: &str) -> String {
    if key == "database.url" {
        return "WARREN_DATABASE__URL".to_owned();
    }
    format!("WARREN_{}", key.to_ascii_uppercase().replace('.', "__"))
}

/// Where `key`'s value came from, as the user wrote it; `None` for built-in defaults.
fn origin(figment: &Figment, key: &str) -> Option<String> {
    described_origin(figment.find_metadata(key)?, key)
}

fn described_origin(metadata: &Metadata, key: &str) -> Option<String> {
    if let Some(figment::Source::File(path)) = &metadata.source {
        let line = line_of(path, key).map(|line| format!(":{line}")).unwrap_or_default();
        return Some(format!("{key} in {}{line}", path.display()));
    }
    if !metadata.name.contains("environment") {
        return None;
    }
    let variable = if metadata.name.contains("WARREN_") {
        typed_variable(key).unwrap_or_else(|| env_name(key))
    } else {
        "DATABASE_URL".to_owned()
    };
    Some(match FROM_DOTENV.get() {
        Some((label, names)) if names.contains(&variable) => format!("{variable} in {label}"),
        _ => variable,
    })
}

/// The `WARREN_…` variable, exactly as set (any case), that figment read as `key`.
fn typed_variable(key: &str) -> Option<String> {
    std::env::vars_os().filter_map(|(name, _)| name.into_string().ok()).find(|name| {
        name.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("WARREN_"))
            && name[7..].to_ascii_lowercase().replace("__", ".") == key
    })
}

/// The line of a TOML file where `key`'s last segment is assigned under its section.
fn line_of(path: &Path, key: &str) -> Option<usize> {
    let text = std::fs::read_to_string(path).ok()?;
    let (section, leaf) = key.rsplit_once('.').unwrap_or(("", key));
    let mut current = String::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            name.trim().clone_into(&mut current);
        } else if current == section
            && line.strip_prefix(leaf).is_some_and(|rest| rest.trim_start().starts_with('='))
        {
            return Some(number + 1);
        }
    }
    None
}

/// Figment's extraction errors, one line each, naming the key and where it was set.
pub(super) fn describe(error: &figment::Error) -> Vec<String> {
    error
        .clone()
        .into_iter()
        .map(|e| {
            let key = e.path.join(".").to_lowercase();
            // figment quotes with backquotes inside its own messages; print them plainly.
            let kind = e.kind.to_string().replace('`', "");
            if key.is_empty() {
                return kind;
            }
            let written = e.metadata.as_ref().and_then(|m| described_origin(m, &key));
            format!("{}: {kind}", label(&key, written))
        })
        .collect()
}

/// The sections' problems, each labelled with its key and where that key was set.
pub(super) fn name_problems(figment: &Figment, problems: Problems) -> Vec<String> {
    problems
        .0
        .into_iter()
        .map(|(key, message)| format!("{}: {message}", label(key, origin(figment, key))))
        .collect()
}

/// `server.port (WARREN_SERVER__PORT)`, `server.port in warren.toml:3`, or just the key.
fn label(key: &str, origin: Option<String>) -> String {
    match origin {
        Some(written) if written.starts_with(key) => written,
        Some(written) => format!("{key} ({written})"),
        None => key.to_owned(),
    }
}
