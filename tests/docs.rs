//! The documentation tables that restate code, checked against the code: the error codes
//! (docs/api.md against `ProblemKind`), the configuration keys (docs/configuration.md against
//! the settings and `.env.example`), the make targets (README.md against the Makefile's help
//! comments), and every relative link and `#anchor` in README.md and docs/.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use warren::api::error::{ProblemHeader, ProblemKind};
use warren::core::config::Settings;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative))
        .unwrap_or_else(|error| panic!("cannot read {relative}: {error}"))
}

/// The lines of a Markdown text outside fenced code blocks.
fn prose(text: &str) -> Vec<&str> {
    let mut fenced = false;
    text.lines()
        .filter(|line| {
            let trimmed = line.trim_start();
            if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
                fenced = !fenced;
                return false;
            }
            !fenced
        })
        .collect()
}

/// A table row's cells, split on `|` that is not escaped.
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    let mut cells = vec![String::new()];
    let mut escaped = false;
    for c in inner.chars() {
        match c {
            '|' if !escaped => cells.push(String::new()),
            _ => cells.last_mut().expect("one cell at least").push(c),
        }
        escaped = c == '\\';
    }
    cells.iter().map(|cell| cell.trim().to_owned()).collect()
}

/// The body rows of the one table in `file` whose header is `header`.
fn table(file: &str, header: &[&str]) -> Vec<Vec<String>> {
    let text = read(file);
    let lines = prose(&text);
    let starts: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].trim_start().starts_with('|') && cells(lines[i]) == header)
        .collect();
    assert_eq!(starts.len(), 1, "{file} has one table headed {header:?}");
    let rows: Vec<Vec<String>> = lines[starts[0] + 2..]
        .iter()
        .take_while(|line| line.trim_start().starts_with('|'))
        .map(|line| cells(line))
        .collect();
    for row in &rows {
        assert_eq!(row.len(), header.len(), "{file}: a row of the {header:?} table: {row:?}");
    }
    rows
}

/// The contents of each `code span` in a cell.
fn code_spans(cell: &str) -> Vec<String> {
    cell.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

/// How a documented list of names differs from the names the code has: listed twice, missing,
/// or naming nothing.
fn differences(documented: &[String], actual: &BTreeSet<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut out: Vec<String> = documented
        .iter()
        .filter(|n| !seen.insert(*n))
        .map(|n| format!("{n}: listed twice"))
        .collect();
    out.extend(actual.iter().filter(|n| !seen.contains(n)).map(|n| format!("{n}: missing")));
    out.extend(
        seen.iter().filter(|n| !actual.contains(**n)).map(|n| format!("{n}: not in the code")),
    );
    out
}

fn assert_no_problems(file: &str, problems: &[String]) {
    assert!(problems.is_empty(), "{file} disagrees with the code:\n  {}", problems.join("\n  "));
}

#[test]
fn the_error_table_in_the_api_doc_matches_the_problem_table_in_the_code() {
    let rows = table("docs/api.md", &["status", "`code`", "title", "header", "when"]);
    let documented: Vec<String> = rows.iter().map(|row| code_spans(&row[1]).concat()).collect();
    let actual: BTreeMap<String, String> = ProblemKind::ALL
        .iter()
        .map(|kind| {
            let spec = kind.spec();
            let header = match spec.header {
                ProblemHeader::None => "–",
                ProblemHeader::Challenge => "`WWW-Authenticate`",
                ProblemHeader::RetryAfter => "`Retry-After`",
            };
            (spec.code.to_owned(), [spec.status.as_str(), spec.title, header].join(" | "))
        })
        .collect();

    let mut problems = differences(&documented, &actual.keys().cloned().collect());
    for (code, row) in documented.iter().zip(&rows) {
        let written = [row[0].as_str(), &row[2], &row[3]].join(" | ");
        match actual.get(code) {
            Some(expected) if *expected != written => {
                problems.push(format!("{code}: documented as {written}, the code says {expected}"));
            }
            _ => {}
        }
    }
    assert_no_problems("docs/api.md's error table", &problems);
}

/// Every setting the configuration accepts, dotted, with its default: the leaves of the
/// serialised defaults, which is also what the loader checks unknown keys against.
fn setting_defaults() -> BTreeMap<String, serde_json::Value> {
    fn leaves(
        prefix: &str,
        value: &serde_json::Value,
        out: &mut BTreeMap<String, serde_json::Value>,
    ) {
        match value {
            serde_json::Value::Object(fields) if !fields.is_empty() => {
                for (name, inner) in fields {
                    let key =
                        if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
                    leaves(&key, inner, out);
                }
            }
            _ => {
                out.insert(prefix.to_owned(), value.clone());
            }
        }
    }
    let defaults = serde_json::to_value(Settings::default()).expect("the defaults serialise");
    let mut out = BTreeMap::new();
    leaves("", &defaults, &mut out);
    out
}

/// What the default cell must start with: `unset` for no value, else the value in a code span.
fn default_cell_start(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "unset".to_owned(),
        serde_json::Value::String(text) => format!("`{text}`"),
        other => format!("`{other}`"),
    }
}

/// The variable that sets a dotted key (`server.port` → `WARREN_SERVER__PORT`).
fn env_name(key: &str) -> String {
    format!("WARREN_{}", key.to_ascii_uppercase().replace('.', "__"))
}

