//! Reads from the read models: the project list with filters, the overdue list, a
//! department's dashboard, the province-wide summary, and the admin's rebuild. Each answers
//! for today (the service clock, Asia/Shanghai) and accepts `min_position` to read its own
//! writes.

use actix_web::{HttpResponse, get, post, web};

use super::AppState;
use super::access::{admin_only, confined_to};
use super::auth_extract::Caller;
use super::blocking::read_models;
use super::freshness::{Freshness, caught_up};
use super::params::{ListQuery, OverdueQuery};
use super::problem::ApiError;
use crate::domain::DepartmentCode;
use crate::projection::dashboard::{Dashboard, dashboard};
use crate::projection::queries::{self, OverduePage, ProjectPage, Summary};
use crate::projection::{Day, RebuildReport};

/// Rejects a page before the first or a page size out of range: a client asking for them has
/// a bug that a silently adjusted answer would hide.
/// The last page a list may be asked for: far beyond any ledger, and a bound the document
/// can state.
const MAX_PAGE: usize = 1_000_000;

fn check_paging(page: Option<usize>, per_page: Option<usize>, max: usize) -> Result<(), ApiError> {
    if page.is_some_and(|n| n == 0 || n > MAX_PAGE) {
        return Err(ApiError::unprocessable(
            "invalid-query",
            format!("page counts from 1 to {MAX_PAGE}"),
        ));
    }
    if per_page.is_some_and(|n| n == 0 || n > max) {
        return Err(ApiError::unprocessable(
            "invalid-query",
            format!("per_page must be from 1 to {max}"),
        ));
    }
    Ok(())
}

fn today(state: &AppState) -> Day<'_> {
    Day::of((state.clock)(), &state.policies)
}

#[utoipa::path(get, path = "/api/v1/projects", tag = "read",
    params(ListQuery),
    responses((status = 200, description = "A page of the project ledger", body = ProjectPage),
        (status = "4XX", description = "Refused: bad parameters, no or bad token, not visible, not found", body = super::problem::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The read models have not reached min_position yet; retry after Retry-After", body = super::problem::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[get("/projects")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    check_paging(query.page, query.per_page, queries::MAX_PROJECTS_PER_PAGE)?;
    caught_up(&state, query.min_position).await?;
    let confined = confined_to(&state, &caller)?;
    let filter = query.filter();
    let page = read_models(&state, move |s| {
        Ok(queries::list(
            &s.models,
            today(s),
            &filter,
            confined.as_ref(),
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Overdue milestones, most overdue first: all of them for the office and inspectors, its
/// own for a department.
#[utoipa::path(get, path = "/api/v1/overdue", tag = "read",
    params(OverdueQuery),
    responses((status = 200, description = "A page of overdue milestones, most overdue first", body = OverduePage),
        (status = "4XX", description = "Refused: bad parameters, no or bad token, not visible, not found", body = super::problem::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The read models have not reached min_position yet; retry after Retry-After", body = super::problem::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[get("/overdue")]
pub async fn overdue(
    state: web::Data<AppState>,
    caller: Caller,
    paging: web::Query<OverdueQuery>,
) -> Result<HttpResponse, ApiError> {
    check_paging(paging.page, paging.per_page, queries::MAX_OVERDUE_PER_PAGE)?;
    caught_up(&state, paging.min_position).await?;
    let confined = confined_to(&state, &caller)?;
    let page = paging.page.unwrap_or(1);
    let per_page = paging.per_page.unwrap_or(100);
    let items = read_models(&state, move |s| {
        Ok(queries::overdue_page(
            &s.models,
            today(s),
            confined.as_ref(),
            page,
            per_page,
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(items))
}

#[utoipa::path(get, path = "/api/v1/departments/{code}/dashboard", tag = "read",
    params(("code" = String, Path, description = "department code"), Freshness),
    responses((status = 200, description = "The department's dashboard", body = Dashboard),
        (status = "4XX", description = "Refused: bad parameters, no or bad token, not visible, not found", body = super::problem::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The read models have not reached min_position yet; retry after Retry-After", body = super::problem::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[get("/departments/{code}/dashboard")]
pub async fn department_dashboard(
    state: web::Data<AppState>,
    caller: Caller,
    code: web::Path<String>,
    query: web::Query<Freshness>,
) -> Result<HttpResponse, ApiError> {
    let dept = DepartmentCode::new(code.into_inner())
        .ok()
        .filter(|d| state.policies.departments.get(d).is_some())
        .ok_or_else(|| ApiError::not_found("no such department in the directory"))?;
    if confined_to(&state, &caller)?.is_some_and(|own| own != dept) {
        return Err(ApiError::forbidden(
            "a department sees its own dashboard only",
        ));
    }
    caught_up(&state, query.min_position).await?;
    let board = read_models(&state, move |s| Ok(dashboard(&s.models, today(s), &dept)?)).await?;
    Ok(HttpResponse::Ok().json(board))
}

/// Counts and lights by industry and by city: published aggregate statistics, open to the
/// public (no token needed).
#[utoipa::path(get, path = "/api/v1/summary", tag = "read",
    params(Freshness),
    responses((status = 200, description = "Published statistics: counts by light, stage, industry and city", body = Summary),
        (status = "4XX", description = "Refused: bad parameters", body = super::problem::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The read models have not reached min_position yet; retry after Retry-After", body = super::problem::Problem, content_type = "application/problem+json")))]
#[get("/summary")]
pub async fn summary(
    state: web::Data<AppState>,
    query: web::Query<Freshness>,
) -> Result<HttpResponse, ApiError> {
    caught_up(&state, query.min_position).await?;
    let summary = read_models(&state, |s| Ok(queries::summary(&s.models, today(s))?)).await?;
    Ok(HttpResponse::Ok().json(summary))
}

/// Rebuilds every read model from seq 1 (admin). Reads go on from the old models until the
/// new ones are complete.
#[utoipa::path(post, path = "/api/v1/admin/rebuild", tag = "admin",
    responses((status = 200, description = "Rebuilt", body = RebuildReport),
        (status = "4XX", description = "Refused: bad parameters, no or bad token, not visible, not found", body = super::problem::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[post("/admin/rebuild")]
pub async fn rebuild(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    admin_only(&caller, "rebuilding the read models is for admins")?;
    let report = state
        .projector
        .rebuild()
        .await
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(report))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list)
        .service(overdue)
        .service(department_dashboard)
        .service(summary)
        .service(rebuild);
}
