//! `StoredTime`: every time the chat writes goes through it, so both databases hold the same
//! value. Postgres keeps whole microseconds, so the time is cut to whole microseconds before it
//! is written (a value read back then equals what any client was shown); on SQLite, a text
//! column, it is written with exactly six fractional digits, because RFC 3339 text that drops
//! trailing zeros (`…:05.12Z` after `…:05.123Z`) does not sort in time order.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo};
use sqlx::sqlite::{SqliteArgumentsBuffer, SqliteTypeInfo};
use sqlx::{Encode, Postgres, Sqlite, Type};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, UtcOffset};

/// Fixed width, so that SQLite's text order is time order.
const SQLITE_TEXT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// A time as the chat stores it: UTC, whole microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct StoredTime(OffsetDateTime);

impl StoredTime {
    pub fn new(at: OffsetDateTime) -> Self {
        let utc = at.to_offset(UtcOffset::UTC);
        Self(utc - Duration::nanoseconds(i64::from(utc.nanosecond() % 1_000)))
    }

    pub fn now() -> Self {
        Self::new(OffsetDateTime::now_utc())
    }

    pub fn get(self) -> OffsetDateTime {
        self.0
    }
}

impl Type<Sqlite> for StoredTime {
    fn type_info() -> SqliteTypeInfo {
        <OffsetDateTime as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <OffsetDateTime as Type<Sqlite>>::compatible(ty)
    }
}

impl Encode<'_, Sqlite> for StoredTime {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Sqlite>::encode(self.0.format(SQLITE_TEXT)?, buf)
    }
}

impl Type<Postgres> for StoredTime {
    fn type_info() -> PgTypeInfo {
        <OffsetDateTime as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <OffsetDateTime as Type<Postgres>>::compatible(ty)
    }
}

impl Encode<'_, Postgres> for StoredTime {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Postgres>::encode_by_ref(&self.0, buf)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn times_are_cut_to_whole_microseconds_in_utc() {
        let at = datetime!(2026-12-07 15:27:11.038_673_844 +02:00);
        assert_eq!(StoredTime::new(at).get(), datetime!(2026-12-07 13:27:11.038_673 UTC));
        let whole = datetime!(2026-12-07 13:27:11.5 UTC);
        assert_eq!(StoredTime::new(whole).get(), whole, "already whole microseconds");
    }

    #[test]
    fn sqlite_text_has_six_fractional_digits_so_text_order_is_time_order() {
        let earlier = StoredTime::new(datetime!(2026-12-07 13:27:05.12 UTC));
        let later = StoredTime::new(datetime!(2026-12-07 13:27:05.123 UTC));
        let (earlier, later) = (
            earlier.get().format(SQLITE_TEXT).expect("formats"),
            later.get().format(SQLITE_TEXT).expect("formats"),
        );
        assert_eq!(earlier, "2026-12-07T13:27:05.120000Z");
        assert!(earlier < later, "{earlier} sorts before {later}");
    }
}