#[test]
fn the_configuration_table_lists_every_setting_once_with_its_variable_and_default() {
    let rows = table("docs/configuration.md", &["key", "env", "default", "meaning"]);
    let defaults = setting_defaults();
    let keys: Vec<String> = rows.iter().map(|row| code_spans(&row[0]).concat()).collect();

    let mut problems = differences(&keys, &defaults.keys().cloned().collect());
    for (key, row) in keys.iter().zip(&rows) {
        let Some(default) = defaults.get(key) else { continue };
        if !code_spans(&row[1]).contains(&env_name(key)) {
            problems.push(format!("{key}: the env column lacks `{}`", env_name(key)));
        }
        if !row[2].starts_with(&default_cell_start(default)) {
            let expected = default_cell_start(default);
            problems.push(format!("{key}: the default cell should start with {expected}"));
        }
    }
    assert_no_problems("docs/configuration.md's settings table", &problems);
}

#[test]
fn every_variable_of_the_env_example_is_documented_and_every_documented_one_is_there() {
    let rows = table("docs/configuration.md", &["key", "env", "default", "meaning"]);
    let documented: BTreeSet<String> = rows.iter().flat_map(|row| code_spans(&row[1])).collect();
    let example = read(".env.example");
    // Assignments, also commented-out ones (`# WARREN_SERVER__METRICS_ADDR=…`).
    let assigned: BTreeSet<String> = example
        .lines()
        .filter_map(|line| line.trim_start_matches(['#', ' ']).split_once('='))
        .map(|(name, _)| name.to_owned())
        .filter(|name| {
            !name.is_empty()
                && name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        })
        .collect();
    let words: BTreeSet<&str> =
        example.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).collect();

    let undocumented: Vec<_> = assigned.difference(&documented).collect();
    let absent: Vec<_> = documented.iter().filter(|name| !words.contains(name.as_str())).collect();
    assert!(
        undocumented.is_empty() && absent.is_empty(),
        "set in .env.example but not in docs/configuration.md: {undocumented:?}\n\
         in docs/configuration.md but never named in .env.example: {absent:?}"
    );
}

#[test]
fn the_readme_lists_exactly_the_make_targets_the_makefile_documents() {
    let rows = table("README.md", &["target", "what it does"]);
    let documented: Vec<String> = rows
        .iter()
        .flat_map(|row| code_spans(&row[0]))
        .filter_map(|span| {
            span.strip_prefix("make ")
                .map(|rest| rest.split(' ').next().unwrap_or_default().to_owned())
        })
        .collect();
    let makefile: BTreeSet<String> = read("Makefile")
        .lines()
        .filter(|line| line.contains("## "))
        .filter_map(|line| line.split_once(':'))
        .map(|(target, _)| target.to_owned())
        .filter(|target| {
            target.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        .collect();

    assert_no_problems("README.md's make table", &differences(&documented, &makefile));
}

/// The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces to
/// dashes, and `-1`, `-2` … after repeats.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for line in prose(text) {
        let Some(title) = line.strip_prefix('#').map(|l| l.trim_start_matches('#')) else {
            continue;
        };
        let slug: String = title
            .trim()
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect();
        let count = seen.entry(slug.clone()).or_insert(0);
        out.insert(if *count == 0 { slug.clone() } else { format!("{slug}-{count}") });
        *count += 1;
    }
    out
}

/// The targets of the Markdown links on one line, code spans left out.
fn link_targets(line: &str) -> Vec<String> {
    let outside_code: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
    outside_code
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split_once(')').map(|(target, _)| target.to_owned()))
        .collect()
}

/// README.md and docs/*.md, each as (name, path, text).
fn markdown_files() -> Vec<(String, PathBuf, String)> {
    let docs = std::fs::read_dir(root().join("docs")).expect("docs/ exists");
    let mut names: Vec<String> = docs
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| Path::new(name).extension().is_some_and(|ext| ext == "md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    names.push("README.md".to_owned());
    names.sort();
    names.into_iter().map(|name| (name.clone(), root().join(&name), read(&name))).collect()
}

fn broken_links(file: &Path, text: &str) -> Vec<String> {
    let mut broken = Vec::new();
    for target in prose(text).into_iter().flat_map(link_targets) {
        if target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        let (path, anchor) = target.split_once('#').unwrap_or((&target, ""));
        let linked = if path.is_empty() {
            file.to_path_buf()
        } else {
            file.parent().expect("in a folder").join(path)
        };
        if !linked.exists() {
            broken.push(format!("{target}: no such file"));
        } else if !anchor.is_empty() {
            let heading_text = std::fs::read_to_string(&linked).unwrap_or_default();
            if !anchors(&heading_text).contains(anchor) {
                broken.push(format!("{target}: no such heading"));
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_in_the_readme_and_docs_leads_to_a_file_and_heading_that_exist() {
    let broken: Vec<String> = markdown_files()
        .iter()
        .flat_map(|(name, path, text)| {
            broken_links(path, text).into_iter().map(move |link| format!("{name}: {link}"))
        })
        .collect();
    assert!(broken.is_empty(), "broken links:\n  {}", broken.join("\n  "));
}

#[test]
fn the_readme_and_docs_point_at_no_outside_document() {
    let mut pointers = Vec::new();
    for (name, _, text) in markdown_files() {
        for (number, line) in text.lines().enumerate() {
            if ["SPEC", "§", "issue #"].iter().any(|pointer| line.contains(pointer)) {
                pointers.push(format!("{name}:{}: {}", number + 1, line.trim()));
            }
        }
    }
    assert!(
        pointers.is_empty(),
        "state the rule instead of pointing at a document the reader cannot open:\n  {}",
        pointers.join("\n  ")
    );
}
