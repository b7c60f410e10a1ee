//! The access matrix: every query, mutation, subscription and every field
//! that carries customer data, asked by every role (and by nobody) about
//! five customers: the consultant's own, a colleague's, a colleague's with
//! sharing consent, and another store's with and without consent. Each cell
//! names the answer (data, null, a userError code or an error code) and
//! whose personal data may appear in it. The schema is read by
//! introspection: an operation or customer-bearing field without a row
//! fails the test, so every new domain must extend this table.
use std::collections::BTreeSet;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};

use crate::support::{spawn_app_with, Session, TestApp};

/// Who asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anon,
    Sales1,
    Advisor,
    Care,
    Warranty,
    Manager,
    Group,
    Oem,
    Admin,
}

const EVERYONE: [Who; 9] = [
    Who::Anon,
    Who::Sales1,
    Who::Advisor,
    Who::Care,
    Who::Warranty,
    Who::Manager,
    Who::Group,
    Who::Oem,
    Who::Admin,
];

impl Who {
    fn username(self) -> Option<&'static str> {
        Some(match self {
            Who::Anon => return None,
            Who::Sales1 => "cq.sales1",
            Who::Advisor => "cq.advisor",
            Who::Care => "cq.care",
            Who::Warranty => "cq.warranty",
            Who::Manager => "cq.manager",
            Who::Group => "group.manager",
            Who::Oem => "oem.staff",
            Who::Admin => "admin",
        })
    }
    /// Works inside store CQ001.
    fn store_level(self) -> bool {
        matches!(
            self,
            Who::Sales1 | Who::Advisor | Who::Care | Who::Warranty | Who::Manager
        )
    }
    fn network(self) -> bool {
        matches!(self, Who::Group | Who::Oem | Who::Admin)
    }
}

/// The customer a cell is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum T {
    /// cq.sales1's own customer, no sharing consent.
    Own,
    /// cq.sales2's customer, no consent.
    Colleague,
    /// cq.sales2's customer who consented to sharing.
    Consented,
    /// A CD002 customer, no consent (CD002 is in no group).
    OtherStore,
    /// A CD002 customer with consent.
    OtherConsented,
}

const TARGETS: [T; 5] = [
    T::Own,
    T::Colleague,
    T::Consented,
    T::OtherStore,
    T::OtherConsented,
];

impl T {
    fn in_cq(self) -> bool {
        matches!(self, T::Own | T::Colleague | T::Consented)
    }
    fn consent(self) -> bool {
        matches!(self, T::Consented | T::OtherConsented)
    }
}

/// Whether `w` may see customer `t` (DESIGN.md's security model).
fn sees(w: Who, t: T) -> bool {
    match w {
        Who::Anon => false,
        Who::Sales1 => t == T::Own,
        Who::Advisor | Who::Care | Who::Warranty | Who::Manager => t.in_cq(),
        Who::Group => t.in_cq() && t.consent(),
        Who::Oem | Who::Admin => t.consent(),
    }
}

/// Whether `w` sees the fixture task about `t` (assigned to the customer's
/// consultant).
fn sees_task(w: Who, t: T) -> bool {
    match w {
        Who::Sales1 => t == T::Own,
        Who::Manager | Who::Group => t.in_cq(),
        Who::Oem | Who::Admin => true,
        _ => false,
    }
}

/// Whether `w` has work about `t` besides the fixture task: the fixture
/// recall's contact task for each car goes to its store's advisors, and
/// the deadlines of each customer's complaint to the care agent who
/// recorded it.
fn in_queue(w: Who, t: T) -> bool {
    matches!(w, Who::Advisor | Who::Care) && t.in_cq()
}

