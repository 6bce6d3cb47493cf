//! The command endpoints' registration under `/api/v1`.

use actix_web::web;

use super::{assess, implement, improve, inspect, plan};

/// Registers every command endpoint under the scope it is given; the most frequent command
/// (a progress report) first, as actix tries resources in order.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(implement::report_progress)
        .service(plan::register_project)
        .service(plan::schedule_milestone)
        .service(plan::set_target)
        .service(plan::assign_department)
        .service(implement::sign_assignment)
        .service(implement::return_assignment)
        .service(implement::claim_completion)
        .service(implement::request_extension)
        .service(inspect::review_completion)
        .service(improve::decide_extension)
        .service(inspect::record_inspection)
        .service(inspect::order_rectification)
        .service(improve::report_rectification)
        .service(improve::verify_rectification)
        .service(improve::revise_plan)
        .service(improve::place_hold)
        .service(improve::lift_hold)
        .service(improve::close_cycle)
        .service(improve::reopen_cycle)
        .service(assess::record_assessment)
        .service(assess::rate_confidence);
}
