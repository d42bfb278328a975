//! [`Writer`]: the one way either backend writes. A write transaction that counts only once
//! [`Writer::commit`] has returned `Ok`, so no caller can acknowledge a write whose commit could
//! still fail (SQLite returns `RETURNING` rows before the statement finishes; an autocommit
//! failure there would go unseen). Dropped without a commit or rollback (an early return, an
//! error, a cancelled request), it closes its connection instead of returning it to the pool:
//! that rolls the transaction back and no half-finished statement reaches the next writer.

use sqlx::pool::PoolConnection;
use sqlx::{Database, Executor, Pool};

use super::RepoError;
use super::errors::classify;

pub(super) struct Writer<DB: Database> {
    connection: PoolConnection<DB>,
    finished: bool,
}

impl<DB: Database> Writer<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    /// Takes a connection from `pool` and opens a transaction with `begin` (`BEGIN IMMEDIATE`
    /// on SQLite takes the write lock up front, so a read-then-write cannot fail halfway).
    pub(super) async fn begin(pool: &Pool<DB>, begin: &'static str) -> Result<Self, RepoError> {
        let connection = pool.acquire().await.map_err(classify)?;
        let mut writer = Self { connection, finished: false };
        sqlx::raw_sql(begin).execute(writer.conn()).await.map_err(classify)?;
        Ok(writer)
    }

    pub(super) fn conn(&mut self) -> &mut DB::Connection {
        &mut self.connection
    }

    /// Makes the writes durable; only then may the caller acknowledge them.
    pub(super) async fn commit(mut self) -> Result<(), RepoError> {
        sqlx::raw_sql("COMMIT").execute(self.conn()).await.map_err(classify)?;
        self.finished = true;
        Ok(())
    }

    /// Undoes the writes on an expected refusal, keeping the connection when that works.
    pub(super) async fn rollback(mut self) -> Result<(), RepoError> {
        sqlx::raw_sql("ROLLBACK").execute(self.conn()).await.map_err(classify)?;
        self.finished = true;
        Ok(())
    }
}

impl<DB: Database> Drop for Writer<DB> {
    fn drop(&mut self) {
        if !self.finished {
            self.connection.close_on_drop();
        }
    }
}
