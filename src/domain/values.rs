//! The values the supervision loop talks about: ids, departments, the plan's nine industries
//! and 11 cities, severities, colours. Each can only hold a valid value, so commands parsed
//! from requests are already well-formed when they reach `decide`.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The time zone in which a due date ends: "due" means the end of that day in Asia/Shanghai.
pub const PLAN_TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// The calendar date of an instant in the plan's time zone.
pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&PLAN_TZ).date_naive()
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A key project; also the id of its event stream.
    ProjectId
);
id_type!(
    /// A dated step of a project (里程碑 / 节点).
    MilestoneId
);
id_type!(
    /// A measurable goal of a project (指标).
    TargetId
);
id_type!(
    /// Something an inspection found wrong (问题).
    FindingId
);
id_type!(
    /// The fix a finding requires (整改).
    RectificationId
);

/// A department of the directory (`policies/departments.toml`): upper-case letters, digits
/// and `-`, 2 to 32 characters, e.g. `SXDRC` or `TY-GOV`.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, pattern = "^[A-Z0-9-]{2,32}$")]
pub struct DepartmentCode(String);

impl JsonSchema for DepartmentCode {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DepartmentCode".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "pattern": "^[A-Z0-9-]{2,32}$" })
    }
}

impl DepartmentCode {
    pub fn new(code: impl Into<String>) -> Result<Self, String> {
        let code = code.into();
        let ok = (2..=32).contains(&code.len())
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(code))
        } else {
            Err(format!(
                "{code:?} is not a department code (A-Z, 0-9 and -, 2 to 32 characters)"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DepartmentCode {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<DepartmentCode> for String {
    fn from(value: DepartmentCode) -> Self {
        value.0
    }
}

impl fmt::Display for DepartmentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The plan's nine strategic emerging industries (九大产业).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
    utoipa::ToSchema,
)]
pub enum Industry {
    #[serde(rename = "高端装备制造")]
    HighEndEquipment,
    #[serde(rename = "新能源")]
    NewEnergy,
    #[serde(rename = "新材料")]
    NewMaterials,
    #[serde(rename = "节能环保")]
    EnergySavingEnvironmental,
    #[serde(rename = "生物")]
    Biotech,
    #[serde(rename = "煤层气")]
    CoalbedMethane,
    #[serde(rename = "新一代信息技术")]
    NextGenerationIt,
    #[serde(rename = "新能源汽车")]
    NewEnergyVehicles,
    #[serde(rename = "现代煤化工")]
    ModernCoalChemicals,
}

/// Where a project is: one of the province's 11 cities, or the whole province (全省).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
    utoipa::ToSchema,
)]
pub enum City {
    #[serde(rename = "太原")]
    Taiyuan,
    #[serde(rename = "大同")]
    Datong,
    #[serde(rename = "朔州")]
    Shuozhou,
    #[serde(rename = "忻州")]
    Xinzhou,
    #[serde(rename = "阳泉")]
    Yangquan,
    #[serde(rename = "吕梁")]
    Lvliang,
    #[serde(rename = "晋中")]
    Jinzhong,
    #[serde(rename = "长治")]
    Changzhi,
    #[serde(rename = "晋城")]
    Jincheng,
    #[serde(rename = "临汾")]
    Linfen,
    #[serde(rename = "运城")]
    Yuncheng,
    #[serde(rename = "全省")]
    ProvinceWide,
}

/// A department's part in a project.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DepartmentRole {
    /// 牵头单位: answers for the project.
    Lead,
    /// 配合单位: contributes; scored more lightly.
    Supporting,
}

/// How serious a finding is.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    JsonSchema,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
}

/// A delivery-confidence rating (红/黄/绿) given by a named assessor.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    Red,
    Amber,
    Green,
}

/// Who acts: the authenticated caller, as the service hands it to the domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Actor {
    pub sub: String,
    pub role: String,
    /// The caller's department, for role `department`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dept: Option<DepartmentCode>,
}

/// Everything `decide` needs besides state and command: who acts and when. Passed in, never
/// read from a clock, so the domain is deterministic.
#[derive(Clone, Debug)]
pub struct Context {
    pub actor: Actor,
    pub now: DateTime<Utc>,
}

/// A share of a milestone done, 0 to 100.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
/// Read from any JSON number that is whole (`70` or `70.0`: JSON Schema's integer).
#[serde(try_from = "f64", into = "u8")]
#[schema(value_type = u8, minimum = 0, maximum = 100)]
pub struct Percent(u8);

impl Percent {
    /// How the refusal of a value over 100 starts (the service keeps its problem type).
    pub const REFUSED: &'static str = "percent must be a whole number from 0 to 100";

    pub const fn new(value: u8) -> Option<Self> {
        if value <= 100 {
            Some(Self(value))
        } else {
            None
        }
    }

    pub const fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Percent {
    type Error = String;
    fn try_from(value: u8) -> Result<Self, String> {
        Self::new(value).ok_or_else(|| format!("{}, not {value}", Self::REFUSED))
    }
}

impl TryFrom<f64> for Percent {
    type Error = String;
    fn try_from(value: f64) -> Result<Self, String> {
        if value.fract() == 0.0 && (0.0..=100.0).contains(&value) {
            Ok(Self(value as u8))
        } else {
            Err(format!("{}, not {value}", Self::REFUSED))
        }
    }
}

impl From<Percent> for u8 {
    fn from(value: Percent) -> Self {
        value.0
    }
}
