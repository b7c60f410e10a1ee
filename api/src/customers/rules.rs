//! Phone numbers, VINs, text limits and the customer vocabulary. Pure.
use phonenumber::{country, Mode};

use crate::{
    error::{ApiError, UserError, UserErrorCode},
    labels::labeled_enum,
};

labeled_enum! {
    /// A customer's gender, as they gave it.
    Gender {
        Male = "MALE" ("Male", "男"),
        Female = "FEMALE" ("Female", "女"),
        Unknown = "UNKNOWN" ("Not given", "未知"),
    }
}

labeled_enum! {
    /// Where a customer (or lead) first came from, to compare channels.
    CustomerSource {
        WalkIn = "WALK_IN" ("Walk-in", "到店"),
        Phone = "PHONE" ("Phone call", "来电"),
        Website = "WEBSITE" ("Store website", "官网"),
        CarPortal = "CAR_PORTAL" ("Car portal", "汽车网站"),
        SocialMedia = "SOCIAL_MEDIA" ("Social media", "社交媒体"),
        Referral = "REFERRAL" ("Referral", "转介绍"),
        Event = "EVENT" ("Event", "活动"),
        Sms = "SMS" ("SMS", "短信"),
        Email = "EMAIL" ("Email", "邮件"),
        Service = "SERVICE" ("Service visit", "售后进店"),
        Import = "IMPORT" ("Imported", "导入"),
        Other = "OTHER" ("Other", "其他"),
    }
}

labeled_enum! {
    /// Where a customer is in their life with the store.
    LifecycleStage {
        Prospect = "PROSPECT" ("Prospect", "潜在客户"),
        NewOwner = "NEW_OWNER" ("New owner", "新车主"),
        Developing = "DEVELOPING" ("Developing", "成长期"),
        Loyal = "LOYAL" ("Loyal", "忠诚客户"),
        Declining = "DECLINING" ("Declining", "衰退期"),
        Lost = "LOST" ("Lost", "流失客户"),
    }
}

labeled_enum! {
    /// What a customer log entry records.
    LogKind {
        Created = "CREATED" ("Record created", "建档"),
        Updated = "UPDATED" ("Record changed", "资料变更"),
        Assigned = "ASSIGNED" ("Responsibility changed", "负责人变更"),
        Merged = "MERGED" ("Records merged", "客户合并"),
        Contact = "CONTACT" ("Contact", "联系"),
        Visit = "VISIT" ("Store visit", "到店"),
        Note = "NOTE" ("Note", "备注"),
        VehicleAdded = "VEHICLE_ADDED" ("Vehicle added", "新增车辆"),
        VehicleTransferred = "VEHICLE_TRANSFERRED" ("Vehicle changed owner", "车辆过户"),
        Mileage = "MILEAGE" ("Mileage recorded", "里程记录"),
        Sale = "SALE" ("Sale", "销售"),
        TestDrive = "TEST_DRIVE" ("Test drive", "试乘试驾"),
        Delivery = "DELIVERY" ("Delivery", "交车"),
        Repair = "REPAIR" ("Repair order", "维修"),
        Revisit = "REVISIT" ("Revisit", "回访"),
        Survey = "SURVEY" ("Survey", "满意度调查"),
        Complaint = "COMPLAINT" ("Complaint", "投诉"),
        Campaign = "CAMPAIGN" ("Campaign", "活动"),
        Task = "TASK" ("Follow-up task", "跟进任务"),
    }
}

labeled_enum! {
    /// How a contact happened.
    Channel {
        Phone = "PHONE" ("Phone", "电话"),
        Sms = "SMS" ("SMS", "短信"),
        Email = "EMAIL" ("Email", "邮件"),
        Wechat = "WECHAT" ("WeChat", "微信"),
        Letter = "LETTER" ("Letter", "信函"),
        InPerson = "IN_PERSON" ("In person", "面谈"),
        System = "SYSTEM" ("System", "系统"),
    }
}

labeled_enum! {
    /// Who read an odometer.
    MileageSource {
        Service = "SERVICE" ("Service visit", "进店维修"),
        Delivery = "DELIVERY" ("Delivery", "交车"),
        Customer = "CUSTOMER" ("Customer reported", "客户告知"),
        Other = "OTHER" ("Other", "其他"),
    }
}