/// The answer a store write gives: FORBIDDEN beyond the store, NOT_FOUND
/// for a customer one may not see, otherwise `ok`.
fn write(w: Who, t: T, ok: &'static str) -> &'static str {
    if w.network() {
        "error:FORBIDDEN"
    } else if !sees(w, t) {
        "user:NOT_FOUND"
    } else {
        ok
    }
}

/// One fixture customer and what hangs off it.
struct Target {
    name: String,
    customer: String,
    mobile: String,
    vehicle: String,
    vin: String,
    plate: String,
    task: String,
    log: String,
    lead: String,
    complaint: String,
    repair_order: String,
    appointment: String,
    claim: String,
    /// The customer's complaint to care (through the OEM hotline, so that
    /// OEM staff have it on their board) and its words.
    care_complaint: String,
    care_words: String,
}

impl Target {
    /// Texts that are this customer's personal data.
    fn secrets(&self) -> Vec<&str> {
        vec![
            &self.name,
            &self.mobile,
            &self.vin,
            &self.plate,
            &self.log,
            &self.complaint,
            &self.care_words,
        ]
    }
}

struct Fix {
    targets: Vec<(T, Target)>,
    cq_store: String,
    sales1: String,
}

impl Fix {
    fn get(&self, t: T) -> &Target {
        &self
            .targets
            .iter()
            .find(|(k, _)| *k == t)
            .expect("fixture target")
            .1
    }
}

async fn build_target(
    app: &TestApp,
    owner: &Session<'_>,
    (advisor, clerk): (&Session<'_>, &Session<'_>),
    (n, name, consent): (u32, &str, bool),
) -> Target {
    let mobile = format!("1380000000{n}");
    let customer = owner.create_customer(name, &mobile, consent).await;
    let (vin, plate) = (crate::support::valid_vin(100 + n), format!("渝A8800{n}"));
    let v = advisor
        .data(
            "mutation($i: CreateVehicleInput!) { createVehicle(input: $i) { vehicle { id } userErrors { code message } } }",
            json!({"i": {"ownerId": customer, "vin": vin, "brand": "长安福特", "model": "锐界", "plate": plate, "mileageKm": 1000, "deliveryDate": "2025-06-01"}}),
        )
        .await;
    let vehicle = v["createVehicle"]["vehicle"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("vehicle for {name}: {v}"))
        .to_string();
    let log = format!("{name}的通话记录");
    owner
        .data(
            "mutation($i: RecordContactInput!) { recordContact(input: $i) { entry { id } } }",
            json!({"i": {"customerId": customer, "summary": log}}),
        )
        .await;
    let t = owner
        .data(
            "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } userErrors { code } } }",
            json!({"i": {"customerId": customer, "title": format!("回电{name}"), "reason": format!("{name}想换车"), "dueAt": "2026-11-24T03:00:00Z"}}),
        )
        .await;
    let task = t["createTask"]["task"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let l = owner
        .data(
            "mutation($i: CreateLeadInput!) { createLead(input: $i) { lead { id } userErrors { code } } }",
            json!({"i": {"customerId": customer, "channel": "PHONE", "interestModel": "锐界"}}),
        )
        .await;
    let lead = l["createLead"]["lead"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("lead for {name}: {l}"))
        .to_string();
    // An order on the lead, so that order reads have the customer to show.
    let o = owner
        .data(
            "mutation($i: CreateSalesOrderInput!) { createSalesOrder(input: $i) { order { id } userErrors { code } } }",
            json!({"i": {"leadId": lead, "model": "锐界", "priceYuan": 250000, "payment": {"method": "CASH"}}}),
        )
        .await;
    assert!(
        o["createSalesOrder"]["order"]["id"].is_string(),
        "order for {name}: {o}"
    );
    let (complaint, repair_order, appointment, claim) =
        service_records(advisor, clerk, &vehicle, n, name).await;
    let (care_complaint, care_words) = care_records(app, &customer, &repair_order, n, name).await;
    Target {
        care_complaint,
        care_words,
        complaint,
        repair_order,
        appointment,
        claim,
        name: name.to_string(),
        customer,
        mobile: format!("+86{mobile}"),
        vehicle,
        vin,
        plate,
        task,
        log,
        lead,
    }
}

/// The after-sales records of a fixture customer: a booked appointment
/// checked in as a warranty repair order, its work done (not handed back,
/// so that it hands the engine no work) and its claim drafted. Returns the
/// complaint (the customer's words), the order, appointment and claim ids.
async fn service_records(
    advisor: &Session<'_>,
    clerk: &Session<'_>,
    vehicle: &str,
    n: u32,
    name: &str,
) -> (String, String, String, String) {
    let id = |v: &Value, path: &[&str]| {
        let mut x = v;
        for p in path {
            x = &x[*p];
        }
        x.as_str()
            .unwrap_or_else(|| panic!("{path:?} for {name}: {v}"))
            .to_string()
    };
    let a = advisor
        .data(
            "mutation($i: BookServiceInput!) { bookService(input: $i) { appointment { id } userErrors { code message } } }",
            json!({"i": {"vehicleId": vehicle, "source": "PHONE", "startsAt": format!("2026-11-24T0{n}:00:00Z"), "endsAt": format!("2026-11-24T0{n}:30:00Z")}}),
        )
        .await;
    let appointment = id(&a, &["bookService", "appointment", "id"]);
    let complaint = format!("{name}说刹车异响");
    let o = advisor
        .data(
            "mutation($i: OpenRepairOrderInput!) { openRepairOrder(input: $i) { order { id } userErrors { code message } } }",
            json!({"i": {"appointmentId": appointment, "kind": "WARRANTY", "mileageIn": 1200, "complaint": complaint}}),
        )
        .await;
    let order = id(&o, &["openRepairOrder", "order", "id"]);
    advisor
        .data(
            "mutation($i: UpdateRepairOrderInput!) { updateRepairOrder(input: $i) { userErrors { code } } }",
            json!({"i": {"orderId": order, "parts": [{"partNo": "BP-1", "name": "刹车片", "quantity": 1, "unitPriceFen": 30000, "underWarranty": true}]}}),
        )
        .await;
    for st in ["IN_PROGRESS", "DONE"] {
        advisor
            .data(
                "mutation($i: SetRepairOrderStatusInput!) { setRepairOrderStatus(input: $i) { userErrors { code } } }",
                json!({"i": {"orderId": order, "status": st}}),
            )
            .await;
    }
    let c = clerk
        .data(
            "mutation($i: FileWarrantyClaimInput!) { fileWarrantyClaim(input: $i) { claim { id } userErrors { code message } } }",
            json!({"i": {"repairOrderId": order, "failedPart": "刹车片", "cause": "磨损异常"}}),
        )
        .await;
    let claim = id(&c, &["fileWarrantyClaim", "claim", "id"]);
    (complaint, order, appointment, claim)
}

/// The care records of a fixture customer: a complaint received through
/// the OEM hotline, a survey about the repair order (a good score: no
/// complaint of its own) and a win-back attempt whose note names them.
/// Returns the complaint's id and words.
async fn care_records(
    app: &TestApp,
    customer: &str,
    order: &str,
    n: u32,
    name: &str,
) -> (String, String) {
    let care = app.login(if n <= 3 { "cq.care" } else { "cd.care" }).await;
    let words = format!("{name}投诉等待太久");
    let c = care
        .data(
            "mutation($i: OpenComplaintInput!) { openComplaint(input: $i) { complaint { id } userErrors { code message } } }",
            json!({"i": {"customerId": customer, "channel": "OEM_HOTLINE", "complaint": {"content": words, "category": "SERVICE", "repairOrderId": order}}}),
        )
        .await;
    let id = c["openComplaint"]["complaint"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("complaint for {name}: {c}"))
        .to_string();
    let s = care
        .data(
            "mutation($i: RecordSurveyInput!) { recordSurvey(input: $i) { survey { id } complaint { id } userErrors { code message } } }",
            json!({"i": {"customerId": customer, "eventId": order, "method": "LOUNGE", "answers": [{"key": "overall", "score": 9}, {"key": "comments", "text": format!("{name}说挺好")}]}}),
        )
        .await;
    assert!(
        s["recordSurvey"]["survey"]["id"].is_string(),
        "survey for {name}: {s}"
    );
    assert!(s["recordSurvey"]["complaint"].is_null(), "{s}");
    let w = care
        .data(
            "mutation($i: RecordWinBackInput!) { recordWinBack(input: $i) { attempt { result } userErrors { code } } }",
            json!({"i": {"customerId": customer, "reason": "PRICE", "result": "PENDING", "note": format!("{name}嫌保养贵")}}),
        )
        .await;
    assert_eq!(w["recordWinBack"]["attempt"]["result"], "PENDING", "{w}");
    (id, words)
}

async fn fixture(app: &TestApp) -> Fix {
    let s1 = app.login("cq.sales1").await;
    let s2 = app.login("cq.sales2").await;
    let cd = app.login("cd.sales1").await;
    let cq_adv = app.login("cq.advisor").await;
    let cd_adv = app.login("cd.advisor").await;
    let cq_clerk = app.login("cq.warranty").await;
    let cd_clerk = app.login("cd.warranty").await;
    let (cq_svc, cd_svc) = ((&cq_adv, &cq_clerk), (&cd_adv, &cd_clerk));
    let targets = vec![
        (
            T::Own,
            build_target(app, &s1, cq_svc, (1, "甲自己", false)).await,
        ),
        (
            T::Colleague,
            build_target(app, &s2, cq_svc, (2, "乙同事", false)).await,
        ),
        (
            T::Consented,
            build_target(app, &s2, cq_svc, (3, "丙共享", true)).await,
        ),
        (
            T::OtherStore,
            build_target(app, &cd, cd_svc, (4, "丁外店", false)).await,
        ),
        (
            T::OtherConsented,
            build_target(app, &cd, cd_svc, (5, "戊外店共享", true)).await,
        ),
    ];
    // A recall naming every fixture car: each store's advisors get a
    // contact task per car of theirs.
    let vins: Vec<String> = targets.iter().map(|(_, t)| t.vin.clone()).collect();
    let r = app
        .login("oem.staff")
        .await
        .data(
            "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { affected userErrors { code } } }",
            json!({"i": {"code": "FIX-1", "title": "刹车片检查", "kind": "RECALL", "startsOn": "2026-11-23", "vins": vins.join("\n")}}),
        )
        .await;
    assert_eq!(r["createCampaign"]["affected"], 5, "{r}");
    // The daily retention pass gives every customer a standing.
    assert_eq!(app.retention().await.stores, 2);
    let m = app.login("cq.manager").await;
    let store = m.data("{ myStore { id } }", json!({})).await["myStore"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let sales1 = m.staff_id("cq.sales1").await;
    Fix {
        targets,
        cq_store: store,
        sales1,
    }
}

/// How a response answered at `key`: `data`, `null`, `user:CODE` (first
/// userError) or `error:CODE` (first GraphQL error).
fn classify(r: &Value, key: &str) -> String {
    if let Some(code) = r["errors"][0]["extensions"]["code"].as_str() {
        return format!("error:{code}");
    }
    let v = &r["data"][key];
    if let Some(code) = v["userErrors"][0]["code"].as_str() {
        return format!("user:{code}");
    }
    if v.is_null() {
        "null".into()
    } else {
        "data".into()
    }
}

type Vars = fn(&Fix, &Target) -> Value;
type Status = fn(Who, T) -> &'static str;
type Shows = fn(Who, T) -> bool;

/// One row: the operations and fields it covers, the document, its
/// variables for a target, the expected answer and whose data may show.
struct Row {
    covers: &'static [&'static str],
    doc: &'static str,
    key: &'static str,
    targeted: bool,
    public: bool,
    vars: Vars,
    status: Status,
    shows: Shows,
}

fn never(_: Who, _: T) -> bool {
    false
}
fn no_vars(_: &Fix, _: &Target) -> Value {
    json!({})
}
fn data(_: Who, _: T) -> &'static str {
    "data"
}
fn data_if_seen(w: Who, t: T) -> &'static str {
    if sees(w, t) {
        "data"
    } else {
        "null"
    }
}
/// Who reads the managers' reports.
const REPORTS: [Who; 4] = [Who::Manager, Who::Group, Who::Oem, Who::Admin];

