//! sea-orm entities, one module per table. No business logic lives here: the
//! domains in `api` give these rows their meaning.

/// A model read out of a row by the position of its columns, not their
/// names. sea-orm's derived reader looks each column up by a formatted
/// name (`A_id`, `B_id`, …) in every row of a joined select: a string
/// built and hashed per column per row, a third of the CPU of a hot read
/// that joins two tables. The models the hot reads join declare
/// themselves through [`by_position!`], which implements this from the
/// same field list sea-orm derives its columns from, in the same order.
pub trait ByPosition: Sized {
    /// The model's key (its first column).
    type Key: PartialEq;
    /// How many columns the model takes in a row.
    const WIDTH: usize;
    /// The key of the model whose columns start at `at`, without reading
    /// the rest (`None`: a left join found nothing).
    fn key_at(row: &sea_orm::QueryResult, at: usize) -> Result<Option<Self::Key>, sea_orm::DbErr>;
    /// The model's own key.
    fn key(&self) -> &Self::Key;
    /// The model whose columns start at `at`.
    fn at(row: &sea_orm::QueryResult, at: usize) -> Result<Self, sea_orm::DbErr>;
    /// The same, or `None` when its key (the first column) is NULL: a left
    /// join that found nothing.
    fn optional_at(row: &sea_orm::QueryResult, at: usize) -> Result<Option<Self>, sea_orm::DbErr>;
}

/// Declares an entity's `Model` (as written for `DeriveEntityModel`) and
/// implements [`ByPosition`] for it from the same fields. The first field
/// must be the key, and no field may be `#[sea_orm(ignore)]`.
#[macro_export]
macro_rules! by_position {
    (
        $(#[$meta:meta])*
        pub struct Model {
            $(#[$kmeta:meta])*
            pub $key:ident : $kty:ty,
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub struct Model {
            $(#[$kmeta])*
            pub $key: $kty,
            $( $(#[$fmeta])* pub $field: $ty ),*
        }

        impl $crate::ByPosition for Model {
            type Key = $kty;
            const WIDTH: usize = 1 + [$(stringify!($field)),*].len();

            fn key_at(
                row: &sea_orm::QueryResult,
                at: usize,
            ) -> Result<Option<$kty>, sea_orm::DbErr> {
                row.try_get_by_index::<Option<$kty>>(at)
            }

            fn key(&self) -> &$kty {
                &self.$key
            }

            #[allow(unused_assignments)]
            fn at(
                row: &sea_orm::QueryResult,
                at: usize,
            ) -> Result<Self, sea_orm::DbErr> {
                let mut i = at + 1;
                Ok(Self {
                    $key: row.try_get_by_index::<$kty>(at)?,
                    $( $field: {
                        i += 1;
                        row.try_get_by_index::<$ty>(i - 1)?
                    } ),*
                })
            }

            fn optional_at(
                row: &sea_orm::QueryResult,
                at: usize,
            ) -> Result<Option<Self>, sea_orm::DbErr> {
                match Self::key_at(row, at)? {
                    None => Ok(None),
                    Some(_) => Self::at(row, at).map(Some),
                }
            }
        }
    };
}

pub mod advisor_slot;
pub mod booking_slot;
pub mod campaign;
pub mod campaign_vehicle;
pub mod complaint;
pub mod complaint_action;
pub mod customer;
pub mod customer_log;
pub mod customer_merge;
pub mod customer_phone;
pub mod customer_standing;
pub mod dealer_group;
pub mod demo_car;
pub mod idempotency_key;
pub mod lead;
pub mod lead_intake;
pub mod lead_source;
pub mod mileage_reading;
pub mod notification;
pub mod notification_delivery;
pub mod oem;
pub mod pdi_item;
pub mod refresh_token;
pub mod repair_order;
pub mod retention_run;
pub mod revisit_attempt;
pub mod sales_order;
pub mod sales_quota;
pub mod service_appointment;
pub mod service_forecast;
pub mod staff;
pub mod staff_target;
pub mod store;
pub mod survey_response;
pub mod survey_template;
pub mod task;
pub mod task_reminder;
pub mod team;
pub mod test_drive;
pub mod vehicle;
pub mod vehicle_ownership;
pub mod warranty_claim;
pub mod win_back_attempt;
pub mod work_plan;