labeled_enum! {
    /// What line a phone number reaches: SMS goes to mobiles only.
    PhoneKind {
        Mobile = "MOBILE" ("Mobile", "手机"),
        Landline = "LANDLINE" ("Landline", "固定电话"),
        Other = "OTHER" ("Other", "其他"),
    }
}

/// A new car's warranty: the store's years or km from delivery, whichever
/// comes first (DOMAIN.md: 3 years / 100,000 km).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Warranty {
    /// Years from delivery.
    pub years: i32,
    /// Kilometres from delivery.
    pub km: i32,
}

impl Warranty {
    /// The store's warranty terms.
    pub fn of(s: &crate::org::rules::StoreSettings) -> Warranty {
        Warranty {
            years: s.warranty_years,
            km: s.warranty_km,
        }
    }

    /// The day the warranty ends for a car delivered on `delivered`: the
    /// anniversary, the first day no longer covered (three full years).
    pub fn ends_on(&self, delivered: chrono::NaiveDate) -> chrono::NaiveDate {
        let months = chrono::Months::new(self.years.max(0) as u32 * 12);
        delivered.checked_add_months(months).unwrap_or(delivered)
    }
}

labeled_enum! {
    /// Where a car stands with its warranty on a day at a mileage.
    WarrantyStatus {
        Covered = "COVERED" ("Covered", "保修期内"),
        EndedByTime = "ENDED_BY_TIME" ("Ended: time", "已过保（时间）"),
        EndedByMileage = "ENDED_BY_MILEAGE" ("Ended: mileage", "已过保（里程）"),
        NotDelivered = "NOT_DELIVERED" ("No delivery on file", "无交车记录"),
    }
}

/// Whichever comes first: a car is covered before its warranty's end day
/// (`ends_on`, the anniversary of delivery) and up to and including its
/// end mileage (`ends_km`). A day past the end reads as ended by time.
pub fn warranty_status(
    ends_on: Option<chrono::NaiveDate>,
    ends_km: Option<i32>,
    on: chrono::NaiveDate,
    km: Option<i32>,
) -> WarrantyStatus {
    let (Some(end), Some(limit)) = (ends_on, ends_km) else {
        return WarrantyStatus::NotDelivered;
    };
    if on >= end {
        WarrantyStatus::EndedByTime
    } else if km.is_some_and(|k| k > limit) {
        WarrantyStatus::EndedByMileage
    } else {
        WarrantyStatus::Covered
    }
}

/// Full-width forms (typed with a Chinese input method) as their ASCII
/// selves: `＋８６ １３８…` reads like `+86 138…`.
fn half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
        _ => c,
    }
}

/// A mobile or landline number in E.164, read as Chinese unless it carries a
/// country code.
pub fn normalize_phone(raw: &str) -> Result<String, &'static str> {
    let cleaned: String = raw
        .trim()
        .chars()
        .map(half_width)
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
        .collect();
    if cleaned.is_empty() {
        return Err("phone number is empty");
    }
    if cleaned.len() > 32 {
        return Err("phone number is too long");
    }
    let parsed =
        phonenumber::parse(Some(country::Id::CN), &cleaned).map_err(|_| "not a phone number")?;
    if !phonenumber::is_valid(&parsed) {
        return Err("not a valid phone number");
    }
    Ok(parsed.format().mode(Mode::E164).to_string())
}

/// The kind of an E.164 number (`normalize_phone`'s output).
pub fn phone_kind(e164: &str) -> PhoneKind {
    use phonenumber::Type;
    match phonenumber::parse(None, e164).map(|p| p.number_type(&phonenumber::metadata::DATABASE)) {
        Ok(Type::Mobile) => PhoneKind::Mobile,
        // Some countries cannot tell the two apart; such a number may get SMS.
        Ok(Type::FixedLineOrMobile) => PhoneKind::Mobile,
        Ok(Type::FixedLine) => PhoneKind::Landline,
        _ => PhoneKind::Other,
    }
}

/// A customer's main number, the one SMS goes to: it must be a mobile. A
/// landline is kept among the other phones.
pub fn mobile_field(raw: &str, field: &str) -> Result<String, ApiError> {
    let p = phone_field(raw, field)?;
    if phone_kind(&p) != PhoneKind::Mobile {
        return Err(ApiError::field(
            field,
            UserErrorCode::InvalidPhone,
            "not a mobile number: SMS goes to this number; keep a landline in otherPhones",
        ));
    }
    Ok(p)
}

