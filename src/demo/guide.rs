//! What the demo prints once the story is played: where the service is, a token per role,
//! how to mint more, where mails go, and a few requests to start from.

use std::path::Path;

/// A ready-to-use token for each role.
pub struct Tokens {
    pub office: String,
    pub inspector: String,
    /// The department's code and name, and its token.
    pub department: (String, String, String),
    pub admin: String,
}

/// Where the guide points to.
pub struct Guide<'a> {
    pub url: &'a str,
    pub data_dir: &'a Path,
    pub tokens: &'a Tokens,
    pub token_hours: i64,
    /// Set when mails go to an SMTP server rather than to files.
    pub smtp: bool,
    /// Whether the reminder scan ran.
    pub scanned: bool,
    /// A red project's id, for the first example.
    pub red_project: &'a str,
}

impl Guide<'_> {
    pub fn print(&self, serving: bool) {
        let url = self.url.trim_end_matches('/');
        let data = self.data_dir.display();
        let t = self.tokens;
        let (code, name, dept_token) = &t.department;
        println!("\nduban is at {url}/ — API docs at {url}/docs/");
        println!("\ntokens (valid {} h):", self.token_hours);
        println!("  office      {}", t.office);
        println!("  inspector   {}", t.inspector);
        println!("  department  {dept_token}\n              ({code} {name})");
        println!("  admin       {}", t.admin);
        println!(
            "more: duban token --data-dir {data} --role department --dept SXDRC --sub clerk.sxdrc"
        );
        let mails = if self.smtp {
            "mails go to the SMTP server in DUBAN_MAIL__SMTP_URL".to_string()
        } else {
            format!(
                "mails are written to {data}/mail/*.eml (set DUBAN_MAIL__SMTP_URL to send them)"
            )
        };
        let none_yet = if self.scanned {
            ""
        } else {
            " — none yet: this build has no reminder scan"
        };
        println!("\n{mails}{none_yet}");
        println!("\ntry:");
        println!("  OFFICE={}", t.office);
        println!("  DEPT={dept_token}");
        println!(
            "  curl -s -H \"Authorization: Bearer $OFFICE\" {url}/api/v1/projects/{}    # a red project's status and why",
            self.red_project
        );
        println!(
            "  curl -s -H \"Authorization: Bearer $OFFICE\" '{url}/api/v1/overdue?per_page=5'    # most overdue first"
        );
        println!(
            "  curl -s -H \"Authorization: Bearer $DEPT\" {url}/api/v1/departments/{code}/dashboard    # {name}'s own work"
        );
        println!(
            "  curl -s {url}/api/v1/summary    # public: counts and lights by industry and city"
        );
        if serving {
            println!("\nserving until Ctrl-C or SIGTERM");
        }
    }
}
