//! `policies/departments.toml`: the department directory — code, Chinese name, kind, e-mail
//! and the leader's e-mail (for level-2 escalations).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::DepartmentCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DepartmentKind {
    /// 省直部门
    Provincial,
    /// 设区市人民政府
    City,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Department {
    pub code: DepartmentCode,
    pub name: String,
    pub kind: DepartmentKind,
    pub email: String,
    pub leader_email: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    department: Vec<Department>,
}

#[derive(Clone, Debug, Default)]
pub struct Directory {
    by_code: BTreeMap<DepartmentCode, Department>,
}

fn plausible_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty() && domain.contains('.') && !s.contains(char::is_whitespace)
}

impl Directory {
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut by_code = BTreeMap::new();
        for d in file.department {
            if d.name.trim().is_empty() {
                return Err(format!("department {}: name is empty", d.code));
            }
            for email in [&d.email, &d.leader_email] {
                if !plausible_email(email) {
                    return Err(format!(
                        "department {}: {email:?} is not an e-mail address",
                        d.code
                    ));
                }
            }
            if by_code.contains_key(&d.code) {
                return Err(format!("department {} is listed twice", d.code));
            }
            by_code.insert(d.code.clone(), d);
        }
        if by_code.is_empty() {
            return Err("the directory lists no department".into());
        }
        Ok(Self { by_code })
    }

    pub fn get(&self, code: &DepartmentCode) -> Option<&Department> {
        self.by_code.get(code)
    }

    pub fn all(&self) -> impl Iterator<Item = &Department> {
        self.by_code.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../policies/departments.toml");

    #[test]
    fn the_shipped_directory_has_provincial_departments_and_the_11_city_governments() {
        let d = Directory::parse(SHIPPED).unwrap();
        let cities = d.all().filter(|d| d.kind == DepartmentKind::City).count();
        assert_eq!(cities, 11);
        assert!(d.get(&DepartmentCode::new("SXDRC").unwrap()).is_some());
    }

    #[test]
    fn bad_entries_are_refused_with_the_department_named() {
        let twice = format!(
            "{SHIPPED}\n[[department]]\ncode = \"SXDRC\"\nname = \"x\"\nkind = \"provincial\"\nemail = \"a@b.org\"\nleader_email = \"c@d.org\"\n"
        );
        assert!(Directory::parse(&twice).unwrap_err().contains("SXDRC"));
        let bad_mail = SHIPPED.replacen("drc@example.org", "drc-at-example", 1);
        assert!(Directory::parse(&bad_mail).unwrap_err().contains("SXDRC"));
        let bad_code = SHIPPED.replacen("\"SXDRC\"", "\"sx drc\"", 1);
        assert!(Directory::parse(&bad_code).is_err());
    }
}
