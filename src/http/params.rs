//! The query strings the reads accept, one flat struct per endpoint that refuses any
//! parameter it does not name (400 `unknown-query-parameter`, see [`super::query_error`]):
//! a misspelt filter must not silently answer everything. (`#[serde(flatten)]` cannot be
//! combined with `deny_unknown_fields` in a query string, hence one struct each.)

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use serde::{Deserialize, Deserializer};
use utoipa::IntoParams;

use super::problem::ApiError;
use crate::domain::{City, DepartmentCode, Industry};
use crate::policy::Light;
use crate::projection::LoopStage;
use crate::projection::queries::ProjectFilter;

/// `GET /projects`: the filters, the page, and `min_position`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub industry: Option<Industry>,
    pub city: Option<City>,
    /// Projects this department leads or supports.
    pub department: Option<DepartmentCode>,
    pub light: Option<Light>,
    pub stage: Option<LoopStage>,
    /// Only projects with (true) or without (false) an overdue milestone.
    pub overdue: Option<bool>,
    /// From 1 to 1,000,000.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<usize>,
    /// 1 to 500; 50 by default.
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<usize>,
    /// Wait (briefly) until the read models reflect this global position.
    #[param(minimum = 0)]
    pub min_position: Option<u64>,
}

impl ListQuery {
    pub fn filter(&self) -> ProjectFilter {
        ProjectFilter {
            industry: self.industry,
            city: self.city,
            department: self.department.clone(),
            light: self.light,
            stage: self.stage,
            overdue: self.overdue,
            page: self.page,
            per_page: self.per_page,
        }
    }
}

/// `GET /overdue`: the page and `min_position`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OverdueQuery {
    /// From 1 to 1,000,000.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<usize>,
    /// 1 to 1000; 100 by default.
    #[param(minimum = 1, maximum = 1000)]
    pub per_page: Option<usize>,
    /// Wait (briefly) until the read models reflect this global position.
    #[param(minimum = 0)]
    pub min_position: Option<u64>,
}

/// `GET /projects/{id}`: which moment, and how fresh.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatusQuery {
    /// The status exactly as it was at this moment, lights computed for that day: an
    /// RFC 3339 moment (`2018-04-01T10:00:00+08:00`) or a date (`2018-04-01`, meaning the
    /// end of that day in Asia/Shanghai, 23:59:59.999 +08:00).
    #[serde(default, deserialize_with = "as_of")]
    #[param(schema_with = as_of_schema)]
    pub as_of: Option<DateTime<Utc>>,
    /// Wait (briefly) until the read models reflect this global position.
    #[param(minimum = 0)]
    pub min_position: Option<u64>,
}

/// A page of a list read in seq order: the audit trail, the notices.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CursorQuery {
    /// Items after this seq: the `next` of the page before. From the start when absent.
    #[param(minimum = 0)]
    pub after: Option<u64>,
    /// How many items, 1 to 1000; 100 by default.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// Wait (briefly) until the read models reflect this global position.
    #[param(minimum = 0)]
    pub min_position: Option<u64>,
}

/// The default page of a cursor read.
pub const DEFAULT_LIMIT: usize = 100;
/// The largest page of a cursor read.
pub const MAX_LIMIT: usize = 1000;

impl CursorQuery {
    /// The page size asked for: a client asking for none or too many has a bug that a
    /// silently adjusted answer would hide.
    pub fn limit(&self) -> Result<usize, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::unprocessable(
                "invalid-query",
                format!("limit must be from 1 to {MAX_LIMIT}"),
            )),
        }
    }

    pub fn after(&self) -> u64 {
        self.after.unwrap_or(0)
    }
}

/// Cuts a page from items in seq order, of which at most `limit + 1` were gathered: `next`
/// is the seq to pass as `after` for the next page, or `None` at the end.
pub fn page_of<T>(
    mut items: Vec<T>,
    limit: usize,
    seq: impl Fn(&T) -> u64,
) -> (Vec<T>, Option<u64>) {
    if items.len() <= limit {
        return (items, None);
    }
    items.truncate(limit);
    let next = items.last().map(seq);
    (items, next)
}

/// `as_of` in the document: a moment or a date, as [`as_of`] reads it.
fn as_of_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
    let string = |format| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(format)))
    };
    OneOfBuilder::new()
        .item(string(KnownFormat::DateTime))
        .item(string(KnownFormat::Date))
        .into()
}

/// Reads `as_of`: an RFC 3339 moment, or a plain date meaning its end of day in
/// Asia/Shanghai; anything else is refused naming both formats.
fn as_of<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let text = String::deserialize(d)?;
    parse_moment(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

pub fn parse_moment(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    let end_of_day = NaiveTime::from_hms_milli_opt(23, 59, 59, 999).expect("a valid time");
    crate::http::commands::wire::parse_date(text)
        .ok()
        .and_then(|day| {
            Shanghai
                .from_local_datetime(&day.and_time(end_of_day))
                .single()
        })
        .map(|at| at.with_timezone(&Utc))
        .ok_or_else(|| {
            format!(
                "as_of {text:?} is neither an RFC 3339 moment (e.g. 2018-04-01T10:00:00+08:00) \
                 nor a date (e.g. 2018-04-01, meaning its end of day in Asia/Shanghai)"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_is_its_end_of_day_in_shanghai_and_a_moment_is_itself() {
        let end = parse_moment("2018-04-01").unwrap();
        assert_eq!(end.to_rfc3339(), "2018-04-01T15:59:59.999+00:00");
        let at = parse_moment("2018-04-01T00:00:00Z").unwrap();
        assert_eq!(at.to_rfc3339(), "2018-04-01T00:00:00+00:00");
        let bad = parse_moment("yesterday").unwrap_err();
        assert!(
            bad.contains("RFC 3339") && bad.contains("2018-04-01"),
            "{bad}"
        );
        assert!(parse_moment("2018-13-01").is_err());
    }
}
