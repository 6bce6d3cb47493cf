//! `GET /openapi.json` (every route, schema and the bearer security scheme) and `GET /docs`
//! (Swagger UI, served from files vendored into the binary at build time).

use actix_web::web;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use super::{commands, notices, ops, queries, reads};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .build();
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The request bodies that are tagged enums: serde refuses unknown fields in each variant
/// (`deny_unknown_fields`), which utoipa does not write into the variants' schemas.
const CLOSED_VARIANTS: [&str; 3] = ["PlanChangeBody", "ReviewBody", "VerificationBody"];

struct ClosedVariants;

impl Modify for ClosedVariants {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::{AdditionalProperties, Schema};
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for name in CLOSED_VARIANTS {
            let Some(RefOr::T(Schema::OneOf(one_of))) = components.schemas.get_mut(name) else {
                panic!("{name} is no longer a oneOf: update CLOSED_VARIANTS");
            };
            for item in &mut one_of.items {
                if let RefOr::T(Schema::Object(variant)) = item {
                    variant.additional_properties =
                        Some(Box::new(AdditionalProperties::FreeForm(false)));
                }
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "duban 督办", description = "Supervision of a five-year plan's key projects: 规划 → 落实 → 督查 → 考核 → 改进."),
    paths(
        commands::plan::register_project, commands::plan::schedule_milestone, commands::plan::set_target, commands::plan::assign_department,
        commands::implement::sign_assignment, commands::implement::return_assignment, commands::implement::report_progress, commands::implement::claim_completion,
        commands::implement::request_extension, commands::inspect::review_completion, commands::improve::decide_extension, commands::inspect::record_inspection,
        commands::inspect::order_rectification, commands::improve::report_rectification, commands::improve::verify_rectification,
        commands::improve::revise_plan, commands::improve::place_hold, commands::improve::lift_hold, commands::improve::close_cycle, commands::improve::reopen_cycle,
        commands::assess::record_assessment, commands::assess::rate_confidence,
        queries::project, queries::events, queries::departments, queries::verify,
        reads::list, reads::overdue, reads::department_dashboard, reads::summary, reads::rebuild,
        notices::scan, notices::outbox, notices::notifications,
        ops::healthz, ops::readyz, ops::metrics,
    ),
    // Named by the command answers' response enums, which do not collect schemas.
    components(schemas(commands::submit::CommandAnswer, commands::submit::CreatedIds)),
    modifiers(&BearerAuth, &ClosedVariants),
    tags(
        (name = "plan", description = "规划 — the office registers projects, milestones, targets"),
        (name = "implement", description = "落实 — departments sign for, report, claim, ask for extensions"),
        (name = "inspect", description = "督查 — inspectors review claims, record findings, order rectification"),
        (name = "assess", description = "考核 — the office assesses and rates confidence"),
        (name = "improve", description = "改进 — rectification, extensions, revisions, holds, closing"),
        (name = "read", description = "status with lights, lists, overdue, dashboards, summary, audit trail"),
        (name = "admin", description = "maintenance: rebuilding the read models, running the notifier, the outbox"),
        (name = "audit", description = "the hash chain"),
        (name = "ops", description = "liveness, readiness and metrics, without a token"),
    )
)]
pub struct ApiDoc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", ApiDoc::openapi()))
        .service(web::redirect("/docs", "/docs/"));
}
