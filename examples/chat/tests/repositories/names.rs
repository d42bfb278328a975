//! `NameRepository`: the display names learnt from Warren.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::{TestDatabase, contract};

async fn a_saved_name_replaces_the_one_before_and_unknown_users_have_none(t: TestDatabase) {
    let (ada, stranger) = (Uuid::now_v7(), Uuid::now_v7());
    let names = &t.repos.names;

    names.save(ada, "Ada", OffsetDateTime::now_utc()).await.expect("save");
    names.save(ada, "Ada Lovelace", OffsetDateTime::now_utc()).await.expect("save again");

    assert_eq!(names.find(ada).await.expect("find").as_deref(), Some("Ada Lovelace"));
    assert_eq!(names.find(stranger).await.expect("find"), None);
}
contract!(a_saved_name_replaces_the_one_before_and_unknown_users_have_none);
