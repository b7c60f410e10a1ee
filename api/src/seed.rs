//! Demo data: an OEM, a dealer group, two stores of different grades and
//! cities, staff in every role and a few hundred customers with vehicles.
//! Deterministic, so demos and screenshots repeat.
use chrono::{DateTime, Duration, Utc};
use entity::{
    customer, customer_log, dealer_group, mileage_reading, oem, staff, store, team, vehicle,
    vehicle_ownership,
};
use rand::{rngs::StdRng, Rng, SeedableRng};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession,
    TransactionTrait,
};
use uuid::Uuid;

use crate::{
    auth::{rules::hash_password, Role},
    customers::rules::{vin_check_digit, Channel, CustomerSource, Gender, LifecycleStage, LogKind},
    org::rules::StoreSettings,
    tasks::{
        rules::{TaskKind, Window},
        store::{self as tasks_store, NewTask},
    },
};

/// The OEM code that marks the demo data.
pub const DEMO_OEM_CODE: &str = "CAF";
/// Every demo account's password.
pub const DEMO_PASSWORD: &str = "demo1234";

/// The demo accounts: (username, role, store code or "", display name).
pub const DEMO_STAFF: &[(&str, Role, &str, &str)] = &[
    ("admin", Role::Admin, "", "系统管理员"),
    ("oem.staff", Role::OemStaff, "", "厂家区域经理 周敏"),
    ("group.manager", Role::GroupManager, "", "集团经理 陈立"),
    ("cq.manager", Role::StoreManager, "CQ001", "总经理 王强"),
    ("cq.sales1", Role::SalesConsultant, "CQ001", "销售顾问 李娜"),
    ("cq.sales2", Role::SalesConsultant, "CQ001", "销售顾问 张伟"),
    ("cq.advisor", Role::ServiceAdvisor, "CQ001", "服务顾问 刘洋"),
    ("cq.care", Role::CareAgent, "CQ001", "客服专员 赵静"),
    ("cq.warranty", Role::WarrantyClerk, "CQ001", "索赔员 孙浩"),
    ("cd.manager", Role::StoreManager, "CD002", "总经理 黄磊"),
    ("cd.sales1", Role::SalesConsultant, "CD002", "销售顾问 吴芳"),
    ("cd.advisor", Role::ServiceAdvisor, "CD002", "服务顾问 郑凯"),
    ("cd.care", Role::CareAgent, "CD002", "客服专员 冯雪"),
    ("cd.warranty", Role::WarrantyClerk, "CD002", "索赔员 何军"),
];

struct DemoStore {
    code: &'static str,
    name: &'static str,
    grade: &'static str,
    city: &'static str,
    in_group: bool,
    plate_prefix: &'static str,
}

const STORES: [DemoStore; 2] = [
    DemoStore {
        code: "CQ001",
        name: "重庆渝通福特4S店",
        grade: "A",
        city: "重庆",
        in_group: true,
        plate_prefix: "渝A",
    },
    DemoStore {
        code: "CD002",
        name: "成都蓉城福特4S店",
        grade: "C",
        city: "成都",
        in_group: false,
        plate_prefix: "川A",
    },
];

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "罗", "高",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "建华", "志强", "海燕", "晓东",
];
const MODELS: &[(&str, &str)] = &[
    ("福克斯", "两厢 1.5T"),
    ("蒙迪欧", "EcoBoost 245"),
    ("锐界", "ST-Line"),
    ("探险者", "昆仑巅峰版"),
    ("翼虎", "四驱尊享"),
    ("福睿斯", "舒适型"),
    ("领界", "EV 尊领型"),
];
const COLOURS: &[&str] = &["白色", "黑色", "银色", "蓝色", "红色", "灰色"];
const VIN_CHARS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789";

/// A random VIN with a valid check digit and Changan Ford's WMI.
fn demo_vin(rng: &mut StdRng) -> String {
    let mut v: Vec<char> = "LVS".chars().collect();
    for _ in 3..17 {
        v.push(VIN_CHARS[rng.gen_range(0..VIN_CHARS.len())] as char);
    }
    v[8] = '0';
    let draft: String = v.iter().collect();
    v[8] = vin_check_digit(&draft).unwrap_or('0');
    v.into_iter().collect()
}

/// Whether the demo data is already there.
pub async fn is_seeded<C: ConnectionTrait>(db: &C) -> anyhow::Result<bool> {
    Ok(oem::Entity::find()
        .filter(oem::Column::Code.eq(DEMO_OEM_CODE))
        .one(db)
        .await?
        .is_some())
}