/// `normalize_phone` as a userError on `field`.
pub fn phone_field(raw: &str, field: &str) -> Result<String, ApiError> {
    normalize_phone(raw).map_err(|m| ApiError::field(field, UserErrorCode::InvalidPhone, m))
}

const VIN_WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

fn vin_value(c: char) -> Option<u32> {
    match c {
        '0'..='9' => c.to_digit(10),
        'A' | 'J' => Some(1),
        'B' | 'K' | 'S' => Some(2),
        'C' | 'L' | 'T' => Some(3),
        'D' | 'M' | 'U' => Some(4),
        'E' | 'N' | 'V' => Some(5),
        'F' | 'W' => Some(6),
        'G' | 'P' | 'X' => Some(7),
        'H' | 'Y' => Some(8),
        'R' | 'Z' => Some(9),
        _ => None, // I, O, Q and anything else never appear in a VIN
    }
}

/// The check digit (position 9) a VIN must carry, per ISO 3779 / GB 16735.
pub fn vin_check_digit(vin: &str) -> Option<char> {
    let chars: Vec<char> = vin.chars().collect();
    if chars.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in chars.iter().zip(VIN_WEIGHTS) {
        sum += vin_value(*c)? * w;
    }
    Some(match sum % 11 {
        10 => 'X',
        d => char::from_digit(d, 10)?,
    })
}

/// A VIN upper-cased and checked: 17 characters, no I/O/Q, valid check digit.
pub fn normalize_vin(raw: &str) -> Result<String, &'static str> {
    let vin: String = raw.trim().to_uppercase();
    if vin.chars().count() != 17 {
        return Err("a VIN has 17 characters");
    }
    if vin.chars().any(|c| vin_value(c).is_none()) {
        return Err("a VIN uses digits and letters other than I, O and Q");
    }
    if vin_check_digit(&vin) != vin.chars().nth(8) {
        return Err("the VIN's check digit (9th character) does not match");
    }
    Ok(vin)
}

/// Text for a LIKE pattern with its wildcards (`%`, `_`) and the escape
/// character (`\`) escaped, so that it matches only itself.
pub fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Checks text for `field`: trimmed, required or not, at most `max` characters.
pub fn text(value: &str, field: &str, max: usize) -> Result<String, ApiError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ApiError::field(
            field,
            UserErrorCode::Required,
            format!("{field} is required"),
        ));
    }
    if v.chars().count() > max {
        return Err(ApiError::field(
            field,
            UserErrorCode::TooLong,
            format!("{field} is longer than {max} characters"),
        ));
    }
    Ok(v.to_string())
}

/// Like `text`, for optional fields: blank becomes `None`.
pub fn opt_text(value: Option<&str>, field: &str, max: usize) -> Result<Option<String>, ApiError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => text(v, field, max).map(Some),
    }
}

/// Runs every check and reports all failures together.
pub fn collect<T>(results: Vec<Result<T, ApiError>>) -> Result<Vec<T>, ApiError> {
    let mut ok = Vec::new();
    let mut errors: Vec<UserError> = Vec::new();
    for r in results {
        match r {
            Ok(v) => ok.push(v),
            Err(ApiError::User(e)) => errors.extend(e),
            Err(e) => return Err(e),
        }
    }
    if errors.is_empty() {
        Ok(ok)
    } else {
        Err(ApiError::User(errors))
    }
}

labeled_enum! {
    /// Which limit makes the next service due first.
    ServiceBasis {
        Time = "TIME" ("Time", "时间"),
        Mileage = "MILEAGE" ("Mileage", "里程"),
    }
}

/// What the next-service prediction knows of a car.
#[derive(Clone, Debug, Default)]
pub struct ServiceFacts {
    /// Delivery day, if on file.
    pub delivered: Option<chrono::NaiveDate>,
    /// The last service: its day and odometer.
    pub last_service: Option<(chrono::NaiveDate, i32)>,
    /// Readings: (day, km), any order.
    pub readings: Vec<(chrono::NaiveDate, i32)>,
}

/// A car's next service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceForecast {
    /// Metres driven a day, as measured or assumed.
    pub daily_m: i32,
    /// The day the next service is due (None: nothing to count from).
    pub due_on: Option<chrono::NaiveDate>,
    /// The odometer at which it is due.
    pub due_km: Option<i32>,
    /// Whether time or mileage comes first.
    pub basis: Option<ServiceBasis>,
}

