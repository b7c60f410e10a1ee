//! One error type for every request path. Internal causes are logged and
//! replaced by a safe message; expected failures become `userErrors`.
use async_graphql::{ErrorExtensions, SimpleObject};
use sea_orm::{DbErr, SqlErr};

use crate::labels::labeled_enum;

labeled_enum! {
    /// Why a mutation's input was refused.
    UserErrorCode {
        Invalid = "INVALID" ("Invalid value", "无效的值"),
        Required = "REQUIRED" ("Required", "必填"),
        TooLong = "TOO_LONG" ("Too long", "过长"),
        InvalidPhone = "INVALID_PHONE" ("Invalid phone number", "无效的电话号码"),
        InvalidVin = "INVALID_VIN" ("Invalid VIN", "无效的车架号"),
        InvalidId = "INVALID_ID" ("Malformed id", "无效的ID"),
        Duplicate = "DUPLICATE" ("Already exists", "已存在"),
        NotFound = "NOT_FOUND" ("Not found", "未找到"),
        NotAllowed = "NOT_ALLOWED" ("Not allowed", "无权操作"),
        InvalidCredentials = "INVALID_CREDENTIALS" ("Wrong username or password", "用户名或密码错误"),
        TokenInvalid = "TOKEN_INVALID" ("Invalid token", "无效的令牌"),
        TokenExpired = "TOKEN_EXPIRED" ("Token expired", "令牌已过期"),
        TokenReused = "TOKEN_REUSED" ("Token already used; session revoked", "令牌已被使用，会话已撤销"),
        Conflict = "CONFLICT" ("Conflicts with the current state", "与当前状态冲突"),
        OutOfRange = "OUT_OF_RANGE" ("Out of range", "超出范围"),
        NotCovered = "NOT_COVERED" ("Not under warranty", "不在保修范围"),
    }
}

/// An expected failure of a mutation, returned in its payload.
#[derive(SimpleObject, Clone, Debug, PartialEq)]
pub struct UserError {
    /// Path to the input field at fault, e.g. `["input", "mobile"]`.
    pub field: Option<Vec<String>>,
    /// Machine-readable reason.
    pub code: UserErrorCode,
    /// Human-readable explanation.
    pub message: String,
    /// For DUPLICATE: the id of the record that already exists, when you
    /// may open it.
    pub existing_id: Option<async_graphql::ID>,
    /// For DUPLICATE on a record you may not open: who is responsible for
    /// it (ask the store manager with `requestCustomerHandover`).
    pub held_by: Option<String>,
}

impl UserError {
    /// An error about one field of `input`; a dotted name (`parts.0.quantity`)
    /// is a path into the input's lists.
    pub fn at(field: &str, code: UserErrorCode, message: impl Into<String>) -> Self {
        let path = std::iter::once("input").chain(field.split('.'));
        UserError {
            field: Some(path.map(String::from).collect()),
            code,
            message: message.into(),
            existing_id: None,
            held_by: None,
        }
    }

    /// A DUPLICATE error naming the record that already exists.
    pub fn duplicate(field: &str, message: impl Into<String>, existing: async_graphql::ID) -> Self {
        UserError {
            existing_id: Some(existing),
            ..UserError::at(field, UserErrorCode::Duplicate, message)
        }
    }

    /// An error about the input as a whole.
    pub fn general(code: UserErrorCode, message: impl Into<String>) -> Self {
        UserError {
            field: None,
            code,
            message: message.into(),
            existing_id: None,
            held_by: None,
        }
    }
}

/// Every way a request can fail. Deliberately not `Display`, so that it can
/// only reach a client through the mapping below.
#[derive(Debug)]
pub enum ApiError {
    /// Expected failures, reported in the mutation payload.
    User(Vec<UserError>),
    /// No valid access token.
    Unauthenticated(&'static str),
    /// The actor's role may not do this at all.
    Forbidden,
    /// Missing, or not visible to the actor (the two look the same).
    NotFound,
    /// Too many requests; try again after the given seconds.
    RateLimited {
        /// Seconds until a retry can succeed.
        retry_after_secs: u64,
        /// What was limited, for the client.
        why: &'static str,
    },
    /// Malformed arguments outside a mutation input.
    BadInput(String),
    /// A request that is not a well-formed GraphQL request.
    BadRequest(String),
    /// The access token has expired: refresh it (unlike a garbage token,
    /// which needs a new sign-in).
    TokenExpired,
    /// The database failed.
    Db(DbErr),
    /// Anything else unexpected.
    Internal(anyhow::Error),
}

/// Result of anything on a request path.
pub type ApiResult<T> = Result<T, ApiError>;

impl From<DbErr> for ApiError {
    fn from(e: DbErr) -> Self {
        ApiError::Db(e)
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        ApiError::Internal(e)
    }
}

impl From<UserError> for ApiError {
    fn from(e: UserError) -> Self {
        ApiError::User(vec![e])
    }
}

impl ApiError {
    /// A single user error about one input field.
    pub fn field(field: &str, code: UserErrorCode, message: impl Into<String>) -> Self {
        UserError::at(field, code, message).into()
    }

    /// Turns a unique-constraint violation into a user error; the database's
    /// own constraint decides, not a racy read-then-insert.
    pub fn on_unique(e: DbErr, err: impl FnOnce() -> UserError) -> Self {
        match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => ApiError::User(vec![err()]),
            _ => ApiError::Db(e),
        }
    }

    /// Whether this is a unique-constraint violation.
    pub fn is_unique_violation(e: &DbErr) -> bool {
        matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
    }
}

fn coded(message: &str, code: &str) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code))
}

impl From<ApiError> for async_graphql::Error {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::User(errs) => {
                let msg = errs
                    .first()
                    .map(|e| e.message.clone())
                    .unwrap_or_else(|| "invalid input".into());
                coded(&msg, "BAD_USER_INPUT")
            }
            ApiError::Unauthenticated(why) => coded(why, "UNAUTHENTICATED"),
            ApiError::Forbidden => coded("not allowed for your role", "FORBIDDEN"),
            ApiError::NotFound => coded("not found", "NOT_FOUND"),
            ApiError::RateLimited {
                retry_after_secs,
                why,
            } => async_graphql::Error::new(why).extend_with(|_, e| {
                e.set("code", "RATE_LIMITED");
                e.set("retryAfterSeconds", retry_after_secs);
            }),
            ApiError::BadInput(m) => coded(&m, "BAD_USER_INPUT"),
            ApiError::BadRequest(m) => coded(&m, "BAD_REQUEST"),
            ApiError::TokenExpired => coded(
                "access token expired; refresh it with your refresh token",
                "TOKEN_EXPIRED",
            ),
            ApiError::Db(err) => {
                tracing::error!(error = %err, "database error");
                coded("internal error", "INTERNAL")
            }
            ApiError::Internal(err) => {
                tracing::error!(error = %err, "internal error");
                coded("internal error", "INTERNAL")
            }
        }
    }
}

/// Splits a result into (value, userErrors) for a mutation payload; every
/// other failure becomes a GraphQL error with a code.
pub fn into_payload<T>(r: ApiResult<T>) -> async_graphql::Result<(Option<T>, Vec<UserError>)> {
    match r {
        Ok(v) => Ok((Some(v), Vec::new())),
        Err(ApiError::User(errs)) => Ok((None, errs)),
        Err(e) => Err(e.into()),
    }
}
