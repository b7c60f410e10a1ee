//! Organisation, auth, customers, vehicles and the customer log.
use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn created(t: &mut TableCreateStatement) -> &mut TableCreateStatement {
    t.col(timestamp_with_time_zone(Alias::new("created_at")))
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut tables: Vec<TableCreateStatement> = Vec::new();

        let mut t = Table::create();
        t.table(Alias::new("oem"))
            .col(pk_uuid(Alias::new("id")))
            .col(string(Alias::new("name")))
            .col(string_uniq(Alias::new("code")));
        created(&mut t);
        tables.push(t);

        let mut t = Table::create();
        t.table(Alias::new("dealer_group"))
            .col(pk_uuid(Alias::new("id")))
            .col(uuid(Alias::new("oem_id")))
            .col(string(Alias::new("name")));
        created(&mut t);
        fk(&mut t, "oem_id", "oem");
        tables.push(t);

        let mut t = Table::create();
        t.table(Alias::new("store"))
            .col(pk_uuid(Alias::new("id")))
            .col(uuid(Alias::new("oem_id")))
            .col(uuid_null(Alias::new("group_id")))
            .col(string_uniq(Alias::new("code")))
            .col(string(Alias::new("name")))
            .col(string_len(Alias::new("grade"), 1))
            .col(string(Alias::new("city")))
            .col(string(Alias::new("time_zone")))
            .col(json(Alias::new("settings")))
            .col(timestamp_with_time_zone(Alias::new("updated_at")));
        created(&mut t);
        fk(&mut t, "oem_id", "oem");
        fk(&mut t, "group_id", "dealer_group");
        tables.push(t);

        let mut t = Table::create();
        t.table(Alias::new("team"))
            .col(pk_uuid(Alias::new("id")))
            .col(uuid(Alias::new("store_id")))
            .col(string(Alias::new("name")));
        created(&mut t);
        fk(&mut t, "store_id", "store");
        tables.push(t);

        let mut t = Table::create();
        t.table(Alias::new("staff"))
            .col(pk_uuid(Alias::new("id")))
            .col(uuid(Alias::new("oem_id")))
            .col(uuid_null(Alias::new("group_id")))
            .col(uuid_null(Alias::new("store_id")))
            .col(uuid_null(Alias::new("team_id")))
            .col(string_uniq(Alias::new("username")))
            .col(string_null(Alias::new("mobile")).unique_key())
            .col(string(Alias::new("name")))
            .col(string(Alias::new("role")))
            .col(boolean(Alias::new("active")))
            .col(string(Alias::new("password_hash")))
            .col(timestamp_with_time_zone(Alias::new("updated_at")))
            .col(timestamp_with_time_zone_null(Alias::new("deactivated_at")));
        created(&mut t);
        fk(&mut t, "oem_id", "oem");
        fk(&mut t, "group_id", "dealer_group");
        fk(&mut t, "store_id", "store");
        fk(&mut t, "team_id", "team");
        tables.push(t);

        let mut t = Table::create();
        t.table(Alias::new("refresh_token"))
            .col(pk_uuid(Alias::new("id")))
            .col(uuid(Alias::new("staff_id")))
            .col(uuid(Alias::new("family_id")))
            .col(string_uniq(Alias::new("token_hash")))
            .col(timestamp_with_time_zone(Alias::new("expires_at")))
            .col(timestamp_with_time_zone_null(Alias::new("used_at")))
            .col(timestamp_with_time_zone_null(Alias::new("revoked_at")));
        created(&mut t);
        fk(&mut t, "staff_id", "staff");
        tables.push(t);

        let mut t = Table::create();
        t.table(Alias::new("customer"))
            .col(pk_uuid(Alias::new("id")))
            .col(uuid(Alias::new("store_id")))
            .col(string(Alias::new("name")))
            .col(string(Alias::new("mobile")))
            .col(string(Alias::new("gender")))
            .col(string_null(Alias::new("city")))
            .col(string(Alias::new("source")))
            .col(string(Alias::new("lifecycle_stage")))
            .col(boolean(Alias::new("marketing_consent")))
            .col(boolean(Alias::new("sharing_consent")))
            .col(uuid_null(Alias::new("responsible_staff_id")))
            .col(uuid_null(Alias::new("merged_into_id")))
            .col(timestamp_with_time_zone(Alias::new("updated_at")));
        created(&mut t);
        fk(&mut t, "store_id", "store");
        fk(&mut t, "responsible_staff_id", "staff");
        fk(&mut t, "merged_into_id", "customer");
        tables.push(t);

        let mut t = Table::create();
        t.table(Alias::new("customer_phone"))
            .col(pk_uuid(Alias::new("id")))
            .col(uuid(Alias::new("store_id")))
            .col(uuid(Alias::new("customer_id")))
            .col(string(Alias::new("phone")))
            .col(string_null(Alias::new("label")));
        created(&mut t);
        fk(&mut t, "store_id", "store");
        fk(&mut t, "customer_id", "customer");
        tables.push(t);

        let mut t = Table::create();
        t.table(Alias::new("customer_log"))
            .col(pk_uuid(Alias::new("id")))
            .col(uuid(Alias::new("store_id")))
            .col(uuid(Alias::new("customer_id")))
            .col(string(Alias::new("kind")))
            .col(string(Alias::new("channel")))
            .col(uuid_null(Alias::new("staff_id")))
            .col(text(Alias::new("summary")))
            .col(text_null(Alias::new("outcome")))
            .col(string_null(Alias::new("subject_type")))
            .col(uuid_null(Alias::new("subject_id")))
            .col(timestamp_with_time_zone(Alias::new("occurred_at")));
        created(&mut t);
        fk(&mut t, "store_id", "store");
        fk(&mut t, "customer_id", "customer");
        fk(&mut t, "staff_id", "staff");
        tables.push(t);

        let mut t = Table::create();
        t.table(Alias::new("customer_merge"))
            .col(pk_uuid(Alias::new("id")))
            .col(uuid(Alias::new("store_id")))
            .col(uuid(Alias::new("survivor_id")))
            .col(uuid(Alias::new("merged_id")))
            .col(uuid(Alias::new("merged_by")))
            .col(json(Alias::new("snapshot")));
        created(&mut t);
        fk(&mut t, "store_id", "store");
        fk(&mut t, "survivor_id", "customer");
        fk(&mut t, "merged_id", "customer");
        fk(&mut t, "merged_by", "staff");
        tables.push(t);

        let mut t = Table::create();
        t.table(Alias::new("idempotency_key"))
            .col(pk_uuid(Alias::new("id")))
            .col(uuid(Alias::new("staff_id")))
            .col(string(Alias::new("key")))
            .col(string(Alias::new("operation")))
            .col(uuid(Alias::new("result_id")));
        created(&mut t);
        fk(&mut t, "staff_id", "staff");
        tables.push(t);

        let mut t = Table::create();
        t.table(Alias::new("vehicle"))
            .col(pk_uuid(Alias::new("id")))
            .col(uuid(Alias::new("store_id")))
            .col(string_len(Alias::new("vin"), 17))
            .col(string(Alias::new("brand")))
            .col(string(Alias::new("model")))
            .col(string_null(Alias::new("trim")))
            .col(string_null(Alias::new("colour")))
            .col(string_null(Alias::new("plate")))
            .col(date_null(Alias::new("purchase_date")))
            .col(date_null(Alias::new("delivery_date")))
            .col(uuid(Alias::new("owner_id")))
            .col(timestamp_with_time_zone(Alias::new("updated_at")));
        created(&mut t);
        fk(&mut t, "store_id", "store");
        fk(&mut t, "owner_id", "customer");
        tables.push(t);

        let mut t = Table::create();
        t.table(Alias::new("vehicle_ownership"))
            .col(pk_uuid(Alias::new("id")))
            .col(uuid(Alias::new("store_id")))
            .col(uuid(Alias::new("vehicle_id")))
            .col(uuid(Alias::new("customer_id")))
            .col(date(Alias::new("started_on")))
            .col(date_null(Alias::new("ended_on")));
        created(&mut t);
        fk(&mut t, "store_id", "store");
        fk(&mut t, "vehicle_id", "vehicle");
        fk(&mut t, "customer_id", "customer");
        tables.push(t);

        let mut t = Table::create();
        t.table(Alias::new("mileage_reading"))
            .col(pk_uuid(Alias::new("id")))
            .col(uuid(Alias::new("store_id")))
            .col(uuid(Alias::new("vehicle_id")))
            .col(integer(Alias::new("km")))
            .col(date(Alias::new("read_on")))
            .col(string(Alias::new("source")))
            .col(uuid_null(Alias::new("recorded_by")));
        created(&mut t);
        fk(&mut t, "store_id", "store");
        fk(&mut t, "vehicle_id", "vehicle");
        fk(&mut t, "recorded_by", "staff");
        tables.push(t);

        for t in tables {
            m.create_table(t).await?;
        }

        let indexes = [
            index("ix_store_group", "store", &["group_id"], false),
            index("ix_store_oem", "store", &["oem_id"], false),
            index("ix_team_store", "team", &["store_id"], false),
            index("ix_staff_store", "staff", &["store_id", "id"], false),
            index("ix_refresh_family", "refresh_token", &["family_id"], false),
            index(
                "ix_customer_responsible",
                "customer",
                &["store_id", "responsible_staff_id", "id"],
                false,
            ),
            index(
                "ix_customer_store_id",
                "customer",
                &["store_id", "id"],
                false,
            ),
            index(
                "ix_customer_phone",
                "customer_phone",
                &["store_id", "phone"],
                false,
            ),
            index(
                "ix_customer_phone_customer",
                "customer_phone",
                &["customer_id"],
                false,
            ),
            index(
                "ix_customer_log_timeline",
                "customer_log",
                &["customer_id", "occurred_at", "id"],
                false,
            ),
            index(
                "ux_idempotency",
                "idempotency_key",
                &["staff_id", "operation", "key"],
                true,
            ),
            index("ux_vehicle_vin", "vehicle", &["store_id", "vin"], true),
            index("ix_vehicle_owner", "vehicle", &["owner_id"], false),
            index(
                "ix_ownership_vehicle",
                "vehicle_ownership",
                &["vehicle_id", "started_on"],
                false,
            ),
            index(
                "ix_mileage_vehicle",
                "mileage_reading",
                &["vehicle_id", "read_on"],
                false,
            ),
        ];
        for idx in indexes {
            m.create_index(idx).await?;
        }
        // One live customer per mobile per store; merged records keep their
        // number for the record. Same syntax on SQLite and PostgreSQL.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_customer_mobile ON customer (store_id, mobile) \
                 WHERE merged_into_id IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "mileage_reading",
            "vehicle_ownership",
            "vehicle",
            "idempotency_key",
            "customer_merge",
            "customer_log",
            "customer_phone",
            "customer",
            "refresh_token",
            "staff",
            "team",
            "store",
            "dealer_group",
            "oem",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