/// Metres a day: the distance between the newest reading and the oldest
/// one of the year before it (delivery counting as 0 km), when at least a
/// week apart; otherwise the store's `default_daily_km` (a new car).
pub fn daily_metres(s: &crate::org::rules::StoreSettings, f: &ServiceFacts) -> i32 {
    let mut points = f.readings.clone();
    if let Some(d) = f.delivered {
        if !points.iter().any(|(on, _)| *on <= d) {
            points.push((d, 0));
        }
    }
    points.sort();
    let Some(&(last_on, last_km)) = points.last() else {
        return s.default_daily_km * 1000;
    };
    let year_before = last_on - chrono::Duration::days(365);
    let first = points
        .iter()
        .find(|(on, _)| *on >= year_before && (last_on - *on).num_days() >= 7)
        .or_else(|| points.first());
    match first {
        Some(&(on, km)) if (last_on - on).num_days() >= 7 => {
            let days = (last_on - on).num_days();
            let metres = i64::from((last_km - km).max(0)) * 1000 / days;
            metres.min(i64::from(i32::MAX)) as i32
        }
        _ => s.default_daily_km * 1000,
    }
}

/// The next service: whichever comes first of the time and the mileage
/// interval (the free first service's months and upper km before the first
/// service, `maintenance_interval_*` after it), the mileage day projected
/// from the newest reading at the car's pace.
pub fn predict_service(s: &crate::org::rules::StoreSettings, f: &ServiceFacts) -> ServiceForecast {
    let daily_m = daily_metres(s, f);
    let newest = f.readings.iter().max().copied();
    let base = match (f.last_service, f.delivered) {
        (Some((on, km)), _) => Some((
            on,
            km,
            s.maintenance_interval_months,
            s.maintenance_interval_km,
        )),
        (None, Some(d)) => Some((d, 0, s.first_service_due_months, s.first_service_max_km)),
        (None, None) => f.readings.iter().min().map(|&(on, km)| {
            (
                on,
                km,
                s.maintenance_interval_months,
                s.maintenance_interval_km,
            )
        }),
    };
    let Some((from_on, from_km, months, interval_km)) = base else {
        return ServiceForecast {
            daily_m,
            due_on: None,
            due_km: None,
            basis: None,
        };
    };
    let by_time = from_on
        .checked_add_months(chrono::Months::new(months.max(0) as u32))
        .unwrap_or(from_on);
    let due_km = from_km.saturating_add(interval_km);
    let (at_on, at_km) = match newest {
        Some((on, km)) if on >= from_on => (on, km.max(from_km)),
        _ => (from_on, from_km),
    };
    let by_km = if at_km >= due_km {
        Some(at_on)
    } else if daily_m > 0 {
        let (left, pace) = (i64::from(due_km - at_km) * 1000, i64::from(daily_m));
        let days = (left + pace - 1) / pace;
        at_on.checked_add_signed(chrono::Duration::days(days.min(36_500)))
    } else {
        None
    };
    let (due_on, basis) = match by_km {
        Some(d) if d < by_time => (d, ServiceBasis::Mileage),
        _ => (by_time, ServiceBasis::Time),
    };
    ServiceForecast {
        daily_m,
        due_on: Some(due_on),
        due_km: Some(due_km),
        basis: Some(basis),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warranty_ends_at_the_anniversary_or_past_its_mileage() {
        let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let w = Warranty {
            years: 3,
            km: 100_000,
        };
        let end = w.ends_on(d(2023, 11, 23));
        assert_eq!(end, d(2026, 11, 23));
        let at = |on, km| warranty_status(Some(end), Some(w.km), on, km);
        assert_eq!(at(d(2026, 11, 22), Some(100_000)), WarrantyStatus::Covered);
        assert_eq!(
            at(d(2026, 11, 22), Some(100_001)),
            WarrantyStatus::EndedByMileage
        );
        assert_eq!(at(d(2026, 11, 23), Some(10)), WarrantyStatus::EndedByTime);
        assert_eq!(at(d(2026, 11, 22), None), WarrantyStatus::Covered);
        assert_eq!(
            warranty_status(None, None, d(2026, 1, 1), Some(1)),
            WarrantyStatus::NotDelivered
        );
        // A delivery on 29 February ends on 28 February.
        assert_eq!(w.ends_on(d(2024, 2, 29)), d(2027, 2, 28));
    }

    #[test]
    fn chinese_mobiles_normalize_to_e164() {
        assert_eq!(
            normalize_phone("138 0013 8000").as_deref(),
            Ok("+8613800138000")
        );
        assert_eq!(
            normalize_phone("+86 138-0013-8000").as_deref(),
            Ok("+8613800138000")
        );
        assert_eq!(
            normalize_phone("010 6552 9988").as_deref(),
            Ok("+861065529988")
        );
        assert_eq!(
            normalize_phone("＋８６ １３８－００１３－８０００").as_deref(),
            Ok("+8613800138000")
        );
        assert_eq!(phone_kind("+8613800138000"), PhoneKind::Mobile);
        assert_eq!(phone_kind("+861065529988"), PhoneKind::Landline);
        assert!(mobile_field("010 6552 9988", "mobile").is_err());
        assert!(mobile_field("１３８００１３８０００", "mobile").is_ok());
        assert!(normalize_phone("12345").is_err());
        assert!(normalize_phone("").is_err());
        assert!(normalize_phone("not a phone").is_err());
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_escaped("100%_a\\b"), "100\\%\\_a\\\\b");
        assert_eq!(like_escaped("王"), "王");
    }

    #[test]
    fn vin_check_digits() {
        // A textbook North American example and a Chinese-market VIN.
        assert_eq!(
            normalize_vin("1m8gdm9axkp042788").as_deref(),
            Ok("1M8GDM9AXKP042788")
        );
        assert_eq!(vin_check_digit("LVSHCAMB0CE123456"), Some('1'));
        assert!(normalize_vin("LVSHCAMB1CE123456").is_ok());
        assert!(normalize_vin("LVSHCAMB5CE123456").is_err());
        assert!(normalize_vin("LVSHCAMB1CE12345").is_err());
        assert!(normalize_vin("LVSHCAMB1CE12345O").is_err());
    }

    #[test]
    fn text_limits() {
        assert!(text("  ", "name", 10).is_err());
        assert!(text("王先生", "name", 3).is_ok());
        assert!(text("王先生好", "name", 3).is_err());
        assert_eq!(opt_text(Some(" "), "city", 5).ok(), Some(None));
    }

    fn day(m: u32, d: u32) -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, m, d).expect("date")
    }

    #[test]
    fn a_new_car_is_due_for_its_first_service_by_time_at_the_assumed_pace() {
        let s = crate::org::rules::StoreSettings::default();
        let f = ServiceFacts {
            delivered: Some(day(1, 1)),
            ..Default::default()
        };
        let p = predict_service(&s, &f);
        assert_eq!(p.daily_m, 40_000);
        // 5,000 km at 40 km a day is 125 days: before six months.
        assert_eq!(p.due_on, Some(day(1, 1) + chrono::Duration::days(125)));
        assert_eq!(
            (p.due_km, p.basis),
            (Some(5000), Some(ServiceBasis::Mileage))
        );
    }

    #[test]
    fn readings_set_the_pace_and_a_slow_car_is_due_by_time() {
        let s = crate::org::rules::StoreSettings::default();
        let mut f = ServiceFacts {
            delivered: None,
            last_service: Some((day(3, 1), 4000)),
            readings: vec![(day(3, 1), 4000), (day(4, 1), 4310)],
        };
        let p = predict_service(&s, &f);
        assert_eq!(p.daily_m, 10_000);
        assert_eq!(
            (p.due_on, p.basis),
            (Some(day(9, 1)), Some(ServiceBasis::Time))
        );
        assert_eq!(p.due_km, Some(9000));
        // Driving more: 1,310 km in 41 days is 31.95 km a day, which
        // reaches 9,000 km 116 days after the newest reading.
        f.readings.push((day(4, 11), 5310));
        let p = predict_service(&s, &f);
        assert_eq!(p.daily_m, 31_951);
        assert_eq!(p.basis, Some(ServiceBasis::Mileage));
        assert_eq!(p.due_on, Some(day(4, 11) + chrono::Duration::days(116)));
        // Past the mileage already: due on the reading's day.
        f.readings.push((day(4, 20), 9100));
        assert_eq!(predict_service(&s, &f).due_on, Some(day(4, 20)));
    }

    #[test]
    fn nothing_to_count_from_predicts_nothing() {
        let s = crate::org::rules::StoreSettings::default();
        let p = predict_service(&s, &ServiceFacts::default());
        assert_eq!((p.due_on, p.basis), (None, None));
    }
}
