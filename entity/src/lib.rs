//! sea-orm entities, one module per table. No business logic lives here: the
//! domains in `api` give these rows their meaning.

pub mod advisor_slot;
pub mod booking_slot;
pub mod campaign;
pub mod campaign_vehicle;
pub mod customer;
pub mod customer_log;
pub mod customer_merge;
pub mod customer_phone;
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
pub mod sales_order;
pub mod sales_quota;
pub mod service_appointment;
pub mod service_forecast;
pub mod staff;
pub mod store;
pub mod task;
pub mod task_reminder;
pub mod team;
pub mod test_drive;
pub mod vehicle;
pub mod vehicle_ownership;
pub mod warranty_claim;