fn only(roles: &'static [Who], w: Who) -> &'static str {
    if roles.contains(&w) {
        "data"
    } else {
        "error:FORBIDDEN"
    }
}

macro_rules! row {
    ($covers:expr, $doc:expr, $key:expr, targeted: $t:expr, vars: $vars:expr, status: $status:expr, shows: $shows:expr $(, public: $public:expr)?) => {
        Row {
            covers: $covers,
            doc: $doc,
            key: $key,
            targeted: $t,
            public: false $(|| $public)?,
            vars: $vars,
            status: $status,
            shows: $shows,
        }
    };
}

fn rows() -> Vec<Row> {
    vec![
        // ---- reads of one customer and what hangs off them
        row!(&["Query.customer", "Customer.vehicles", "Customer.log", "Customer.responsibleStaff"],
            "query($id: ID!) { customer(id: $id) { name mobile otherPhones vehicles { vin plate } log(first: 5) { edges { node { summary outcome } } } responsibleStaff { name } } }",
            "customer", targeted: true,
            vars: |_, t| json!({"id": t.customer}), status: data_if_seen, shows: sees),
        row!(&["Query.node"],
            "query($id: ID!) { node(id: $id) { id ... on Customer { name mobile } } }",
            "node", targeted: true,
            vars: |_, t| json!({"id": t.customer}), status: data_if_seen, shows: sees),
        row!(&["Query.nodes"],
            "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Customer { name } ... on Vehicle { vin } } }",
            "nodes", targeted: true,
            vars: |_, t| json!({"ids": [t.customer, t.vehicle]}), status: data, shows: sees),
        row!(&["Query.customerByPhone"],
            "query($p: String!) { customerByPhone(phone: $p) { name log(first: 1) { edges { node { summary } } } } }",
            "customerByPhone", targeted: true,
            vars: |_, t| json!({"p": t.mobile}), status: data_if_seen, shows: sees),
        row!(&["Query.vehicle", "Vehicle.owner", "Vehicle.ownershipHistory", "VehicleOwnership.customer", "Vehicle.mileageReadings"],
            "query($id: ID!) { vehicle(id: $id) { vin plate owner { name } ownershipHistory { customer { name mobile } } mileageReadings { km } } }",
            "vehicle", targeted: true,
            vars: |_, t| json!({"id": t.vehicle}), status: data_if_seen, shows: sees),
        row!(&["Vehicle.warrantyCoverage"],
            "query($v: String!) { vehicleByVin(vin: $v) { vin warrantyCoverage(mileageKm: 5000) { status endsOn } } }",
            "vehicleByVin", targeted: true,
            vars: |_, t| json!({"v": t.vin}), status: data_if_seen, shows: sees),
        row!(&["Query.vehicleByVin"],
            "query($v: String!) { vehicleByVin(vin: $v) { vin plate owner { name } } }",
            "vehicleByVin", targeted: true,
            vars: |_, t| json!({"v": t.vin}), status: data_if_seen, shows: sees),
        row!(&["Task.customer", "Task.lastContact", "Task.vehicle", "Task.title", "Task.reason", "Task.outcome", "Task.assignee"],
            "query($id: ID!) { node(id: $id) { ... on Task { title reason outcome customer { name mobile } lastContact { summary } vehicle { plate } assignee { name } } } }",
            "node", targeted: true,
            vars: |_, t| json!({"id": t.task}),
            status: |w, t| if sees_task(w, t) { "data" } else { "null" },
            shows: |w, t| sees_task(w, t) && sees(w, t)),
        // ---- lists: every fixture customer that shows must be one the asker may see
        row!(&["Query.customers"],
            "{ customers(first: 100) { totalCount edges { node { name mobile vehicles { vin plate } } } } }",
            "customers", targeted: false,
            vars: no_vars, status: data, shows: sees),
        row!(&["Query.tasks", "Query.myDay", "MyDay.overdue", "MyDay.dueToday", "MyDay.upcoming"],
            "fragment T on Task { title reason customer { name mobile } lastContact { summary } vehicle { plate vin } } { tasks(first: 100) { edges { node { ...T } } } myDay(upcomingDays: 7) { overdue { ...T } dueToday { ...T } upcoming { ...T } } }",
            "tasks", targeted: false,
            vars: no_vars, status: data, shows: |w, t| (sees_task(w, t) || in_queue(w, t)) && sees(w, t)),
        row!(&["Query.notifications", "Notification.body"],
            "{ notifications(first: 100) { edges { node { body channel } } } }",
            "notifications", targeted: false,
            vars: no_vars, status: |w, _| only(&[Who::Manager], w), shows: never),
        row!(&["Query.myNotifications"],
            "{ myNotifications(first: 100) { edges { node { body } } } }",
            "myNotifications", targeted: false,
            vars: no_vars, status: data, shows: never),
        row!(&["Query.outboxSummary"],
            "{ outboxSummary { store { code } pending dead } }",
            "outboxSummary", targeted: false,
            vars: no_vars, status: |w, _| only(&[Who::Manager, Who::Group, Who::Oem, Who::Admin], w), shows: never),
        row!(&["Query.workload"],
            "{ workload { staff { name } queue open overdue } }",
            "workload", targeted: false,
            vars: no_vars, status: |w, _| only(&[Who::Manager], w), shows: never),
        row!(&["Query.me"], "{ me { username } }", "me", targeted: false,
            vars: no_vars, status: data, shows: never),
        row!(&["Query.myStore"], "{ myStore { code settings { deliveryRevisitDays } } }", "myStore", targeted: false,
            vars: no_vars, status: |w, _| if w.store_level() { "data" } else { "null" }, shows: never),
        row!(&["Query.stores"], "{ stores { code } }", "stores", targeted: false,
            vars: no_vars, status: data, shows: never),
        row!(&["Query.staffMembers"], "{ staffMembers(first: 100) { totalCount } }", "staffMembers", targeted: false,
            vars: no_vars, status: data, shows: never),
        row!(&["Query.enumLabels"], "{ enumLabels(name: \"Role\") { name } }", "enumLabels", targeted: false,
            vars: no_vars, status: data, shows: never, public: true),
        // ---- writes about one customer: inputs fail validation after the
        // access check, so a cell shows the access decision and stores nothing
        row!(&["Mutation.createTask"],
            "mutation($i: CreateTaskInput!) { createTask(input: $i) { userErrors { code } } }",
            "createTask", targeted: true,
            vars: |_, t| json!({"i": {"customerId": t.customer, "title": " ", "dueAt": "2026-11-30T03:00:00Z"}}),
            status: |w, t| write(w, t, "user:REQUIRED"), shows: never),
        row!(&["Mutation.completeTask"],
            "mutation($i: CompleteTaskInput!) { completeTask(input: $i) { userErrors { code } } }",
            "completeTask", targeted: true,
            vars: |_, t| json!({"i": {"taskId": t.task, "outcome": " "}}),
            status: task_work, shows: never),
        row!(&["Mutation.cancelTask"],
            "mutation($i: CancelTaskInput!) { cancelTask(input: $i) { userErrors { code } } }",
            "cancelTask", targeted: true,
            vars: |_, t| json!({"i": {"taskId": t.task, "reason": " "}}),
            status: task_work, shows: never),
        row!(&["Mutation.reassignTask"],
            "mutation($i: ReassignTaskInput!) { reassignTask(input: $i) { userErrors { code } } }",
            "reassignTask", targeted: true,
            vars: |_, t| json!({"i": {"taskId": t.task, "assigneeId": "not-an-id"}}),
            status: |w, t| match w {
                Who::Manager if t.in_cq() => "user:INVALID_ID",
                Who::Manager => "user:NOT_FOUND",
                _ => "error:FORBIDDEN",
            },
            shows: never),
        row!(&["Mutation.reassignTasks"],
            "mutation($i: ReassignTasksInput!) { reassignTasks(input: $i) { userErrors { code } } }",
            "reassignTasks", targeted: false,
            vars: |f, _| json!({"i": {"fromStaffId": f.sales1, "toStaffId": "not-an-id"}}),
            status: |w, _| if w == Who::Manager { "user:INVALID_ID" } else { "error:FORBIDDEN" },
            shows: never),
        row!(&["Mutation.requestCustomerHandover"],
            "mutation($i: RequestCustomerHandoverInput!) { requestCustomerHandover(input: $i) { userErrors { code } } }",
            "requestCustomerHandover", targeted: true,
            vars: |_, t| json!({"i": {"mobile": t.mobile, "reason": " "}}),
            status: |w, t| if w.network() {
                "error:FORBIDDEN"
            } else if !t.in_cq() {
                "user:NOT_FOUND"
            } else {
                "user:REQUIRED"
            },
            shows: never),
        row!(&["Mutation.answerHandoverRequest"],
            "mutation($i: AnswerHandoverRequestInput!) { answerHandoverRequest(input: $i) { userErrors { code } } }",
            "answerHandoverRequest", targeted: false,
            vars: |_, _| json!({"i": {"taskId": "not-an-id", "approve": true}}),
            status: |w, _| if w == Who::Manager { "user:INVALID_ID" } else { "error:FORBIDDEN" },
            shows: never),
        row!(&["Mutation.sendCustomerMessage"],
            "mutation($i: SendCustomerMessageInput!) { sendCustomerMessage(input: $i) { userErrors { code } } }",
            "sendCustomerMessage", targeted: true,
            vars: |_, t| json!({"i": {"customerId": t.customer, "category": "SERVICE", "text": " "}}),
            status: |w, t| write(w, t, "user:REQUIRED"), shows: never),
        row!(&["Mutation.updateCustomer"],
            "mutation($i: UpdateCustomerInput!) { updateCustomer(input: $i) { userErrors { code } } }",
            "updateCustomer", targeted: true,
            vars: |_, t| json!({"i": {"id": t.customer, "name": " "}}),
            status: |w, t| write(w, t, "user:REQUIRED"), shows: never),
        row!(&["Mutation.mergeCustomers"],
            "mutation($i: MergeCustomersInput!) { mergeCustomers(input: $i) { userErrors { code } } }",
            "mergeCustomers", targeted: true,
            vars: |_, t| json!({"i": {"survivorId": t.customer, "mergedId": t.customer}}),
            status: |w, t| match w {
                Who::Manager | Who::Care => write(w, t, "user:INVALID"),
                _ => "error:FORBIDDEN",
            },
            shows: never),
        row!(&["Mutation.recordContact"],
            "mutation($i: RecordContactInput!) { recordContact(input: $i) { userErrors { code } } }",
            "recordContact", targeted: true,
            vars: |_, t| json!({"i": {"customerId": t.customer, "summary": " "}}),
            status: |w, t| write(w, t, "user:REQUIRED"), shows: never),
        row!(&["Mutation.createVehicle"],
            "mutation($i: CreateVehicleInput!) { createVehicle(input: $i) { userErrors { code } } }",
            "createVehicle", targeted: true,
            vars: |_, t| json!({"i": {"ownerId": t.customer, "vin": "X", "brand": "长安福特", "model": "锐界"}}),
            status: |w, t| write(w, t, "user:INVALID_VIN"), shows: never),
        row!(&["Mutation.updateVehicle"],
            "mutation($i: UpdateVehicleInput!) { updateVehicle(input: $i) { userErrors { code } } }",
            "updateVehicle", targeted: true,
            vars: |_, t| json!({"i": {"id": t.vehicle, "brand": " "}}),
            status: |w, t| write(w, t, "user:REQUIRED"), shows: never),
        row!(&["Mutation.recordMileage"],
            "mutation($i: RecordMileageInput!) { recordMileage(input: $i) { userErrors { code } } }",
            "recordMileage", targeted: true,
            vars: |_, t| json!({"i": {"vehicleId": t.vehicle, "km": -1}}),
            status: |w, t| write(w, t, "user:OUT_OF_RANGE"), shows: never),
        row!(&["Mutation.recordMileageReadings"],
            "mutation($i: RecordMileageReadingsInput!) { recordMileageReadings(input: $i) { recorded userErrors { code } } }",
            "recordMileageReadings", targeted: true,
            vars: |_, t| json!({"i": {"readings": [{"vin": t.vin, "km": -1}]}}),
            status: |w, t| match w {
                Who::Advisor | Who::Manager if t.in_cq() => "user:OUT_OF_RANGE",
                Who::Advisor | Who::Manager => "user:NOT_FOUND",
                _ => "error:FORBIDDEN",
            },
            shows: never),
        row!(&["Mutation.transferVehicle"],
            "mutation($i: TransferVehicleInput!) { transferVehicle(input: $i) { userErrors { code } } }",
            "transferVehicle", targeted: true,
            vars: |_, t| json!({"i": {"vehicleId": t.vehicle, "newOwnerId": t.customer}}),
            status: |w, t| write(w, t, "user:INVALID"), shows: never),
        // ---- writes about no one customer
        row!(&["Mutation.createCustomer"],
            "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { userErrors { code } } }",
            "createCustomer", targeted: false,
            vars: |_, _| json!({"i": {"name": " ", "mobile": "1"}}),
            status: |w, _| if w.network() { "error:FORBIDDEN" } else { "user:REQUIRED" },
            shows: never),
        row!(&["Query.today"], "{ today }", "today", targeted: false, vars: no_vars, status: data, shows: never),
        row!(&["Query.storeSettingsCatalogue"],
            "{ storeSettingsCatalogue { name description min max default } }",
            "storeSettingsCatalogue", targeted: false, vars: no_vars, status: data, shows: never),
        row!(&["Mutation.retryNotifications"],
            "mutation { retryNotifications(ids: []) { requeued } }",
            "retryNotifications", targeted: false, vars: no_vars, status: |w, _| manager_only(w, "data"), shows: never),
        row!(&["Mutation.markNotificationsRead"],
            "mutation { markNotificationsRead(ids: []) { marked } }",
            "markNotificationsRead", targeted: false,
            vars: no_vars, status: data, shows: never),
        row!(&["Mutation.login"],
            "mutation($l: String!) { login(input: {login: $l, password: \"wrong-password\"}) { accessToken userErrors { code } } }",
            "login", targeted: false,
            vars: |_, _| json!({"l": "nobody.at.all"}),
            status: |_, _| "user:INVALID_CREDENTIALS", shows: never, public: true),
        row!(&["Mutation.refresh"],
            "mutation { refresh(input: {refreshToken: \"rt_garbage\"}) { accessToken userErrors { code } } }",
            "refresh", targeted: false,
            vars: no_vars, status: |_, _| "user:TOKEN_INVALID", shows: never, public: true),
        row!(&["Mutation.logout"],
            "mutation { logout(input: {refreshToken: \"rt_garbage\"}) { ok } }",
            "logout", targeted: false,
            vars: no_vars, status: data, shows: never, public: true),
        row!(&["Mutation.changePassword"],
            "mutation { changePassword(input: {currentPassword: \"x\", newPassword: \"short\"}) { userErrors { code } } }",
            "changePassword", targeted: false,
            vars: no_vars, status: |_, _| "user:INVALID", shows: never),
        row!(&["Mutation.updateStore"],
            "mutation($i: UpdateStoreInput!) { updateStore(input: $i) { userErrors { code } } }",
            "updateStore", targeted: false,
            vars: |f, _| json!({"i": {"storeId": f.cq_store, "settings": {"deliveryRevisitDays": 999}}}),
            status: |w, _| match w {
                Who::Manager | Who::Admin => "user:OUT_OF_RANGE",
                _ => "error:FORBIDDEN",
            },
            shows: never),
        row!(&["Mutation.createTeam"],
            "mutation($i: CreateTeamInput!) { createTeam(input: $i) { userErrors { code } } }",
            "createTeam", targeted: false,
            vars: |f, _| json!({"i": {"storeId": f.cq_store, "name": " "}}),
            status: |w, _| match w {
                Who::Manager | Who::Admin => "user:REQUIRED",
                _ => "error:FORBIDDEN",
            },
            shows: never),
        row!(&["Mutation.createStaff"],
            "mutation($i: CreateStaffInput!) { createStaff(input: $i) { userErrors { code } } }",
            "createStaff", targeted: false,
            vars: |f, _| json!({"i": {"username": "x", "name": "新人", "role": "SALES_CONSULTANT", "storeId": f.cq_store, "password": "long-enough"}}),
            status: |w, _| match w {
                Who::Manager | Who::Admin => "user:INVALID",
                _ => "error:FORBIDDEN",
            },
            shows: never),
        // ---- sales
        row!(&["Query.lead", "Lead.customer", "Lead.otherLeads", "Lead.testDrives", "Lead.orders", "TestDrive.lead", "SalesOrder.lead", "SalesOrder.customer", "SalesOrder.vehicle"],
            "query($id: ID!) { lead(id: $id) { customer { name mobile } otherLeads { id } testDrives { licenceNo lead { id } } orders { commissionYuan lead { id } customer { name } vehicle { vin } } } }",
            "lead", targeted: true,
            vars: |_, t| json!({"id": t.lead}), status: data_if_seen, shows: sees),
        row!(&["Query.leads"],
            "{ leads(first: 100) { totalCount edges { node { customer { name mobile vehicles { vin plate } } } } } }",
            "leads", targeted: false,
            vars: no_vars, status: data, shows: sees),
        row!(&["Query.myLeads", "LeadGroup.leads"],
            "{ myLeads { open groups { leads { customer { name mobile } } } } }",
            "myLeads", targeted: false,
            vars: no_vars, status: |w, _| only(&[Who::Sales1, Who::Manager], w),
            shows: |w, t| w == Who::Sales1 && t == T::Own),
        row!(&["Query.salesOrders"],
            "{ salesOrders(first: 100) { totalCount edges { node { customer { name } } } } }",
            "salesOrders", targeted: false,
            vars: no_vars, status: data, shows: sees),
        row!(&["Query.leadBoard"],
            "query($s: ID!) { leadBoard(storeId: $s) { unassigned byGrade { key count } consultants { staff { name } open } } }",
            "leadBoard", targeted: false,
            vars: |f, _| json!({"s": f.cq_store}),
            status: |w, _| only(&[Who::Manager, Who::Group, Who::Oem, Who::Admin], w), shows: never),
        row!(&["Query.leadOutcomes"],
            "{ leadOutcomes(from: \"2026-11-01\", to: \"2026-12-01\", by: CHANNEL) { key leads } }",
            "leadOutcomes", targeted: false,
            vars: no_vars, status: |w, _| only(&[Who::Sales1, Who::Manager, Who::Group, Who::Oem, Who::Admin], w), shows: never),
        row!(&["Query.salesPerformance"],
            "{ salesPerformance(month: \"2026-11\") { staff { name } commissionYuan } }",
            "salesPerformance", targeted: false,
            vars: no_vars, status: |w, _| only(&[Who::Sales1, Who::Manager], w), shows: never),
        row!(&["Query.leadSources", "LeadSource.waitingLeads", "LeadSource.failedLeads"], "{ leadSources { name waitingLeads failedLeads } }", "leadSources", targeted: false,
            vars: no_vars, status: |w, _| only(&[Who::Manager], w), shows: never),
        row!(&["Query.demoCars"], "{ demoCars { plate } }", "demoCars", targeted: false,
            vars: no_vars, status: store_level_data, shows: never),
        row!(&["Query.pdiChecklist"], "{ pdiChecklist }", "pdiChecklist", targeted: false,
            vars: no_vars, status: store_level_data, shows: never),
        row!(&["Mutation.createLead"],
            "mutation($i: CreateLeadInput!) { createLead(input: $i) { userErrors { code } } }",
            "createLead", targeted: false,
            vars: |_, _| json!({"i": {"name": " ", "mobile": "1"}}),
            status: |w, _| if w.network() { "error:FORBIDDEN" } else { "user:INVALID_PHONE" },
            shows: never),
        row!(&["Mutation.assignLead"],
            "mutation($i: AssignLeadInput!) { assignLead(input: $i) { userErrors { code } } }",
            "assignLead", targeted: true,
            vars: |_, t| json!({"i": {"leadId": t.lead, "consultantId": "not-an-id"}}),
            status: |w, t| match w {
                Who::Manager if t.in_cq() => "user:INVALID_ID",
                Who::Manager => "user:NOT_FOUND",
                _ => "error:FORBIDDEN",
            },
            shows: never),
        row!(&["Mutation.logLeadFollowUp"],
            "mutation($i: LogLeadFollowUpInput!) { logLeadFollowUp(input: $i) { userErrors { code } } }",
            "logLeadFollowUp", targeted: true,
            vars: |_, t| json!({"i": {"leadId": t.lead, "summary": " "}}),
            status: |w, t| lead_work(w, t, "user:REQUIRED"), shows: never),
        row!(&["Mutation.markLeadLost"],
            "mutation($i: MarkLeadLostInput!) { markLeadLost(input: $i) { userErrors { code } } }",
            "markLeadLost", targeted: true,
            vars: |_, t| json!({"i": {"leadId": t.lead, "reason": "OTHER"}}),
            status: |w, t| lead_work(w, t, "user:REQUIRED"), shows: never),
        row!(&["Mutation.bookTestDrive"],
            "mutation($i: BookTestDriveInput!) { bookTestDrive(input: $i) { userErrors { code } } }",
            "bookTestDrive", targeted: true,
            vars: |_, t| json!({"i": {"leadId": t.lead, "demoCarId": "x", "startsAt": "2026-11-24T02:00:00Z", "endsAt": "2026-11-24T03:00:00Z", "licenceNo": " "}}),
            status: |w, t| lead_work(w, t, "user:REQUIRED"), shows: never),
        row!(&["Mutation.createSalesOrder"],
            "mutation($i: CreateSalesOrderInput!) { createSalesOrder(input: $i) { userErrors { code } } }",
            "createSalesOrder", targeted: true,
            vars: |_, t| json!({"i": {"leadId": t.lead, "model": "锐界", "priceYuan": -1, "payment": {"method": "CASH"}}}),
            status: |w, t| lead_work(w, t, "user:OUT_OF_RANGE"), shows: never),
        row!(&["Mutation.completeTestDrive"],
            "mutation { completeTestDrive(input: {testDriveId: \"not-an-id\", startKm: 0, endKm: 1}) { userErrors { code } } }",
            "completeTestDrive", targeted: false, vars: no_vars, status: store_id_check, shows: never),
        row!(&["Mutation.cancelTestDrive"],
            "mutation { cancelTestDrive(testDriveId: \"not-an-id\") { userErrors { code } } }",
            "cancelTestDrive", targeted: false, vars: no_vars, status: store_id_check, shows: never),
        row!(&["Mutation.advanceSalesOrder"],
            "mutation { advanceSalesOrder(input: {orderId: \"not-an-id\", status: CONFIRMED}) { userErrors { code } } }",
            "advanceSalesOrder", targeted: false, vars: no_vars, status: store_id_check, shows: never),
        row!(&["Mutation.cancelSalesOrder"],
            "mutation { cancelSalesOrder(input: {orderId: \"not-an-id\", reason: \"x\"}) { userErrors { code } } }",
            "cancelSalesOrder", targeted: false, vars: no_vars, status: store_id_check, shows: never),
        row!(&["Mutation.recordPdi"],
            "mutation { recordPdi(input: {orderId: \"not-an-id\", items: []}) { userErrors { code } } }",
            "recordPdi", targeted: false, vars: no_vars, status: store_id_check, shows: never),
        row!(&["Mutation.deliverSalesOrder"],
            "mutation { deliverSalesOrder(input: {orderId: \"not-an-id\", vin: \"x\", mileageKm: 1}) { userErrors { code } } }",
            "deliverSalesOrder", targeted: false, vars: no_vars, status: store_id_check, shows: never),
        row!(&["Mutation.createDemoCar"],
            "mutation { createDemoCar(input: {model: \" \", plate: \"渝A0\"}) { userErrors { code } } }",
            "createDemoCar", targeted: false, vars: no_vars, status: |w, _| manager_only(w, "user:REQUIRED"), shows: never),
        row!(&["Mutation.setDemoCarAvailable"],
            "mutation { setDemoCarAvailable(demoCarId: \"not-an-id\", available: false) { userErrors { code } } }",
            "setDemoCarAvailable", targeted: false, vars: no_vars, status: |w, _| manager_only(w, "user:INVALID_ID"), shows: never),
        row!(&["Mutation.setPdiChecklist"],
            "mutation { setPdiChecklist(input: {items: []}) { userErrors { code } } }",
            "setPdiChecklist", targeted: false, vars: no_vars, status: |w, _| manager_only(w, "user:OUT_OF_RANGE"), shows: never),
        row!(&["Mutation.setSalesQuota"],
            "mutation { setSalesQuota(input: {staffId: \"not-an-id\", month: \"2026-12\", units: 5}) { userErrors { code } } }",
            "setSalesQuota", targeted: false, vars: no_vars, status: |w, _| manager_only(w, "user:INVALID_ID"), shows: never),
        row!(&["Mutation.updateLeadSource"],
            "mutation { updateLeadSource(input: {sourceId: \"not-an-id\", active: false}) { userErrors { code } } }",
            "updateLeadSource", targeted: false, vars: no_vars, status: |w, _| manager_only(w, "user:INVALID_ID"), shows: never),
        row!(&["Mutation.createLeadSource"],
            "mutation { createLeadSource(input: {name: \" \"}) { userErrors { code } } }",
            "createLeadSource", targeted: false, vars: no_vars, status: |w, _| manager_only(w, "user:REQUIRED"), shows: never),
        // ---- after-sales
        row!(&["Query.repairOrder", "RepairOrder.customer", "RepairOrder.vehicle", "RepairOrder.repeatOf", "Query.serviceHistory"],
            "query($id: ID!, $v: ID!) { repairOrder(id: $id) { complaint customer { name mobile } vehicle { vin plate } repeatOf { id } claim { failedPart customer { name } } } serviceHistory(vehicleId: $v, first: 5) { edges { node { complaint } } } }",
            "repairOrder", targeted: true,
            vars: |_, t| json!({"id": t.repair_order, "v": t.vehicle}), status: data_if_seen, shows: sees),
        row!(&["Query.repairOrders"],
            "{ repairOrders(first: 100) { totalCount edges { node { complaint customer { name } vehicle { vin } } } } }",
            "repairOrders", targeted: false,
            vars: no_vars, status: data, shows: sees),
        row!(&["Query.serviceForecast", "ServiceDue.vehicle"],
            "query($v: ID!) { serviceForecast(vehicleId: $v) { dueOn vehicle { vin plate } } }",
            "serviceForecast", targeted: true,
            vars: |_, t| json!({"v": t.vehicle}), status: data_if_seen, shows: sees),
        row!(&["Query.vehiclesDueForService"],
            "{ vehiclesDueForService(withinDays: 366, first: 100) { edges { node { dueOn vehicle { vin plate owner { name } } } } } }",
            "vehiclesDueForService", targeted: false,
            vars: no_vars, status: |w, _| only(&[Who::Advisor, Who::Care, Who::Manager], w),
            shows: |w, t| matches!(w, Who::Advisor | Who::Care | Who::Manager) && sees(w, t)),
        row!(&["Query.serviceAppointments", "ServiceAppointment.customer", "ServiceAppointment.vehicle", "ServiceAppointment.repairOrder"],
            "{ serviceAppointments(first: 100) { edges { node { status customer { name } vehicle { vin } repairOrder { complaint } } } } }",
            "serviceAppointments", targeted: false,
            vars: no_vars, status: data, shows: sees),
        row!(&["Query.warrantyClaims", "WarrantyClaim.customer", "WarrantyClaim.vehicle", "WarrantyClaim.repairOrder"],
            "{ warrantyClaims(first: 100) { edges { node { failedPart cause store { code } customer { name mobile } vehicle { vin plate } repairOrder { complaint } } } } }",
            "warrantyClaims", targeted: false,
            vars: no_vars,
            status: |w, _| only(&[Who::Advisor, Who::Warranty, Who::Manager, Who::Group, Who::Oem, Who::Admin], w),
            shows: |w, t| !matches!(w, Who::Sales1 | Who::Care) && sees(w, t)),
        row!(&["Query.serviceMonth"], "{ serviceMonth(month: \"2026-11\") { carEntries firstTimeFixRate } }", "serviceMonth", targeted: false,
            vars: no_vars, status: |w, _| only(&[Who::Advisor, Who::Manager], w), shows: never),
        row!(&["Mutation.openRepairOrder"],
            "mutation($i: OpenRepairOrderInput!) { openRepairOrder(input: $i) { userErrors { code } } }",
            "openRepairOrder", targeted: true,
            vars: |_, t| json!({"i": {"vehicleId": t.vehicle, "kind": "REPAIR", "mileageIn": -1, "complaint": "x"}}),
            status: |w, t| workshop(w, t, "user:OUT_OF_RANGE"), shows: never),
        row!(&["Mutation.updateRepairOrder"],
            "mutation($i: UpdateRepairOrderInput!) { updateRepairOrder(input: $i) { userErrors { code } } }",
            "updateRepairOrder", targeted: true,
            vars: |_, t| json!({"i": {"orderId": t.repair_order, "jobs": [{"description": "x", "hours": 0, "rateFen": 1}]}}),
            status: |w, t| workshop(w, t, "user:OUT_OF_RANGE"), shows: never),
        row!(&["Mutation.setRepairOrderStatus"],
            "mutation($i: SetRepairOrderStatusInput!) { setRepairOrderStatus(input: $i) { userErrors { code } } }",
            "setRepairOrderStatus", targeted: true,
            vars: |_, t| json!({"i": {"orderId": t.repair_order, "status": "OPEN"}}),
            status: |w, t| workshop(w, t, "user:INVALID"), shows: never),
        row!(&["Mutation.deliverRepairOrder"],
            "mutation($i: DeliverRepairOrderInput!) { deliverRepairOrder(input: $i) { userErrors { code } } }",
            "deliverRepairOrder", targeted: true,
            vars: |_, t| json!({"i": {"orderId": t.repair_order, "paidFen": -1}}),
            status: |w, t| workshop(w, t, "user:OUT_OF_RANGE"), shows: never),
        row!(&["Mutation.recordRepairPayment"],
            "mutation($i: RecordRepairPaymentInput!) { recordRepairPayment(input: $i) { userErrors { code } } }",
            "recordRepairPayment", targeted: true,
            vars: |_, t| json!({"i": {"orderId": t.repair_order, "amountFen": 1, "paymentMethod": "CASH"}}),
            status: |w, t| workshop(w, t, "user:CONFLICT"), shows: never),
        row!(&["Mutation.cancelRepairOrder"],
            "mutation($i: CancelRepairOrderInput!) { cancelRepairOrder(input: $i) { userErrors { code } } }",
            "cancelRepairOrder", targeted: true,
            vars: |_, t| json!({"i": {"orderId": t.repair_order}}),
            status: |w, t| workshop(w, t, "user:CONFLICT"), shows: never),
        row!(&["Mutation.bookService"],
            "mutation($i: BookServiceInput!) { bookService(input: $i) { userErrors { code } } }",
            "bookService", targeted: true,
            vars: |_, t| json!({"i": {"vehicleId": t.vehicle, "source": "PHONE", "startsAt": "2026-11-25T02:10:00Z", "endsAt": "2026-11-25T03:00:00Z"}}),
            status: |w, t| match w {
                Who::Advisor | Who::Care | Who::Manager => write(w, t, "user:INVALID"),
                _ => "error:FORBIDDEN",
            },
            shows: never),
        row!(&["Mutation.cancelServiceAppointment"],
            "mutation($i: CancelServiceAppointmentInput!) { cancelServiceAppointment(input: $i) { userErrors { code } } }",
            "cancelServiceAppointment", targeted: true,
            vars: |_, t| json!({"i": {"appointmentId": t.appointment}}),
            status: |w, t| match w {
                Who::Advisor | Who::Care | Who::Manager => write(w, t, "user:CONFLICT"),
                _ => "error:FORBIDDEN",
            },
            shows: never),
        row!(&["Mutation.fileWarrantyClaim"],
            "mutation($i: FileWarrantyClaimInput!) { fileWarrantyClaim(input: $i) { userErrors { code } } }",
            "fileWarrantyClaim", targeted: true,
            vars: |_, t| json!({"i": {"repairOrderId": t.repair_order, "failedPart": " ", "cause": "x"}}),
            status: |w, t| match w {
                Who::Warranty | Who::Manager => write(w, t, "user:REQUIRED"),
                _ => "error:FORBIDDEN",
            },
            shows: never),
        row!(&["Mutation.advanceWarrantyClaim"],
            "mutation($i: AdvanceWarrantyClaimInput!) { advanceWarrantyClaim(input: $i) { userErrors { code } } }",
            "advanceWarrantyClaim", targeted: true,
            vars: |_, t| json!({"i": {"claimId": t.claim, "status": "DRAFT"}}),
            status: |w, t| match w {
                Who::Oem => "user:INVALID",
                Who::Sales1 | Who::Care | Who::Admin => "error:FORBIDDEN",
                Who::Group if t.in_cq() => "error:FORBIDDEN",
                _ if w.store_level() && t.in_cq() => "error:FORBIDDEN",
                _ => "user:NOT_FOUND",
            },
            shows: never),
        row!(&["Query.campaigns", "Campaign.vehicles", "CampaignVehicle.vehicle", "CampaignVehicle.repairOrder"],
            "{ campaigns(first: 10) { edges { node { code vehicles(first: 50) { edges { node { status vehicle { vin plate owner { name } } repairOrder { complaint } } } } } } } }",
            "campaigns", targeted: false,
            vars: no_vars,
            status: |w, _| if w.store_level() && w != Who::Sales1 { "data" } else { "error:FORBIDDEN" },
            shows: |w, t| w.store_level() && w != Who::Sales1 && sees(w, t)),
        row!(&["CampaignProgress.store"],
            "{ campaigns(first: 10) { edges { node { code progress { store { code } affected booked done completionRate } } } } }",
            "campaigns", targeted: false,
            vars: no_vars, status: data, shows: never),
        row!(&["Mutation.createCampaign"],
            "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { affected userErrors { code } } }",
            "createCampaign", targeted: true,
            vars: |_, t| json!({"i": {"code": "X-2", "title": " ", "kind": "RECALL", "startsOn": "2026-11-23", "vins": t.vin}}),
            status: |w, _| if w == Who::Oem { "user:REQUIRED" } else { "error:FORBIDDEN" },
            shows: never),
        // ---- customer care
        row!(&["Query.complaints", "Complaint.customer", "Complaint.vehicle", "Complaint.repairOrder", "Complaint.content", "Complaint.resolution", "Complaint.improvementPlan", "Complaint.actions", "ComplaintAction.note", "Complaint.survey", "SurveyResponse.customer", "SurveyResponse.answers"],
            "{ complaints(first: 100) { edges { node { content resolution improvementPlan escalationLevel responseClock store { code } owner { name } customer { name mobile } vehicle { vin } repairOrder { complaint } actions { kind note } survey { overall answers { text } customer { name } } } } } }",
            "complaints", targeted: false,
            vars: no_vars,
            status: |w, _| if matches!(w, Who::Sales1 | Who::Warranty) { "error:FORBIDDEN" } else { "data" },
            shows: |w, t| !matches!(w, Who::Sales1 | Who::Warranty) && sees(w, t)),
        row!(&["Query.complaint"],
            "query($id: ID!) { complaint(id: $id) { content customer { name } } }",
            "complaint", targeted: true,
            vars: |_, t| json!({"id": t.care_complaint}),
            status: |w, t| match w {
                Who::Sales1 | Who::Warranty => "error:FORBIDDEN",
                Who::Oem | Who::Admin => "data",
                _ if t.in_cq() => "data",
                _ => "null",
            },
            shows: |w, t| !matches!(w, Who::Sales1 | Who::Warranty) && sees(w, t)),
        row!(&["Mutation.openComplaint"],
            "mutation($i: OpenComplaintInput!) { openComplaint(input: $i) { userErrors { code } } }",
            "openComplaint", targeted: true,
            vars: |_, t| json!({"i": {"customerId": t.customer, "channel": "PHONE", "complaint": {"content": " ", "category": "SALES"}}}),
            status: |w, t| match w {
                Who::Advisor | Who::Care | Who::Manager => write(w, t, "user:REQUIRED"),
                _ => "error:FORBIDDEN",
            },
            shows: never),
        row!(&["Mutation.advanceComplaint"],
            "mutation($i: AdvanceComplaintInput!) { advanceComplaint(input: $i) { userErrors { code } } }",
            "advanceComplaint", targeted: true,
            vars: |_, t| json!({"i": {"complaintId": t.care_complaint, "status": "OPEN"}}),
            status: |w, t| match w {
                Who::Sales1 | Who::Warranty | Who::Admin => "error:FORBIDDEN",
                Who::Group if t.in_cq() => "error:FORBIDDEN",
                Who::Oem => "user:INVALID",
                _ if t.in_cq() => "user:INVALID",
                _ => "user:NOT_FOUND",
            },
            shows: never),
        row!(&["Mutation.recordRevisit"],
            "mutation($i: RecordRevisitInput!) { recordRevisit(input: $i) { userErrors { code } } }",
            "recordRevisit", targeted: true,
            vars: |_, t| json!({"i": {"taskId": t.task, "reached": false}}),
            status: revisit_work,
            shows: never),
        row!(&["Query.revisitScript"],
            "query($t: ID!) { revisitScript(taskId: $t) { opening maxAttempts } }",
            "revisitScript", targeted: true,
            vars: |_, t| json!({"t": t.task}),
            status: |w, t| if sees_task(w, t) { "data" } else { "null" },
            shows: never),
        row!(&["Mutation.recordSurvey"],
            "mutation($i: RecordSurveyInput!) { recordSurvey(input: $i) { userErrors { code } } }",
            "recordSurvey", targeted: true,
            vars: |_, t| json!({"i": {"customerId": t.customer, "eventId": t.repair_order, "method": "PHONE", "answers": [{"key": "overall", "score": 0}]}}),
            status: |w, t| match w {
                Who::Advisor | Who::Care | Who::Manager => write(w, t, "user:OUT_OF_RANGE"),
                _ => "error:FORBIDDEN",
            },
            shows: never),
        row!(&["Query.csi", "CsiRow.staff"],
            "{ csi(from: \"2026-11-01\", to: \"2026-11-30\") { store { code } staff { name } responses csi } }",
            "csi", targeted: false,
            vars: no_vars,
            status: |w, _| only(&[Who::Care, Who::Manager, Who::Group, Who::Oem, Who::Admin], w),
            shows: never),
        row!(&["Query.surveyTemplate"],
            "{ surveyTemplate(kind: AFTER_SALE) { owner questions { key } } }",
            "surveyTemplate", targeted: false,
            vars: no_vars, status: data, shows: never),
        row!(&["Mutation.saveSurveyTemplate"],
            "mutation($i: SaveSurveyTemplateInput!) { saveSurveyTemplate(input: $i) { userErrors { code } } }",
            "saveSurveyTemplate", targeted: false,
            vars: |_, _| json!({"i": {"kind": "AFTER_SALE", "name": "x", "questions": []}}),
            status: |w, _| match w {
                Who::Manager | Who::Oem | Who::Admin => "user:INVALID",
                _ => "error:FORBIDDEN",
            },
            shows: never),
        row!(&["Query.customerStanding", "CustomerStanding.customer", "CustomerStanding.winBacks", "WinBackAttempt.note"],
            "query($c: ID!) { customerStanding(customerId: $c) { stage segment risks lifetimeValueFen customer { name mobile } winBacks { reason note } } }",
            "customerStanding", targeted: true,
            vars: |_, t| json!({"c": t.customer}), status: data_if_seen, shows: sees),
        row!(&["Query.customerValues"],
            "{ customerValues(first: 100) { edges { node { stage segment revenueFen customer { name mobile } } } } }",
            "customerValues", targeted: false,
            vars: no_vars, status: data, shows: sees),
        // ---- insights: aggregates only, staff and store names, no customer
        row!(&["Query.salesFunnel"],
            "{ salesFunnel(filter: {from: \"2026-11-01\", to: \"2026-11-30\"}, by: STORE) { key { key label } leads contacted conversionRate } }",
            "salesFunnel", targeted: false, vars: no_vars, status: |w, _| only(&REPORTS, w), shows: never),
        row!(&["Query.serviceReport"],
            "{ serviceReport(filter: {from: \"2026-11-01\", to: \"2026-11-30\"}, by: STAFF) { key { label } carEntries revenueFen csi } }",
            "serviceReport", targeted: false, vars: no_vars, status: |w, _| only(&REPORTS, w), shows: never),
        row!(&["Query.complaintReport"],
            "{ complaintReport(filter: {from: \"2026-11-01\", to: \"2026-11-30\"}, by: CAUSE) { key { label } complaints withinSlaRate overdue } }",
            "complaintReport", targeted: false, vars: no_vars, status: |w, _| only(&REPORTS, w), shows: never),
        row!(&["Query.followUpReport"],
            "{ followUpReport(filter: {from: \"2026-11-01\", to: \"2026-11-30\"}, by: STAFF) { key { label } revisitsDue claims } }",
            "followUpReport", targeted: false, vars: no_vars, status: |w, _| only(&REPORTS, w), shows: never),
        row!(&["Query.staffScorecard"],
            "{ staffScorecard(month: \"2026-11\") { staff { label } tasksDone csi target { units } attainment { measure rate } } }",
            "staffScorecard", targeted: false, vars: no_vars, status: |w, _| only(&REPORTS, w), shows: never),
        row!(&["Query.customerValueReport"],
            "{ customerValueReport { customers topRevenueShare byStage { key { key } customers } bySegment { customers } } }",
            "customerValueReport", targeted: false, vars: no_vars, status: |w, _| only(&REPORTS, w), shows: never),
        row!(&["Query.storeTrend"],
            "{ storeTrend(months: 3) { alert months { month carEntries revenueAlert } } }",
            "storeTrend", targeted: false, vars: no_vars,
            status: |w, _| match w {
                Who::Manager => "data",
                Who::Group | Who::Oem | Who::Admin => "error:BAD_USER_INPUT",
                _ => "error:FORBIDDEN",
            },
            shows: never),
        row!(&["Query.workPlans"],
            "{ workPlans(from: \"2026-11-01\", to: \"2026-11-30\") { title actualCount status } }",
            "workPlans", targeted: false, vars: no_vars, status: |w, _| only(&REPORTS, w), shows: never),
        row!(&["Mutation.createWorkPlan"],
            "mutation { createWorkPlan(input: {kind: REVISIT, title: \" \", startsOn: \"2026-11-01\", endsOn: \"2026-11-30\", method: PHONE, targetCount: 10, minimumCount: 5}) { userErrors { code } } }",
            "createWorkPlan", targeted: false, vars: no_vars, status: |w, _| manager_only(w, "user:REQUIRED"), shows: never),
        row!(&["Mutation.updateWorkPlan"],
            "mutation { updateWorkPlan(input: {id: \"not-an-id\", targetCount: 3}) { userErrors { code } } }",
            "updateWorkPlan", targeted: false, vars: no_vars, status: |w, _| manager_only(w, "user:INVALID_ID"), shows: never),
        row!(&["Mutation.deleteWorkPlan"],
            "mutation { deleteWorkPlan(id: \"not-an-id\") { userErrors { code } } }",
            "deleteWorkPlan", targeted: false, vars: no_vars, status: |w, _| manager_only(w, "user:INVALID_ID"), shows: never),
        row!(&["Mutation.setStaffTarget"],
            "mutation { setStaffTarget(input: {staffId: \"not-an-id\", month: \"2026-12\", tasksDone: 5}) { userErrors { code } } }",
            "setStaffTarget", targeted: false, vars: no_vars, status: |w, _| manager_only(w, "user:INVALID_ID"), shows: never),
        row!(&["Mutation.recordWinBack"],
            "mutation($i: RecordWinBackInput!) { recordWinBack(input: $i) { userErrors { code } } }",
            "recordWinBack", targeted: true,
            vars: |_, t| json!({"i": {"customerId": t.customer, "result": "PENDING"}}),
            status: |w, t| match w {
                Who::Warranty => "error:FORBIDDEN",
                _ => write(w, t, "user:REQUIRED"),
            },
            shows: never),
        row!(&["Mutation.deactivateStaff"],
            "mutation($i: DeactivateStaffInput!) { deactivateStaff(input: $i) { userErrors { code } } }",
            "deactivateStaff", targeted: false,
            vars: |_, _| json!({"i": {"staffId": "not-an-id"}}),
            status: |w, _| match w {
                Who::Manager | Who::Admin => "user:INVALID_ID",
                _ => "error:FORBIDDEN",
            },
            shows: never),
    ]
}

/// A write on the fixture lead about `t` whose input fails after the
/// access checks with `ok`: only its consultant and the store manager work
/// a lead.
fn lead_work(w: Who, t: T, ok: &'static str) -> &'static str {
    if w.network() {
        "error:FORBIDDEN"
    } else if !sees(w, t) {
        "user:NOT_FOUND"
    } else if (w == Who::Sales1 && t == T::Own) || w == Who::Manager {
        ok
    } else {
        "user:NOT_ALLOWED"
    }
}

/// Store-level staff reach the check of a malformed id; the network is
/// refused before.
fn store_id_check(w: Who, _: T) -> &'static str {
    if w.store_level() {
        "user:INVALID_ID"
    } else {
        "error:FORBIDDEN"
    }
}

/// A repair-order write: the workshop (advisors, the store manager) gets
/// the access decision and then `ok`; everyone else is FORBIDDEN.
fn workshop(w: Who, t: T, ok: &'static str) -> &'static str {
    match w {
        Who::Advisor | Who::Manager => write(w, t, ok),
        _ => "error:FORBIDDEN",
    }
}

/// Store managers only, whose input then fails with `ok`.
fn manager_only(w: Who, ok: &'static str) -> &'static str {
    if w == Who::Manager {
        ok
    } else {
        "error:FORBIDDEN"
    }
}

fn store_level_data(w: Who, _: T) -> &'static str {
    if w.store_level() {
        "data"
    } else {
        "error:FORBIDDEN"
    }
}

/// completeTask / cancelTask on the fixture task about `t`.
fn task_work(w: Who, t: T) -> &'static str {
    task_step(w, t, "user:REQUIRED")
}

/// recordRevisit on the fixture task about `t` (not a revisit: INVALID for
/// whoever may work on it).
fn revisit_work(w: Who, t: T) -> &'static str {
    task_step(w, t, "user:INVALID")
}

