//! Global object ids: opaque to clients, `base64url("Type:uuid")`.
use async_graphql::ID;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use uuid::Uuid;

use crate::error::{ApiError, UserErrorCode};

/// The kinds of object that have a global id.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// An OEM.
    Oem,
    /// A dealer group.
    DealerGroup,
    /// A store.
    Store,
    /// A team.
    Team,
    /// A staff member.
    Staff,
    /// A customer.
    Customer,
    /// A vehicle.
    Vehicle,
    /// A customer log entry.
    CustomerLogEntry,
    /// A follow-up task.
    Task,
    /// A notification.
    Notification,
    /// A sales lead.
    Lead,
    /// A lead source (webhook).
    LeadSource,
    /// A demo car.
    DemoCar,
    /// A test drive.
    TestDrive,
    /// A sales order.
    SalesOrder,
    /// A repair order.
    RepairOrder,
    /// A service appointment.
    ServiceAppointment,
    /// A warranty claim.
    WarrantyClaim,
    /// A recall or service campaign.
    Campaign,
    /// A car named by a campaign.
    CampaignVehicle,
    /// A customer complaint.
    Complaint,
    /// A satisfaction survey's answers.
    SurveyResponse,
    /// A satisfaction questionnaire.
    SurveyTemplate,
    /// A store's work plan.
    WorkPlan,
}

impl NodeKind {
    const ALL: [NodeKind; 24] = [
        NodeKind::Oem,
        NodeKind::DealerGroup,
        NodeKind::Store,
        NodeKind::Team,
        NodeKind::Staff,
        NodeKind::Customer,
        NodeKind::Vehicle,
        NodeKind::CustomerLogEntry,
        NodeKind::Task,
        NodeKind::Notification,
        NodeKind::Lead,
        NodeKind::LeadSource,
        NodeKind::DemoCar,
        NodeKind::TestDrive,
        NodeKind::SalesOrder,
        NodeKind::RepairOrder,
        NodeKind::ServiceAppointment,
        NodeKind::WarrantyClaim,
        NodeKind::Campaign,
        NodeKind::CampaignVehicle,
        NodeKind::Complaint,
        NodeKind::SurveyResponse,
        NodeKind::SurveyTemplate,
        NodeKind::WorkPlan,
    ];

    fn name(self) -> &'static str {
        match self {
            NodeKind::Oem => "Oem",
            NodeKind::DealerGroup => "DealerGroup",
            NodeKind::Store => "Store",
            NodeKind::Team => "Team",
            NodeKind::Staff => "Staff",
            NodeKind::Customer => "Customer",
            NodeKind::Vehicle => "Vehicle",
            NodeKind::CustomerLogEntry => "CustomerLogEntry",
            NodeKind::Task => "Task",
            NodeKind::Notification => "Notification",
            NodeKind::Lead => "Lead",
            NodeKind::LeadSource => "LeadSource",
            NodeKind::DemoCar => "DemoCar",
            NodeKind::TestDrive => "TestDrive",
            NodeKind::SalesOrder => "SalesOrder",
            NodeKind::RepairOrder => "RepairOrder",
            NodeKind::ServiceAppointment => "ServiceAppointment",
            NodeKind::WarrantyClaim => "WarrantyClaim",
            NodeKind::Campaign => "Campaign",
            NodeKind::CampaignVehicle => "CampaignVehicle",
            NodeKind::Complaint => "Complaint",
            NodeKind::SurveyResponse => "SurveyResponse",
            NodeKind::SurveyTemplate => "SurveyTemplate",
            NodeKind::WorkPlan => "WorkPlan",
        }
    }
}

/// The global id of an object.
pub fn encode(kind: NodeKind, id: Uuid) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{}", kind.name(), id.simple())))
}

/// Reads any global id; `None` when it is not one of ours.
pub fn decode_any(id: &str) -> Option<(NodeKind, Uuid)> {
    let bytes = URL_SAFE_NO_PAD.decode(id.as_bytes()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (name, uuid) = text.split_once(':')?;
    let kind = NodeKind::ALL.into_iter().find(|k| k.name() == name)?;
    Some((kind, Uuid::parse_str(uuid).ok()?))
}

/// Reads a global id that must be of `kind`.
pub fn decode(id: &str, kind: NodeKind) -> Option<Uuid> {
    match decode_any(id) {
        Some((k, uuid)) if k == kind => Some(uuid),
        _ => None,
    }
}

/// Reads the id in input field `field`, or a userError INVALID_ID naming it.
pub fn decode_field(id: &ID, kind: NodeKind, field: &str) -> Result<Uuid, ApiError> {
    decode(id, kind).ok_or_else(|| {
        ApiError::field(
            field,
            UserErrorCode::InvalidId,
            format!("not a {} id", kind.name()),
        )
    })
}

/// Like `decode_field` for an optional input.
pub fn decode_opt(id: Option<&ID>, kind: NodeKind, field: &str) -> Result<Option<Uuid>, ApiError> {
    id.map(|id| decode_field(id, kind, field)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_other_kinds() {
        let u = Uuid::now_v7();
        let id = encode(NodeKind::Customer, u);
        assert_eq!(decode(&id, NodeKind::Customer), Some(u));
        assert_eq!(decode(&id, NodeKind::Vehicle), None);
        assert_eq!(decode_any("not-an-id"), None);
        assert_eq!(decode_any(""), None);
    }
}
