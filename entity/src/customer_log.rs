//! One entry of the append-only customer log (timeline).
use sea_orm::entity::prelude::*;

crate::by_position! {
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "customer_log")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub store_id: Uuid,
        pub customer_id: Uuid,
        pub kind: String,
        pub channel: String,
        pub staff_id: Option<Uuid>,
        pub summary: String,
        pub outcome: Option<String>,
        pub subject_type: Option<String>,
        pub subject_id: Option<Uuid>,
        pub occurred_at: DateTimeUtc,
        pub created_at: DateTimeUtc,
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
