//! `UserRepository` lookups operators use: `find_by_email` and `list`.

use warren::domain::{EmailAddress, FullName};

use crate::{TestDatabase, contract, new_user};

async fn a_user_is_found_by_email_in_any_case_and_an_unknown_one_is_none(t: TestDatabase) {
    let users = &t.db.repositories().users;
    let inserted = users.insert(new_user("finder@example.com")).await.expect("insert");

    let by_email = EmailAddress::parse("FINDER@Example.com").expect("valid email");
    assert_eq!(users.find_by_email(&by_email).await.expect("lookup"), Some(inserted));
    let unknown = EmailAddress::parse("nobody@example.com").expect("valid email");
    assert_eq!(users.find_by_email(&unknown).await.expect("lookup"), None);
}
contract!(a_user_is_found_by_email_in_any_case_and_an_unknown_one_is_none);

async fn list_returns_users_oldest_first_up_to_the_limit(t: TestDatabase) {
    let users = &t.db.repositories().users;
    let mut inserted = Vec::new();
    for email in ["one@example.com", "two@example.com", "three@example.com"] {
        inserted.push(users.insert(new_user(email)).await.expect("insert").id);
    }

    let all: Vec<_> =
        users.list(None, None, 10).await.expect("list").into_iter().map(|u| u.id).collect();
    let two: Vec<_> =
        users.list(None, None, 2).await.expect("list").into_iter().map(|u| u.id).collect();

    let after: Vec<_> = users
        .list(None, Some(inserted[0]), 10)
        .await
        .expect("list")
        .into_iter()
        .map(|u| u.id)
        .collect();

    assert_eq!(all, inserted);
    assert_eq!(two, inserted[..2]);
    assert_eq!(after, inserted[1..], "a cursor continues after the id it names");
}
contract!(list_returns_users_oldest_first_up_to_the_limit);

async fn list_filters_by_email_or_name_in_any_case_and_takes_wildcards_literally(t: TestDatabase) {
    let users = &t.db.repositories().users;
    let mut named = new_user("ada@example.com");
    named.full_name = Some(FullName::parse("Ada Lovelace").expect("valid name"));
    let ada = users.insert(named).await.expect("insert").id;
    let grace = users.insert(new_user("grace_h@navy.example")).await.expect("insert").id;
    users.insert(new_user("gracehopper@example.com")).await.expect("insert");

    let emails =
        |found: Vec<warren::domain::User>| found.into_iter().map(|u| u.id).collect::<Vec<_>>();
    assert_eq!(emails(users.list(Some("LOVELACE"), None, 10).await.expect("list")), vec![ada]);
    assert_eq!(emails(users.list(Some("ADA@"), None, 10).await.expect("list")), vec![ada]);
    // `_` would match any character as a LIKE wildcard; here it is only an underscore.
    assert_eq!(emails(users.list(Some("grace_"), None, 10).await.expect("list")), vec![grace]);
    assert!(users.list(Some("%"), None, 10).await.expect("list").is_empty());
}
contract!(list_filters_by_email_or_name_in_any_case_and_takes_wildcards_literally);
