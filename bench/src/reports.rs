//! The managers' reports over the 1,000,000-customer network (`--phases
//! reports`, after `network` and `caredata`): each report over a year, as
//! a store manager (one store of 10,000 customers), the group manager and
//! the OEM (the whole network), by month and by store or staff.
use serde_json::json;

use crate::{sales::time_query, Server};

/// Times every report for the three reaches.
pub async fn reads(
    srv: &Server,
    db: &sea_orm::DatabaseConnection,
    requests: usize,
) -> anyhow::Result<()> {
    use sea_orm::ConnectionTrait;
    // Standings for the value report: one daily pass if none ran yet.
    let have: i64 = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT count(*) AS n FROM customer_standing",
        ))
        .await?
        .and_then(|r| r.try_get::<i64>("", "n").ok())
        .unwrap_or(0);
    if have == 0 {
        let t = std::time::Instant::now();
        api::care::retention::run_due(db, chrono::Utc::now())
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        println!(
            "retention pass for the standings: {:.1}s",
            t.elapsed().as_secs_f64()
        );
    }
    let today = chrono::Utc::now().date_naive();
    // The generated leads are 400 days old: a year that covers them.
    let leads_to = today - chrono::Duration::days(45);
    let leads_from = leads_to - chrono::Duration::days(364);
    let year_from = today - chrono::Duration::days(364);
    let reports = [
        ("sales funnel by month", format!("{{ salesFunnel(filter: {{from: \"{leads_from}\", to: \"{leads_to}\"}}) {{ key {{ label }} leads contacted testDriven ordered delivered conversionRate }} }}")),
        ("sales funnel by channel", format!("{{ salesFunnel(filter: {{from: \"{leads_from}\", to: \"{leads_to}\"}}, by: CHANNEL) {{ key {{ label }} leads conversionRate meanFirstResponseMinutes }} }}")),
        ("service by month (with CSI)", format!("{{ serviceReport(filter: {{from: \"{year_from}\", to: \"{today}\"}}) {{ key {{ label }} carEntries revenueFen firstTimeFixRate onTimeRate csi }} }}")),
        ("service by store", format!("{{ serviceReport(filter: {{from: \"{year_from}\", to: \"{today}\"}}, by: STORE) {{ key {{ label }} carEntries revenueFen csi }} }}")),
        ("complaints by cause", format!("{{ complaintReport(filter: {{from: \"{year_from}\", to: \"{today}\"}}, by: CAUSE) {{ key {{ label }} complaints withinSlaRate overdue escalated }} }}")),
        ("revisits and claims by month", format!("{{ followUpReport(filter: {{from: \"{year_from}\", to: \"{today}\"}}) {{ key {{ label }} revisitsDue revisitOnTimeRate claims }} }}")),
        ("staff scorecard (this month)", format!("{{ staffScorecard(month: \"{}\") {{ staff {{ label }} tasksDone unitsDelivered serviceRevenueFen csi }} }}", today.format("%Y-%m"))),
        ("customer value (Pareto, stages, segments)", "{ customerValueReport { customers topRevenueShare byStage { customers } bySegment { customers } } }".to_string()),
    ];
    for (who, users) in [
        (
            "store manager (10,000 customers)",
            vec!["n0.m".to_string(), "n1.m".to_string()],
        ),
        (
            "group manager (the whole network)",
            vec!["group.manager".to_string()],
        ),
        (
            "OEM staff (the whole network)",
            vec!["oem.staff".to_string()],
        ),
    ] {
        let tokens = srv.login_all(&users).await?;
        println!("\n{who}:");
        for (name, q) in &reports {
            time_query(srv, &tokens, name, q, |_| json!({}), requests).await?;
        }
        if who.starts_with("store") {
            time_query(
                srv,
                &tokens,
                "store trend (12 months)",
                "{ storeTrend(months: 12) { alert months { month carEntries revenueFen } } }",
                |_| json!({}),
                requests,
            )
            .await?;
        }
    }
    Ok(())
}