/// A step on the fixture task about `t` whose input then fails with `ok`.
fn task_step(w: Who, t: T, ok: &'static str) -> &'static str {
    let mine = (w == Who::Sales1 && t == T::Own) || (w == Who::Manager && t.in_cq());
    if mine {
        ok
    } else if sees_task(w, t) {
        "user:NOT_ALLOWED"
    } else {
        "user:NOT_FOUND"
    }
}

/// Whose personal data appears in a response.
fn shown(fix: &Fix, r: &Value) -> BTreeSet<T> {
    let text = r.to_string();
    fix.targets
        .iter()
        .filter(|(_, t)| t.secrets().iter().any(|s| text.contains(s)))
        .map(|(k, _)| *k)
        .collect()
}

const INTROSPECT: &str = "{ __schema { queryType { fields { name } } mutationType { fields { name } } subscriptionType { fields { name } }
  types { name kind fields { name type { name kind ofType { name kind ofType { name kind ofType { name kind } } } } } } } }";

/// Types whose values are a customer's personal data or hang off one.
const CUSTOMER_TYPES: [&str; 17] = [
    "CampaignVehicle",
    "CustomerStanding",
    "WinBackAttempt",
    "Complaint",
    "ComplaintAction",
    "SurveyResponse",
    "RepairOrder",
    "ServiceAppointment",
    "Lead",
    "TestDrive",
    "SalesOrder",
    "Customer",
    "CustomerLogEntry",
    "Vehicle",
    "VehicleOwnership",
    "Task",
    "Notification",
];

