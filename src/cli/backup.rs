//! `warren backup <file>`: a consistent copy of the SQLite database, taken while Warren serves.
//! `VACUUM INTO` writes a snapshot of one read transaction (writers carry on: WAL mode) to a
//! temporary file beside the target; the copy must pass `PRAGMA integrity_check`, and only then
//! is it renamed over the target, atomically, so `<file>` is always a whole, checked backup.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};

use crate::cli::{Refused, UsageError};
use crate::core::config::Settings;

/// How often the terminal progress line is redrawn.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);
/// How long the copy waits for a write lock another process holds (it needs none normally).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub async fn run(settings: &Settings, target: &Path, force: bool) -> anyhow::Result<()> {
    let url = settings.database_url();
    if !url.starts_with("sqlite:") {
        return Err(UsageError(
            "warren backup copies SQLite databases only; back up Postgres with pg_dump \
             (e.g. pg_dump --format=custom --file=warren.dump \"$DATABASE_URL\") and restore \
             with pg_restore"
                .to_owned(),
        )
        .into());
    }
    if target.exists() && !force {
        let shown = target.display();
        return Err(Refused(format!("{shown} exists; pass --force to replace it")).into());
    }
    let source = SqliteConnectOptions::from_str(&url)?;
    if !source.get_filename().is_file() {
        let missing = source.get_filename().display();
        return Err(Refused(format!("there is no database at {missing}")).into());
    }
    let started = Instant::now();
    let partial = Partial::beside(target)?;
    copy(source, &partial.path, started).await?;
    check_integrity(&partial.path).await?;
    let bytes = partial.persist(target)?;
    println!(
        "wrote {} ({bytes} bytes, integrity ok) in {:.1} s",
        target.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Writes the snapshot to `into`, redrawing elapsed time and bytes written on a terminal.
async fn copy(source: SqliteConnectOptions, into: &Path, started: Instant) -> anyhow::Result<()> {
    let into_text = into.to_str().context("the backup path must be valid UTF-8")?.to_owned();
    let mut connection = source
        .create_if_missing(false)
        .busy_timeout(BUSY_TIMEOUT)
        .connect()
        .await
        .context("open the database")?;
    let terminal = std::io::stdout().is_terminal();
    let copied = {
        let vacuum = sqlx::query("VACUUM INTO $1").bind(into_text).execute(&mut connection);
        tokio::pin!(vacuum);
        let mut ticks = tokio::time::interval(PROGRESS_EVERY);
        loop {
            tokio::select! {
                copied = &mut vacuum => break copied,
                _ = ticks.tick(), if terminal => {
                    let written = std::fs::metadata(into).map_or(0, |meta| meta.len());
                    let elapsed = started.elapsed().as_secs_f64();
                    redraw(&format!("copying… {written} bytes written ({elapsed:.1} s)"));
                }
            }
        }
    };
    if terminal {
        redraw("");
    }
    copied.context("copy the database (VACUUM INTO)")?;
    connection.close().await.context("close the database")?;
    Ok(())
}

async fn check_integrity(copy: &Path) -> anyhow::Result<()> {
    let mut connection: SqliteConnection = SqliteConnectOptions::new()
        .filename(copy)
        .read_only(true)
        .connect()
        .await
        .context("open the copy")?;
    let verdict: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut connection)
        .await
        .context("check the copy's integrity")?;
    connection.close().await.context("close the copy")?;
    if verdict != ["ok"] {
        bail!("the copy failed its integrity check: {}", verdict.join("; "));
    }
    Ok(())
}

/// The temporary copy, in the target's folder so the final rename is atomic; removed unless
/// it became the backup.
struct Partial {
    path: PathBuf,
    persisted: bool,
}

impl Partial {
    fn beside(target: &Path) -> anyhow::Result<Self> {
        let name = target.file_name().context("the backup path must name a file")?;
        let folder = target.parent().filter(|folder| !folder.as_os_str().is_empty());
        let folder = folder.unwrap_or_else(|| Path::new("."));
        if !folder.is_dir() {
            bail!("folder {} does not exist; create it first", folder.display());
        }
        let name = format!(".{}.partial-{}", name.to_string_lossy(), std::process::id());
        let path = folder.join(name);
        // A copy a killed run left behind; VACUUM INTO refuses a file that is not empty.
        let _ = std::fs::remove_file(&path);
        Ok(Self { path, persisted: false })
    }

    /// Flushes the copy to disk and renames it to `target`; returns its size.
    fn persist(mut self, target: &Path) -> anyhow::Result<u64> {
        let file = std::fs::File::open(&self.path).context("open the copy")?;
        file.sync_all().context("flush the copy to disk")?;
        let bytes = file.metadata().context("size the copy")?.len();
        std::fs::rename(&self.path, target)
            .with_context(|| format!("rename the copy to {}", target.display()))?;
        self.persisted = true;
        if let Some(folder) = target.parent().filter(|folder| !folder.as_os_str().is_empty()) {
            // The rename is durable once the folder is; a failure here loses no data.
            let _ = std::fs::File::open(folder).and_then(|folder| folder.sync_all());
        }
        Ok(bytes)
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.persisted {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Replaces the current terminal line with `line`.
fn redraw(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = write!(stdout, "\r\x1b[2K{line}");
    let _ = stdout.flush();
}
