//! Daily serial numbers (case numbers, ticket numbers, request numbers): one row per key and
//! day, incremented atomically in the caller's transaction, so concurrent writers never get
//! the same number and nothing has to be retried. The table is `case_sequences`, where the
//! case numbers started; other keys must not look like implementation codes.

use crate::{sqlx, StoreError, Tx};

/// The next serial (1-based) of `key` on `day`.
pub async fn next_daily(tx: &mut Tx, key: &str, day: &str) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO case_sequences (item_code, day, last_seq) VALUES ($1, $2, 1)
         ON CONFLICT (item_code, day) DO UPDATE SET last_seq = case_sequences.last_seq + 1 RETURNING last_seq",
    )
    .bind(key)
    .bind(day)
    .fetch_one(&mut **tx)
    .await?)
}
