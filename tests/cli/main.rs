//! The real `warren` binary as an operator meets it: configuration mistakes, unreachable
//! databases, taken ports, `check-config`, the scripts around it; each message naming what
//! the operator typed.

mod check_config;
mod errors;
mod scripts;
mod serve;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A scratch working directory and a clean environment, so only what a test sets counts.
pub(crate) struct Operator {
    dir: tempfile::TempDir,
}

impl Operator {
    pub(crate) fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("scratch directory") }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn write(&self, name: &str, contents: &str) {
        std::fs::write(self.path().join(name), contents).expect("write scratch file");
    }

    pub(crate) fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_warren"));
        command.args(args).current_dir(self.path()).env_clear().envs(env.iter().copied());
        command
    }

    pub(crate) fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.command(args, env).output().expect("run warren")
    }

    /// Runs a command that must fail; returns stdout and stderr together.
    pub(crate) fn fails(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let output = self.run(args, env);
        let text = text(&output);
        assert!(!output.status.success(), "expected a failure, got: {text}");
        text
    }

    /// Runs a command that must succeed; returns its stdout and stderr together.
    pub(crate) fn succeeds(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let output = self.run(args, env);
        let text = text(&output);
        assert!(output.status.success(), "expected success, got: {text}");
        text
    }
}

pub(crate) fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

pub(crate) fn postgres_admin_url() -> String {
    std::env::var("POSTGRES_TEST_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A running `warren serve` on a free port, stopped when dropped.
pub(crate) struct Server {
    child: Child,
    /// The `serving` log line.
    pub(crate) line: String,
    pub(crate) url: String,
}

impl Server {
    pub(crate) fn start(operator: &Operator, env: &[(&str, &str)]) -> Self {
        let mut env = env.to_vec();
        env.push(("WARREN_SERVER__PORT", "0"));
        let mut child = operator
            .command(&["serve"], &env)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start warren serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let deadline = Instant::now() + Duration::from_secs(60);
        let line = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .take_while(|_| Instant::now() < deadline)
            .find(|line| line.contains("serving"));
        let Some(line) = line else {
            let _ = child.kill();
            panic!("warren serve never logged its serving line");
        };
        let url = line.split("url=").nth(1).and_then(|rest| rest.split(' ').next());
        let url = url.expect("the serving line names the url").to_owned();
        Self { child, line, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