/// Seeds the demo network once; returns false when it was already there.
pub async fn seed_demo<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    now: DateTime<Utc>,
    customers_per_store: u32,
) -> anyhow::Result<bool> {
    if is_seeded(db).await? {
        return Ok(false);
    }
    let hash = tokio::task::spawn_blocking(|| hash_password(DEMO_PASSWORD)).await??;
    let txn = db.begin().await?;
    let oem_id = Uuid::now_v7();
    oem::Entity::insert(oem::ActiveModel {
        id: Set(oem_id),
        name: Set("长安福特 Changan Ford".into()),
        code: Set(DEMO_OEM_CODE.into()),
        created_at: Set(now),
    })
    .exec(&txn)
    .await?;
    let group_id = Uuid::now_v7();
    dealer_group::Entity::insert(dealer_group::ActiveModel {
        id: Set(group_id),
        oem_id: Set(oem_id),
        name: Set("渝通汽车集团".into()),
        created_at: Set(now),
    })
    .exec(&txn)
    .await?;
    let mut store_ids = Vec::new();
    let mut sales_teams: Vec<(Uuid, Uuid)> = Vec::new();
    for s in &STORES {
        let id = Uuid::now_v7();
        store::Entity::insert(store::ActiveModel {
            id: Set(id),
            oem_id: Set(oem_id),
            group_id: Set(s.in_group.then_some(group_id)),
            code: Set(s.code.into()),
            name: Set(s.name.into()),
            grade: Set(s.grade.into()),
            city: Set(s.city.into()),
            time_zone: Set("Asia/Shanghai".into()),
            settings: Set(StoreSettings::default().to_json()),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec(&txn)
        .await?;
        for team_name in ["销售一组", "售后服务组"] {
            let team_id = Uuid::now_v7();
            if team_name == "销售一组" {
                sales_teams.push((id, team_id));
            }
            team::Entity::insert(team::ActiveModel {
                id: Set(team_id),
                store_id: Set(id),
                name: Set(team_name.into()),
                lead_turn: Set(0),
                created_at: Set(now),
            })
            .exec(&txn)
            .await?;
        }
        for (n, (model, trim)) in [("锐界", "EcoBoost 245"), ("蒙迪欧", "智控豪华型")]
            .iter()
            .enumerate()
        {
            entity::demo_car::Entity::insert(entity::demo_car::ActiveModel {
                id: Set(Uuid::now_v7()),
                store_id: Set(id),
                model: Set(model.to_string()),
                trim: Set(Some(trim.to_string())),
                plate: Set(format!("{}SJ00{n}", s.plate_prefix)),
                available: Set(true),
                created_at: Set(now),
            })
            .exec(&txn)
            .await?;
        }
        store_ids.push((s, id));
    }
    let mut staff_rows = Vec::new();
    for (i, (username, role, store_code, name)) in DEMO_STAFF.iter().enumerate() {
        let store = store_ids.iter().find(|(s, _)| s.code == *store_code);
        let group = match (role, store) {
            (Role::GroupManager, _) => Some(group_id),
            (_, Some((s, _))) if s.in_group => Some(group_id),
            _ => None,
        };
        let row = staff::ActiveModel {
            id: Set(Uuid::now_v7()),
            oem_id: Set(oem_id),
            group_id: Set(group),
            store_id: Set(store.map(|(_, id)| *id)),
            // Consultants take turns at their store's webhook leads.
            team_id: Set(match (role, store) {
                (Role::SalesConsultant, Some((_, sid))) => {
                    sales_teams.iter().find(|(s, _)| s == sid).map(|(_, t)| *t)
                }
                _ => None,
            }),
            username: Set(username.to_string()),
            mobile: Set(Some(format!("+86139{:08}", 10_000 + i))),
            name: Set(name.to_string()),
            role: Set(role.as_str().into()),
            active: Set(true),
            password_hash: Set(hash.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            deactivated_at: Set(None),
        };
        staff_rows.push(staff::Entity::insert(row).exec_with_returning(&txn).await?);
    }
    let mut rng = StdRng::seed_from_u64(4_004);
    for (n, (s, store_id)) in store_ids.iter().enumerate() {
        let consultants: Vec<Uuid> = staff_rows
            .iter()
            .filter(|r| r.store_id == Some(*store_id) && r.role == Role::SalesConsultant.as_str())
            .map(|r| r.id)
            .collect();
        let made = seed_customers(
            &txn,
            &mut rng,
            s,
            *store_id,
            &consultants,
            customers_per_store,
            n as u32,
            now,
        )
        .await?;
        let of_role = |role: Role| {
            staff_rows
                .iter()
                .find(|r| r.store_id == Some(*store_id) && r.role == role.as_str())
                .map(|r| r.id)
        };
        if let (Some(advisor), Some(care)) =
            (of_role(Role::ServiceAdvisor), of_role(Role::CareAgent))
        {
            let people = crate::seed_history::People {
                store: *store_id,
                consultants: &consultants,
                advisor,
                care,
            };
            crate::seed_history::seed_history(&txn, &mut rng, &people, &made, now).await?;
        }
    }
    txn.commit().await?;
    Ok(true)
}

#[allow(clippy::too_many_arguments)]
async fn seed_customers<C: ConnectionTrait>(
    db: &C,
    rng: &mut StdRng,
    s: &DemoStore,
    store_id: Uuid,
    consultants: &[Uuid],
    count: u32,
    store_no: u32,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<crate::seed_history::DemoCustomer>> {
    let mut made = Vec::new();
    let mut customers = Vec::new();
    let mut vehicles = Vec::new();
    let mut ownerships = Vec::new();
    let mut readings = Vec::new();
    let mut forecasts = Vec::new();
    let mut logs = Vec::new();
    let mut tasks = Vec::new();
    let warranty = crate::customers::rules::Warranty::of(&StoreSettings::default());
    for i in 0..count {
        let id = Uuid::now_v7();
        let name = format!(
            "{}{}",
            SURNAMES[rng.gen_range(0..SURNAMES.len())],
            GIVEN[rng.gen_range(0..GIVEN.len())]
        );
        let prefix = ["138", "139", "150", "186", "188"][rng.gen_range(0..5)];
        let mobile = format!(
            "+86{prefix}{:04}{:04}",
            store_no * 1000 + i,
            rng.gen_range(0..10_000)
        );
        let has_car = rng.gen_bool(0.8);
        let stage = if !has_car {
            LifecycleStage::Prospect
        } else {
            [
                LifecycleStage::NewOwner,
                LifecycleStage::Developing,
                LifecycleStage::Loyal,
                LifecycleStage::Declining,
                LifecycleStage::Lost,
            ][rng.gen_range(0..5)]
        };
        let created = now - Duration::days(rng.gen_range(30..1000));
        let responsible = consultants
            .get(i as usize % consultants.len().max(1))
            .copied();
        customers.push(customer::ActiveModel {
            id: Set(id),
            store_id: Set(store_id),
            name: Set(name.clone()),
            mobile: Set(mobile),
            gender: Set(if rng.gen_bool(0.6) {
                Gender::Male
            } else {
                Gender::Female
            }
            .as_str()
            .into()),
            city: Set(Some(s.city.into())),
            source: Set(
                CustomerSource::ALL[rng.gen_range(0..CustomerSource::ALL.len())]
                    .as_str()
                    .into(),
            ),
            lifecycle_stage: Set(stage.as_str().into()),
            marketing_consent: Set(rng.gen_bool(0.7)),
            sharing_consent: Set(rng.gen_bool(0.6)),
            responsible_staff_id: Set(responsible),
            merged_into_id: Set(None),
            created_at: Set(created),
            updated_at: Set(created),
        });
        logs.push(log_row(
            store_id,
            id,
            LogKind::Created,
            Channel::System,
            responsible,
            format!("Customer {name} created"),
            created,
        ));
        let mut car: Option<(Uuid, &'static str)> = None;
        if has_car {
            let vid = Uuid::now_v7();
            let (model, trim) = MODELS[rng.gen_range(0..MODELS.len())];
            car = Some((vid, model));
            forecasts.push((vid, store_id));
            let delivered = (created + Duration::days(rng.gen_range(1..20))).date_naive();
            vehicles.push(vehicle::ActiveModel {
                id: Set(vid),
                store_id: Set(store_id),
                vin: Set(demo_vin(rng)),
                brand: Set("长安福特".into()),
                model: Set(model.into()),
                trim: Set(Some(trim.into())),
                colour: Set(Some(COLOURS[rng.gen_range(0..COLOURS.len())].into())),
                plate: Set(Some(format!(
                    "{}{:05}",
                    s.plate_prefix,
                    rng.gen_range(10_000..100_000)
                ))),
                purchase_date: Set(Some(delivered)),
                delivery_date: Set(Some(delivered)),
                warranty_ends_on: Set(Some(warranty.ends_on(delivered))),
                warranty_km: Set(Some(warranty.km)),
                owner_id: Set(id),
                created_at: Set(created),
                updated_at: Set(created),
            });
            ownerships.push(vehicle_ownership::ActiveModel {
                id: Set(Uuid::now_v7()),
                store_id: Set(store_id),
                vehicle_id: Set(vid),
                customer_id: Set(id),
                started_on: Set(delivered),
                ended_on: Set(None),
                created_at: Set(created),
            });
            let days = (now.date_naive() - delivered).num_days().max(1);
            readings.push(mileage_reading::ActiveModel {
                id: Set(Uuid::now_v7()),
                store_id: Set(store_id),
                vehicle_id: Set(vid),
                km: Set((days * rng.gen_range(20..80)) as i32),
                read_on: Set(now.date_naive() - Duration::days(rng.gen_range(0..60))),
                source: Set("SERVICE".into()),
                recorded_by: Set(None),
                created_at: Set(now),
            });
            logs.push(log_row(
                store_id,
                id,
                LogKind::Delivery,
                Channel::InPerson,
                responsible,
                format!("{model} delivered"),
                created + Duration::days(5),
            ));
            logs.push(log_row(
                store_id,
                id,
                LogKind::Revisit,
                Channel::Phone,
                responsible,
                "7-day delivery revisit: satisfied".into(),
                created + Duration::days(12),
            ));
        }
        // Some open work so that "my day" has something on the first run.
        let day = |d: i64| now + Duration::days(d) + Duration::hours(i as i64 % 8);
        if i % 4 == 0 {
            let due = day(i as i64 % 10 - 3);
            tasks.push(demo_task(
                store_id,
                id,
                None,
                responsible,
                None,
                (TaskKind::FollowUp, "跟进购车意向".to_string()),
                due,
            ));
        }
        made.push(crate::seed_history::DemoCustomer {
            id,
            car,
            responsible,
        });
        if let Some((vid, model)) = car {
            if i % 6 == 1 {
                let due = day(i as i64 % 5 - 1);
                let title = format!("服务回访：{model}");
                tasks.push(demo_task(
                    store_id,
                    id,
                    Some(vid),
                    None,
                    Some(Role::CareAgent),
                    (TaskKind::Revisit, title),
                    due,
                ));
            }
            if i % 9 == 2 {
                let due = day(i as i64 % 7);
                let title = format!("保养提醒：{model}");
                tasks.push(demo_task(
                    store_id,
                    id,
                    Some(vid),
                    None,
                    Some(Role::ServiceAdvisor),
                    (TaskKind::MaintenanceReminder, title),
                    due,
                ));
            }
        }
    }
    for chunk in customers.chunks(200) {
        customer::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    for chunk in vehicles.chunks(200) {
        vehicle::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    for chunk in ownerships.chunks(200) {
        vehicle_ownership::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    for chunk in readings.chunks(200) {
        mileage_reading::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    for chunk in logs.chunks(200) {
        customer_log::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    // Their next services are predicted by the forecast pass.
    crate::customers::forecast::mark_stale(db, &forecasts, now)
        .await
        .map_err(|e| anyhow::anyhow!("marking demo forecasts: {e:?}"))?;
    tasks_store::insert_tasks(db, tasks, now)
        .await
        .map_err(|e| anyhow::anyhow!("inserting demo tasks: {e:?}"))?;
    Ok(made)
}

/// An open demo task (those due in the past turn overdue at the first tick).
fn demo_task(
    store_id: Uuid,
    customer_id: Uuid,
    vehicle_id: Option<Uuid>,
    assignee: Option<Uuid>,
    queue: Option<Role>,
    (kind, title): (TaskKind, String),
    due: DateTime<Utc>,
) -> NewTask {
    NewTask {
        store_id,
        customer_id,
        kind,
        reason: format!("Demo data: {title}"),
        title,
        subject: None,
        vehicle_id,
        assignee_id: assignee,
        queue,
        window: Window {
            earliest: due - Duration::days(1),
            due,
            latest: due,
        },
        rule: None,
        step: None,
        remind_at: None,
        max_escalation: 1,
        escalation_wait_hours: None,
        created_by: None,
    }
}

fn log_row(
    store_id: Uuid,
    customer_id: Uuid,
    kind: LogKind,
    channel: Channel,
    staff_id: Option<Uuid>,
    summary: String,
    at: DateTime<Utc>,
) -> customer_log::ActiveModel {
    customer_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(store_id),
        customer_id: Set(customer_id),
        kind: Set(kind.as_str().into()),
        channel: Set(channel.as_str().into()),
        staff_id: Set(staff_id),
        summary: Set(summary),
        outcome: Set(None),
        subject_type: Set(None),
        subject_id: Set(None),
        occurred_at: Set(at),
        created_at: Set(at),
    }
}

/// The lines printed at start-up so a newcomer can sign in.
pub fn demo_logins_text() -> String {
    let mut out = format!("Demo logins (password for all: {DEMO_PASSWORD}):\n");
    for (u, role, store, name) in DEMO_STAFF {
        let store = if store.is_empty() { "-" } else { store };
        out.push_str(&format!(
            "  {u:<14} {:<17} {store:<6} {name}\n",
            role.as_str()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_vins_are_valid() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..100 {
            let v = demo_vin(&mut rng);
            assert_eq!(
                crate::customers::rules::normalize_vin(&v).as_deref(),
                Ok(v.as_str())
            );
        }
    }
}