fn named(t: &Value) -> String {
    let mut t = t;
    while t["name"].is_null() && !t["ofType"].is_null() {
        t = &t["ofType"];
    }
    t["name"].as_str().unwrap_or_default().to_string()
}

/// Every operation and every customer-bearing field of the schema.
async fn required_rows(app: &TestApp) -> BTreeSet<String> {
    let s = app.gql(None, INTROSPECT, json!({})).await;
    let schema = &s["data"]["__schema"];
    let mut need = BTreeSet::new();
    for (root, key) in [
        ("Query", "queryType"),
        ("Mutation", "mutationType"),
        ("Subscription", "subscriptionType"),
    ] {
        for f in schema[key]["fields"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            need.insert(format!("{root}.{}", f["name"].as_str().unwrap_or_default()));
        }
    }
    for t in schema["types"].as_array().cloned().unwrap_or_default() {
        let owner = t["name"].as_str().unwrap_or_default();
        let skip = owner.starts_with("__")
            || [
                "Query",
                "Mutation",
                "Subscription",
                "QueryRoot",
                "MutationRoot",
                "SubscriptionRoot",
            ]
            .contains(&owner)
            || owner.ends_with("Payload")
            || owner.ends_with("Connection")
            || owner.ends_with("Edge")
            || t["kind"] != "OBJECT";
        if skip {
            continue;
        }
        for f in t["fields"].as_array().cloned().unwrap_or_default() {
            let ty = named(&f["type"]);
            let base = ty.trim_end_matches("Connection").trim_end_matches("Edge");
            if CUSTOMER_TYPES.contains(&base) {
                need.insert(format!(
                    "{owner}.{}",
                    f["name"].as_str().unwrap_or_default()
                ));
            }
        }
    }
    // The texts of these types carry customer data too.
    for text in [
        "Task.title",
        "Task.reason",
        "Task.outcome",
        "Notification.body",
        "Complaint.content",
        "Complaint.resolution",
        "Complaint.improvementPlan",
        "ComplaintAction.note",
        "SurveyResponse.answers",
        "WinBackAttempt.note",
    ] {
        need.insert(text.to_string());
    }
    need
}

