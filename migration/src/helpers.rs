//! Small builders shared by migrations. Never change their behaviour: landed
//! migrations depend on it.
use sea_orm_migration::prelude::*;

/// A column or table name.
pub fn a(s: &str) -> Alias {
    Alias::new(s)
}

/// A foreign key from `col` to `table.id`.
pub fn fk(t: &mut TableCreateStatement, col: &str, table: &str) {
    t.foreign_key(ForeignKey::create().from_col(a(col)).to(a(table), a("id")));
}

/// An index over `cols`.
pub fn index(name: &str, table: &str, cols: &[&str], unique: bool) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(a(table));
    for c in cols {
        idx.col(a(c));
    }
    if unique {
        idx.unique();
    }
    idx
}
