//! A write is acknowledged only once it is durable: a commit that fails is an error, nothing
//! the write returned is visible afterwards, and the next write works on the same pool.

use warren::domain::{EmailAddress, StoredHash};
use warren::repositories::{Backend, RepoError, UserChanges};

use crate::{TestDatabase, new_user};

mod a_write_whose_commit_fails_is_an_error_and_changes_nothing {
    use crate::TestDatabase;

    #[tokio::test]
    async fn sqlite() {
        super::sqlite_out_of_space(TestDatabase::sqlite().await).await;
    }

    #[tokio::test]
    async fn postgres() {
        super::postgres_refused_commit(TestDatabase::postgres().await).await;
    }
}

/// SQLite: the writer connection may not grow the file; inserts of fat rows fill it up.
async fn sqlite_out_of_space(t: TestDatabase) {
    let Backend::Sqlite(pools) = t.db.backend() else { unreachable!("opened SQLite") };
    {
        let mut writer = pools.write.acquire().await.expect("writer");
        let pages: i64 =
            sqlx::query_scalar("PRAGMA page_count").fetch_one(&mut *writer).await.expect("size");
        let limit = format!("PRAGMA max_page_count = {pages}");
        sqlx::query(sqlx::AssertSqlSafe(limit)).execute(&mut *writer).await.expect("limit");
    }
    let users = &t.db.repositories().users;
    let (mut acknowledged, mut failure) = (Vec::new(), None);
    for n in 0..500 {
        let mut record = new_user(&format!("fat{n}@example.com"));
        record.password_hash = StoredHash::new("x".repeat(3000));
        let email = record.email.clone();
        match users.insert(record).await {
            Ok(user) => acknowledged.push(user),
            Err(error) => {
                failure = Some((email, error));
                break;
            }
        }
    }

    let (email, error) = failure.expect("the database filled up");
    assert!(error.is_transient(), "a full disk is transient, got {error:?}");
    assert!(users.find_credentials_by_email(&email).await.expect("read").is_none());
    for user in &acknowledged {
        assert_eq!(users.find_by_id(user.id).await.expect("read").as_ref(), Some(user));
    }
    // The failed writer was closed, not reused: writes work again without a restart.
    users.insert(new_user("after@example.com")).await.expect("writes resume");
    let check: String =
        sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&pools.read).await.expect("check");
    assert_eq!(check, "ok");
}

/// Postgres: a deferred constraint trigger makes `COMMIT` itself fail for some emails.
async fn refuse_commits_for_refused_emails(t: &TestDatabase) {
    let Backend::Postgres(pool) = t.db.backend() else { unreachable!("opened Postgres") };
    let function = "CREATE FUNCTION refuse_commit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF coalesce(NEW.pending_email, NEW.email) LIKE 'refused%' THEN RAISE EXCEPTION 'refused at commit'; END IF;
          RETURN NULL;
        END $$";
    let trigger = "CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT OR UPDATE ON users
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_commit()";
    for statement in [function, trigger] {
        sqlx::raw_sql(statement).execute(pool).await.expect("install the trigger");
    }
}

async fn postgres_refused_commit(t: TestDatabase) {
    refuse_commits_for_refused_emails(&t).await;
    let users = &t.db.repositories().users;
    let kept = t.user().await;

    let inserted = users.insert(new_user("refused-insert@example.com")).await;
    let refused = EmailAddress::parse("refused-update@example.com").expect("email");
    let changes = UserChanges { email: Some(refused.clone()), ..UserChanges::default() };
    let updated = users.update(kept.id, changes, time::OffsetDateTime::now_utc()).await;

    assert!(matches!(inserted, Err(RepoError::Other(_))), "{inserted:?}");
    assert!(matches!(updated, Err(RepoError::Other(_))), "{updated:?}");
    let email = EmailAddress::parse("refused-insert@example.com").expect("email");
    assert!(users.find_credentials_by_email(&email).await.expect("read").is_none());
    assert!(users.find_credentials_by_email(&refused).await.expect("read").is_none());
    assert_eq!(users.find_by_id(kept.id).await.expect("read"), Some(kept));
    users.insert(new_user("accepted@example.com")).await.expect("writes resume");
}