#[tokio::test]
async fn every_operation_and_customer_field_answers_each_role_as_the_matrix_says() {
    // The matrix is about access: request and guessing limits are tested
    // elsewhere and would only get in its way here.
    let app = spawn_app_with(|c| {
        c.rate_limit_per_minute = 0;
        c.login_account_free_failures = 1_000;
        c.login_account_lock_after = 1_000;
    })
    .await;
    let fix = fixture(&app).await;
    let mut tokens = Vec::new();
    for w in EVERYONE {
        let token = match w.username() {
            Some(u) => Some(app.login(u).await.token),
            None => None,
        };
        tokens.push((w, token));
    }
    let rows = rows();
    let mut covered: BTreeSet<String> = rows
        .iter()
        .flat_map(|r| r.covers.iter().map(|c| c.to_string()))
        .collect();
    covered.extend(SUBSCRIPTION_COVERS.iter().map(|c| c.to_string()));
    let missing: Vec<String> = required_rows(&app)
        .await
        .difference(&covered)
        .cloned()
        .collect();
    assert!(
        missing.is_empty(),
        "operations or customer-bearing fields without a row in the access matrix: {missing:?}"
    );

    let mut wrong = Vec::new();
    let mut cells = 0;
    for row in &rows {
        let targets: Vec<T> = if row.targeted {
            TARGETS.to_vec()
        } else {
            vec![T::Own]
        };
        for (w, token) in &tokens {
            for t in &targets {
                cells += 1;
                let vars = (row.vars)(&fix, fix.get(*t));
                let r = app.gql(token.as_deref(), row.doc, vars).await;
                let got = classify(&r, row.key);
                let want = if *w == Who::Anon && !row.public {
                    "error:UNAUTHENTICATED"
                } else {
                    (row.status)(*w, *t)
                };
                let leaked = shown(&fix, &r);
                let allowed: BTreeSet<T> = if row.targeted {
                    [*t].into_iter().filter(|t| (row.shows)(*w, *t)).collect()
                } else {
                    TARGETS
                        .into_iter()
                        .filter(|t| (row.shows)(*w, *t))
                        .collect()
                };
                if got != want || leaked != allowed {
                    wrong.push(format!(
                        "{} as {w:?} about {t:?}: answered {got} showing {leaked:?}, expected {want} showing {allowed:?}\n    {r}",
                        row.covers[0]
                    ));
                }
            }
        }
    }
    cells += subscription_cells(&app, &fix, &tokens, &mut wrong).await;
    eprintln!("access matrix: {cells} cells, {} wrong", wrong.len());
    assert!(
        wrong.is_empty(),
        "{} of {cells} cells are wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

const SUBSCRIPTION_COVERS: [&str; 2] = ["Subscription.taskEvents", "TaskEventPayload.task"];

/// Every role subscribes to task events; work about each customer is then
/// handed to its consultant. Only the assignee hears of it, and only with
/// the customer's data when they may see the customer.
async fn subscription_cells(
    app: &TestApp,
    fix: &Fix,
    tokens: &[(Who, Option<String>)],
    wrong: &mut Vec<String>,
) -> usize {
    let mut sockets = Vec::new();
    for (w, token) in tokens {
        let mut req = format!("{}/graphql/ws", app.base.replace("http://", "ws://"))
            .into_client_request()
            .expect("ws request");
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().expect("header"),
        );
        let (mut ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("connect");
        let init = json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {}", token.clone().unwrap_or_default())}});
        ws.send(Message::Text(init.to_string().into()))
            .await
            .expect("init");
        let sub = json!({"id": "1", "type": "subscribe", "payload": {"query":
            "subscription { taskEvents { task { title reason customer { name mobile } lastContact { summary } vehicle { plate vin } } } }"}});
        ws.send(Message::Text(sub.to_string().into()))
            .await
            .expect("subscribe");
        sockets.push((*w, ws));
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let cq = app.login("cq.manager").await;
    let cd = app.login("cd.manager").await;
    for (t, target) in &fix.targets {
        let (m, owner) = if t.in_cq() {
            (
                &cq,
                if *t == T::Own {
                    "cq.sales1"
                } else {
                    "cq.sales2"
                },
            )
        } else {
            (&cd, "cd.sales1")
        };
        let to = m.staff_id(owner).await;
        m.data(
            "mutation($i: CreateTaskInput!) { createTask(input: $i) { userErrors { code } } }",
            json!({"i": {"customerId": target.customer, "title": format!("跟进{}", target.name), "dueAt": "2026-11-25T03:00:00Z", "assigneeId": to}}),
        )
        .await;
    }
    let mut cells = 0;
    for (w, mut ws) in sockets {
        cells += 1;
        let mut heard = Vec::new();
        while let Ok(Some(Ok(msg))) =
            tokio::time::timeout(std::time::Duration::from_millis(500), ws.next()).await
        {
            if let Message::Text(t) = msg {
                let v: Value = serde_json::from_str(&t).unwrap_or(Value::Null);
                if v["type"] == "next" {
                    heard.push(v);
                }
            }
        }
        let leaked = shown(fix, &Value::Array(heard.clone()));
        let expected: BTreeSet<T> = if w == Who::Sales1 {
            [T::Own].into()
        } else {
            BTreeSet::new()
        };
        let count = if w == Who::Sales1 { 1 } else { 0 };
        if leaked != expected || heard.len() != count {
            wrong.push(format!(
                "Subscription.taskEvents as {w:?}: heard {} events showing {leaked:?}, expected {count} showing {expected:?}: {heard:?}",
                heard.len()
            ));
        }
    }
    cells
}
