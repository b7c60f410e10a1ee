//! Joined rows read by the position of their columns (`entity::ByPosition`)
//! rather than by sea-orm's prefixed names, which cost a formatted string
//! and a hash look-up per column per row. Debug builds (every test) check
//! that the columns at those positions carry the names sea-orm gave them,
//! so a select that puts its columns elsewhere fails loudly in tests.
use entity::ByPosition;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryResult, QueryTrait, SelectTwo};

/// The `E` row whose columns start at `at` (named `prefix` + column).
pub fn model_at<E>(row: &QueryResult, at: usize, prefix: &str) -> Result<E::Model, DbErr>
where
    E: EntityTrait,
    E::Model: ByPosition,
{
    check_names::<E>(row, at, prefix);
    E::Model::at(row, at)
}

/// The same, or `None` when a left join found no `E` row.
pub fn optional_at<E>(row: &QueryResult, at: usize, prefix: &str) -> Result<Option<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: ByPosition,
{
    check_names::<E>(row, at, prefix);
    E::Model::optional_at(row, at)
}

/// What `select.all(db)` gives, read by position, with the rows of one
/// `E` (consecutive, as the select's order puts them) gathered into one
/// entry: each `E` is read once, however many `F` rows it is joined to.
pub async fn all_grouped<E, F, C>(
    db: &C,
    select: SelectTwo<E, F>,
) -> Result<Vec<(E::Model, Vec<F::Model>)>, DbErr>
where
    E: EntityTrait,
    F: EntityTrait,
    E::Model: ByPosition,
    F::Model: ByPosition,
    C: ConnectionTrait,
{
    let rows = db
        .query_all_raw(select.build(db.get_database_backend()))
        .await?;
    let at = <E::Model as ByPosition>::WIDTH;
    let mut out: Vec<(E::Model, Vec<F::Model>)> = Vec::new();
    for r in &rows {
        let other = optional_at::<F>(r, at, "B_")?;
        let key = <E::Model as ByPosition>::key_at(r, 0)?;
        match out.last_mut() {
            Some((last, others)) if key.as_ref() == Some(last.key()) => others.extend(other),
            _ => out.push((model_at::<E>(r, 0, "A_")?, other.into_iter().collect())),
        }
    }
    Ok(out)
}

#[cfg(debug_assertions)]
fn check_names<E: EntityTrait>(row: &QueryResult, at: usize, prefix: &str) {
    use sea_orm::{IdenStatic, Iterable};
    let names = row.column_names();
    for (k, c) in E::Column::iter().enumerate() {
        let want = format!("{prefix}{}", c.as_str());
        debug_assert_eq!(
            names.get(at + k),
            Some(&want),
            "column {} of the row is not {want}",
            at + k
        );
    }
}

#[cfg(not(debug_assertions))]
fn check_names<E: EntityTrait>(_: &QueryResult, _: usize, _: &str) {}
