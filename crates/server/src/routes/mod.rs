//! The HTTP API: the router, the authentication and audit layer, and request extractors
//! that turn every malformed request into a precise `4xx { code, message }`.

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Query, Request, State};
use axum::handler::Handler;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use sesame_core::api::{Principal, PrincipalKind};
use sesame_core::id::Id;
use sesame_core::ErrorCode;

use crate::auth::{check_active, unix_now, SessionKey};
use crate::clock::Clock;
use crate::config::ServerConfig;
use crate::error::{ApiError, Outcome};
use crate::metrics::RateLimitKind;
use crate::rate_limit::{RateLimiter, Source};
use crate::store::{EventRecord, Store};

mod events;
mod files;
mod health;
mod items;
mod principals;
mod shares;
mod sync;
mod vaults;

pub(crate) use shares::CodeKey;

/// The OpenAPI 3.1 document served at `/v1/openapi.json`.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// Shared state of every request.
pub(crate) struct App<S> {
    pub(crate) store: S,
    pub(crate) account: Id,
    pub(crate) sessions: SessionKey,
    pub(crate) config: ServerConfig,
    pub(crate) limiter: RateLimiter,
    pub(crate) clock: Clock,
    /// Sends share recipients their codes; `None` without `smtp_url`.
    pub(crate) mailer: Option<Arc<crate::mail::Mailer>>,
    /// The key of the MACs of share codes and addresses.
    pub(crate) code_key: shares::CodeKey,
    /// Requests without a valid credential, per source address (point 6).
    pub(crate) sources: crate::rate_limit::SourceLimiter,
    /// Failed authentications, audited per source and minute (point 6).
    pub(crate) failures: Arc<crate::rate_limit::AuthFailures>,
    /// What `GET /metrics` serves.
    pub(crate) metrics: crate::metrics::Metrics,
    /// Principals and permissions as recently read (see `access_cache`).
    pub(crate) access: crate::access_cache::AccessCache,
}

/// The source address of a request (from the connection), as rate limits count it.
pub(crate) fn source_of(request: &Request) -> Source {
    let addr = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |info| info.0.ip());
    Source::of(addr)
}

/// The answer to a source over its budget of requests without a valid credential.
fn source_limited(retry: u64) -> Response {
    let mut response = ApiError::rate_limited(
        format!(
            "too many requests without a valid credential from this address; retry in {retry} \
             seconds"
        ),
        retry,
    )
    .into_response();
    response
        .extensions_mut()
        .insert(RateLimitKind::Unauthenticated);
    response
}

/// A failed authentication from `source`: counted against its budget and in the audit
/// aggregate, never written on its own. `err` is answered unless the budget is used up.
pub(crate) fn auth_failed<S>(app: &App<S>, source: Source, err: ApiError, now: u64) -> Response {
    match app.sources.check(source, now) {
        Ok(()) => {
            app.failures.record(source, false, now);
            err.into_response()
        }
        Err(retry) => {
            app.failures.record(source, true, now);
            source_limited(retry)
        }
    }
}

/// Point 6: public routes that take a credential-less request (`POST /v1/auth`, share
/// links) are charged to their source before any other work.
async fn unauthenticated<S: Store>(
    State(app): State<AppState<S>>,
    mut request: Request,
    next: Next,
) -> Response {
    let source = source_of(&request);
    let now = unix_now();
    if let Err(retry) = app.sources.check(source, now) {
        app.failures.record(source, true, now);
        return source_limited(retry);
    }
    request.extensions_mut().insert(source);
    next.run(request).await
}

pub(crate) type AppState<S> = Arc<App<S>>;

pub(crate) use files::sweep_orphans;

/// The authenticated caller of a request and what the request is about.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) principal: Principal,
    pub(crate) integration_name: String,
    pub(crate) integration_version: String,
    pub(crate) target: Target,
}

impl Caller {
    pub(crate) fn id(&self) -> &Id {
        &self.principal.id
    }

    /// The audit event of this request succeeding.
    pub(crate) fn event(&self) -> EventRecord {
        EventRecord {
            principal_id: Some(self.principal.id),
            action: self.target.action.to_owned(),
            vault_id: self.target.vault,
            item_id: self.target.item,
            outcome: "ok".to_owned(),
            integration_name: self.integration_name.clone(),
            integration_version: self.integration_version.clone(),
            requires: 0,
        }
    }

    /// The audit event of this request's change, which commits only if the caller still
    /// holds `required` on the path's vault inside the change's transaction.
    pub(crate) fn change(&self, required: u32) -> EventRecord {
        EventRecord {
            requires: required,
            ..self.event()
        }
    }

    /// Only the account owner may go on.
    pub(crate) fn require_owner(&self, doing: &str) -> Result<(), ApiError> {
        if self.principal.kind == PrincipalKind::Owner {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "only the account owner may {doing}; this is a service account"
            )))
        }
    }

    /// The vault id of the path.
    pub(crate) fn vault(&self) -> Result<Id, ApiError> {
        self.target
            .vault
            .ok_or_else(|| ApiError::internal("route without a vault id"))
    }

    /// The item id of the path.
    pub(crate) fn item(&self) -> Result<Id, ApiError> {
        self.target
            .item
            .ok_or_else(|| ApiError::internal("route without an item id"))
    }

    /// The file id of the path.
    pub(crate) fn file(&self) -> Result<Id, ApiError> {
        self.target
            .file
            .ok_or_else(|| ApiError::internal("route without a file id"))
    }

    /// The share id of the path.
    pub(crate) fn share(&self) -> Result<Id, ApiError> {
        self.target
            .share
            .ok_or_else(|| ApiError::internal("route without a share id"))
    }

    /// The principal id of the path.
    pub(crate) fn subject(&self) -> Result<Id, ApiError> {
        self.target
            .principal
            .ok_or_else(|| ApiError::internal("route without a principal id"))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::internal("authenticated route without a caller"))
    }
}

/// The caller's permissions on `vault` if they include `required` (see
/// [`check_grant`](crate::store::check_grant)). A write checks again inside its
/// transaction through [`EventRecord::requires`].
pub(crate) async fn require<S: Store>(
    app: &App<S>,
    caller: &Caller,
    vault: &Id,
    required: u32,
) -> Result<u32, ApiError> {
    crate::store::check_grant(
        app.access
            .permissions(&app.store, vault, caller.id())
            .await?,
        vault,
        required,
    )
}

/// A JSON body; every rejection is a precise `4xx`.
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<S: Store, T: DeserializeOwned> FromRequest<AppState<S>> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState<S>) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => {
                let status = rejection.status();
                Err(if status == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::invalid(format!(
                        "the request body is larger than the limit of {} bytes",
                        state.config.max_body_bytes
                    ))
                    .with_status(413)
                } else if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
                    ApiError::invalid(
                        "the request body must be JSON with `Content-Type: application/json`",
                    )
                    .with_status(415)
                } else {
                    ApiError::invalid(rejection.body_text())
                })
            }
        }
    }
}

/// A query string; every rejection is a `400`.
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| Self(value))
            .map_err(|rejection| ApiError::invalid(rejection.body_text()))
    }
}

/// What a request is about: its audit action and the ids of its path.
#[derive(Debug, Clone, Default)]
pub(crate) struct Target {
    pub(crate) action: &'static str,
    pub(crate) vault: Option<Id>,
    pub(crate) item: Option<Id>,
    pub(crate) principal: Option<Id>,
    pub(crate) file: Option<Id>,
    pub(crate) share: Option<Id>,
    /// Counted against the write budget.
    pub(crate) write: bool,
}

fn parse_id(text: &str, what: &str) -> Result<Id, ApiError> {
    text.parse().map_err(|_| {
        ApiError::invalid(format!(
            "the {what} in the path is not an id: ids are 26 lowercase letters or digits \
             (got {} characters)",
            text.chars().count()
        ))
    })
}

/// The target of a request on the authenticated route `spec`: the action and budget the
/// route table declares, and the ids of the path segments at the pattern's parameters.
/// Ids that do not parse are a `400` (the target still carries the action for the audit
/// trail).
fn target(spec: &RouteSpec, path: &str) -> (Target, Result<(), ApiError>) {
    let mut target = Target {
        action: spec.action,
        write: spec.budget == Budget::Write,
        ..Target::default()
    };
    let mut ids = Ok(());
    // The router matched `path` against `spec.path`, so their segments line up.
    for (pattern, text) in spec.path.split('/').zip(path.split('/')) {
        let Some(name) = pattern.strip_prefix('{').and_then(|p| p.strip_suffix('}')) else {
            continue;
        };
        let field = match name {
            "vault" => Some((&mut target.vault, "vault id")),
            "item" => Some((&mut target.item, "item id")),
            "file" => Some((&mut target.file, "file id")),
            "share" => Some((&mut target.share, "share id")),
            "id" | "principal" => Some((&mut target.principal, "principal id")),
            _ => None,
        };
        let parsed = match field {
            Some((slot, what)) => parse_id(text, what).map(|id| *slot = Some(id)),
            None => Err(ApiError::internal(format_args!(
                "the route {} has the parameter {{{name}}}, which names no id",
                spec.path
            ))),
        };
        if let Err(e) = parsed {
            if ids.is_ok() {
                ids = Err(e);
            }
        }
    }
    (target, ids)
}

fn header(value: u64) -> HeaderValue {
    HeaderValue::from(value)
}

/// The state of an authenticated route's middleware: the app and the route's own spec.
struct Guarded<S> {
    app: AppState<S>,
    spec: RouteSpec,
}

// By hand: a derive would require `S: Clone`, and the store is shared through the `Arc`.
impl<S> Clone for Guarded<S> {
    fn clone(&self) -> Self {
        Self {
            app: self.app.clone(),
            spec: self.spec,
        }
    }
}

/// Authenticates, rate-limits and audits every request of an authenticated route.
async fn authenticated<S: Store>(
    State(Guarded { app, spec }): State<Guarded<S>>,
    mut request: Request,
    next: Next,
) -> Response {
    let (target, ids) = target(&spec, request.uri().path());
    let now = unix_now();
    let bearer = request
        .headers()
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::to_owned);
    let source = source_of(&request);
    let caller = match bearer {
        None => Err(ApiError::unauthenticated(
            "this endpoint needs `Authorization: Bearer <session>`; get a session from POST \
             /v1/auth",
        )),
        Some(session) => match app.sessions.verify(&session, now) {
            Err(e) => Err(e),
            Ok(claims) => match app.access.principal(&app.store, &claims.p).await {
                Err(e) => Err(e),
                Ok(None) => Err(ApiError::unauthenticated(
                    "the session's principal no longer exists; authenticate again",
                )),
                Ok(Some(principal)) => {
                    if claims.a != app.account {
                        Err(ApiError::unauthenticated(
                            "the session belongs to another account",
                        ))
                    } else if principal.key_generation != claims.g {
                        Err(ApiError::unauthenticated(
                            "the principal's keys were rotated, which ended this session; \
                                 authenticate with the new token",
                        ))
                    } else {
                        check_active(&principal, now).map(|()| Caller {
                            principal,
                            integration_name: claims.n,
                            integration_version: claims.v,
                            target: target.clone(),
                        })
                    }
                }
            },
        },
    };
    let caller = match caller {
        Ok(caller) => caller,
        Err(err) if err.code() == ErrorCode::Unauthenticated => {
            return auth_failed(&app, source, err, now);
        }
        Err(err) => return err.into_response(),
    };
    let decision = app
        .limiter
        .check_shared(&app.store, caller.id(), target.write, now)
        .await;
    let mut response = if !decision.allowed {
        let mut response = ApiError::rate_limited(
            format!(
                "this principal used its {} {} requests of this window; retry in {} seconds",
                decision.limit,
                if target.write { "write" } else { "read" },
                decision.reset
            ),
            decision.reset,
        )
        .into_response();
        response.extensions_mut().insert(if target.write {
            RateLimitKind::Write
        } else {
            RateLimitKind::Read
        });
        response
    } else if let Err(err) = ids {
        err.into_response()
    } else {
        request.extensions_mut().insert(caller.clone());
        let response = next.run(request).await;
        if target.write && crate::access_cache::changes_access(target.action) {
            // Committed by now: the next request reads the change.
            app.access.changed();
        }
        response
    };
    let headers = response.headers_mut();
    headers.insert("x-ratelimit-limit", header(decision.limit));
    headers.insert("x-ratelimit-remaining", header(decision.remaining));
    headers.insert("x-ratelimit-reset", header(decision.reset));
    // For the access log line.
    response
        .extensions_mut()
        .insert(AccessPrincipal(*caller.id()));
    let status = response.status();
    if status.is_client_error() || status.is_server_error() {
        let code = response
            .extensions()
            .get::<Outcome>()
            .map_or_else(|| code_of_status(status), |o| o.0);
        let mut event = caller.event();
        event.outcome = code.as_str().to_owned();
        record_failure(&app, &event).await;
    }
    response
}

fn code_of_status(status: StatusCode) -> ErrorCode {
    match status.as_u16() {
        401 => ErrorCode::Unauthenticated,
        403 => ErrorCode::PermissionDenied,
        404 => ErrorCode::NotFound,
        409 => ErrorCode::Conflict,
        429 => ErrorCode::RateLimited,
        400..=499 => ErrorCode::InvalidInput,
        _ => ErrorCode::Server,
    }
}

pub(crate) async fn record_failure<S: Store>(app: &App<S>, event: &EventRecord) {
    if let Err(err) = app.store.append_event(event).await {
        app.metrics.audit_failure();
        tracing::error!(%err, action = %event.action, "could not record a failed request in the audit trail");
    }
}

/// How a request of an authenticated route counts against its principal's budgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Budget {
    Read,
    Write,
}

/// An authenticated route as the route table declares it: the action its audit events
/// name, the budget it counts against, and the path pattern whose parameters are the
/// ids of the request.
#[derive(Debug, Clone, Copy)]
struct RouteSpec {
    method: &'static str,
    path: &'static str,
    action: &'static str,
    budget: Budget,
}

/// The axum filter of a method of the route table.
fn method_filter(method: &str) -> MethodFilter {
    match method {
        "GET" => MethodFilter::GET,
        "POST" => MethodFilter::POST,
        "PUT" => MethodFilter::PUT,
        _ => MethodFilter::DELETE,
    }
}

/// Builds the router while recording every (method, path) it serves.
struct Routes<S: Store> {
    router: Router<AppState<S>>,
    list: Vec<(&'static str, &'static str)>,
}

impl<S: Store> Routes<S> {
    fn new() -> Self {
        Self {
            router: Router::new(),
            list: Vec::new(),
        }
    }

    fn add<H, T>(mut self, method: &'static str, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState<S>>,
        T: 'static,
    {
        self.list.push((method, path));
        self.router = self.router.route(path, on(method_filter(method), handler));
        self
    }
}

/// The authenticated routes, each with its [`RouteSpec`]; [`router`] puts every one
/// behind the [`authenticated`] middleware with its own spec, so a route cannot be added
/// without naming its action and budget.
struct AuthenticatedRoutes<S: Store> {
    routes: Vec<(RouteSpec, MethodRouter<AppState<S>>)>,
}

impl<S: Store> AuthenticatedRoutes<S> {
    fn add<H, T>(
        mut self,
        budget: Budget,
        method: &'static str,
        path: &'static str,
        action: &'static str,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState<S>>,
        T: 'static,
    {
        let spec = RouteSpec {
            method,
            path,
            action,
            budget,
        };
        self.routes.push((spec, on(method_filter(method), handler)));
        self
    }

    /// A route counted against the read budget.
    fn read<H, T>(
        self,
        method: &'static str,
        path: &'static str,
        action: &'static str,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState<S>>,
        T: 'static,
    {
        self.add(Budget::Read, method, path, action, handler)
    }

    /// A route counted against the write budget.
    fn write<H, T>(
        self,
        method: &'static str,
        path: &'static str,
        action: &'static str,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState<S>>,
        T: 'static,
    {
        self.add(Budget::Write, method, path, action, handler)
    }

    fn specs(&self) -> impl Iterator<Item = &RouteSpec> {
        self.routes.iter().map(|(spec, _)| spec)
    }
}

/// The route table of the authenticated API: method, path, audit action, handler. `HEAD`
/// is answered by the `GET` route (the body dropped), so it is the same read.
fn authenticated_routes<S: Store>() -> AuthenticatedRoutes<S> {
    AuthenticatedRoutes { routes: Vec::new() }
        .read(
            "GET",
            "/v1/principals/me",
            "principal.me",
            principals::me::<S>,
        )
        .read(
            "GET",
            "/v1/principals",
            "principal.list",
            principals::list::<S>,
        )
        .write(
            "POST",
            "/v1/principals",
            "principal.create",
            principals::create::<S>,
        )
        .read(
            "GET",
            "/v1/principals/{id}",
            "principal.get",
            principals::get::<S>,
        )
        .write(
            "POST",
            "/v1/principals/{id}/rotate",
            "principal.rotate",
            principals::rotate::<S>,
        )
        .write(
            "DELETE",
            "/v1/principals/{id}",
            "principal.revoke",
            principals::revoke::<S>,
        )
        .read(
            "GET",
            "/v1/principals/{id}/rate-limit",
            "principal.rate_limit.get",
            principals::rate_limit::<S>,
        )
        .write(
            "PUT",
            "/v1/principals/{id}/rate-limit",
            "principal.rate_limit.set",
            principals::set_rate_limit::<S>,
        )
        .write(
            "PUT",
            "/v1/principals/{id}/rights",
            "principal.rights.set",
            principals::set_rights::<S>,
        )
        .read(
            "GET",
            "/v1/account/vaults",
            "vault.list_all",
            vaults::list_all::<S>,
        )
        .write("POST", "/v1/vaults", "vault.create", vaults::create::<S>)
        .read("GET", "/v1/vaults", "vault.list", vaults::list::<S>)
        .read("GET", "/v1/vaults/{vault}", "vault.get", vaults::get::<S>)
        .write(
            "PUT",
            "/v1/vaults/{vault}",
            "vault.update",
            vaults::update::<S>,
        )
        .write(
            "DELETE",
            "/v1/vaults/{vault}",
            "vault.delete",
            vaults::delete::<S>,
        )
        .read(
            "GET",
            "/v1/vaults/{vault}/access",
            "vault.access.list",
            vaults::access_list::<S>,
        )
        .write(
            "PUT",
            "/v1/vaults/{vault}/access/{principal}",
            "vault.access.grant",
            vaults::access_grant::<S>,
        )
        .write(
            "DELETE",
            "/v1/vaults/{vault}/access/{principal}",
            "vault.access.revoke",
            vaults::access_revoke::<S>,
        )
        .write(
            "POST",
            "/v1/vaults/{vault}/items",
            "item.create",
            items::create::<S>,
        )
        .read(
            "GET",
            "/v1/vaults/{vault}/items",
            "item.list",
            items::list::<S>,
        )
        // A POST only because the ids do not fit a query string: a read.
        .read(
            "POST",
            "/v1/vaults/{vault}/items/batch-get",
            "item.batch_get",
            items::batch_get::<S>,
        )
        .read(
            "GET",
            "/v1/vaults/{vault}/items/{item}",
            "item.get",
            items::get::<S>,
        )
        .write(
            "PUT",
            "/v1/vaults/{vault}/items/{item}",
            "item.update",
            items::put::<S>,
        )
        .write(
            "DELETE",
            "/v1/vaults/{vault}/items/{item}",
            "item.delete",
            items::delete::<S>,
        )
        .write(
            "PUT",
            "/v1/vaults/{vault}/items/{item}/files/{file}",
            "file.upload",
            files::upload::<S>,
        )
        .read(
            "GET",
            "/v1/vaults/{vault}/items/{item}/files/{file}",
            "file.download",
            files::download::<S>,
        )
        // A POST for its body of vault versions: a read.
        .read("POST", "/v1/sync", "sync", sync::sync::<S>)
        .read("GET", "/v1/events", "event.list", events::list::<S>)
        .read("GET", "/v1/events/head", "event.head", events::head::<S>)
        .write(
            "POST",
            "/v1/events/checkpoints",
            "event.checkpoint",
            events::checkpoint::<S>,
        )
        .read(
            "GET",
            "/v1/share-policy",
            "share.policy.get",
            shares::policy::<S>,
        )
        .write(
            "PUT",
            "/v1/share-policy",
            "share.policy.set",
            shares::set_policy::<S>,
        )
        .write(
            "POST",
            "/v1/vaults/{vault}/items/{item}/shares",
            "share.create",
            shares::create::<S>,
        )
        .read("GET", "/v1/shares", "share.list", shares::list::<S>)
        .write(
            "DELETE",
            "/v1/shares/{share}",
            "share.revoke",
            shares::revoke::<S>,
        )
}

/// Public routes whose request is its own credential (a signed assertion, a share link):
/// charged to their source address before any other work.
fn credential_less_routes<S: Store>() -> Routes<S> {
    Routes::new()
        .add("POST", "/v1/auth", principals::authenticate::<S>)
        .add(
            "POST",
            "/v1/shares/{share}/challenge",
            shares::challenge::<S>,
        )
        .add("POST", "/v1/shares/{share}/open", shares::open::<S>)
}

fn public_routes<S: Store>() -> Routes<S> {
    Routes::new()
        .add("GET", "/v1/openapi.json", health::openapi)
        .add("GET", "/healthz", health::healthz)
        .add("GET", "/readyz", health::readyz::<S>)
        .add("GET", "/metrics", health::metrics::<S>)
        .add("GET", "/s/{share}", shares::page)
        .add("GET", "/s/assets/share.js", shares::script)
        .add("GET", "/s/assets/share.css", shares::style)
}

/// Every (method, path) the router serves, paths in axum's `{param}` syntax.
///
/// ```
/// let routes = sesame_server::routes();
/// assert!(routes.contains(&("POST", "/v1/auth")));
/// ```
pub fn routes() -> Vec<(&'static str, &'static str)> {
    type AnyStore = crate::store::sqlite::SqliteStore;
    let mut list = credential_less_routes::<AnyStore>().list;
    list.extend(public_routes::<AnyStore>().list);
    list.extend(
        authenticated_routes::<AnyStore>()
            .specs()
            .map(|spec| (spec.method, spec.path)),
    );
    list
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; see /v1/openapi.json for the API")
}

async fn method_not_allowed() -> ApiError {
    ApiError::invalid("this method is not allowed on this endpoint; see /v1/openapi.json")
        .with_status(405)
}

pub(crate) fn router<S: Store>(app: AppState<S>) -> Router {
    let limit = app.config.max_body_bytes;
    let mut protected = Router::new();
    for (spec, handler) in authenticated_routes::<S>().routes {
        let guarded = Guarded {
            app: app.clone(),
            spec,
        };
        protected = protected.route(
            spec.path,
            handler.route_layer(middleware::from_fn_with_state(guarded, authenticated::<S>)),
        );
    }
    let credential_less =
        credential_less_routes::<S>()
            .router
            .route_layer(middleware::from_fn_with_state(
                app.clone(),
                unauthenticated::<S>,
            ));
    public_routes::<S>()
        .router
        .merge(credential_less)
        .merge(protected)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(app.clone(), request_id::<S>))
        .with_state(app)
}

/// The authenticated principal of a response, for its access log line.
#[derive(Debug, Clone, Copy)]
struct AccessPrincipal(Id);

/// Gives every answer an `x-request-id`, a fresh random id a client can quote (the SDKs
/// show it on errors as `request_id`), writes the request's one access log line with it
/// and counts the request in the metrics.
///
/// Runs after routing (a layer of every route and of the fallback), so the route is the
/// matched PATTERN. The log line and the metrics name the method, the route pattern, the
/// status, the duration until the response head and the principal id: never the path's
/// ids, a query, a header (`Authorization`) or a body.
async fn request_id<S: Store>(
    State(app): State<AppState<S>>,
    request: Request,
    next: Next,
) -> Response {
    let started = std::time::Instant::now();
    let id = Id::generate();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().map_or_else(
        || crate::metrics::UNMATCHED.to_owned(),
        |p| p.as_str().to_owned(),
    );
    let in_flight = app.metrics.start_request();
    // What the handler logs (an internal error's cause) carries the request id too.
    let span = tracing::info_span!("request", request_id = %id.as_str());
    let mut response = tracing::Instrument::instrument(next.run(request), span).await;
    drop(in_flight);
    let took = started.elapsed();
    let status = response.status();
    app.metrics
        .record_request(&route, &method, status.as_u16(), took);
    if status == StatusCode::TOO_MANY_REQUESTS {
        let kind = response
            .extensions()
            .get::<RateLimitKind>()
            .copied()
            .unwrap_or(RateLimitKind::Other);
        app.metrics.rate_limited(kind);
    }
    if response
        .extensions()
        .get::<Outcome>()
        .is_some_and(|o| o.0 == ErrorCode::Conflict)
    {
        app.metrics.conflict();
    }
    let principal = response.extensions().get::<AccessPrincipal>().map(|p| p.0);
    let duration_ms = (took.as_secs_f64() * 1e6).round() / 1e3;
    if status.is_server_error() {
        tracing::warn!(target: "sesame_server::access", request_id = %id.as_str(), %method, %route, status = status.as_u16(), duration_ms, principal = principal.as_ref().map(Id::as_str), "request failed");
    } else {
        tracing::info!(target: "sesame_server::access", request_id = %id.as_str(), %method, %route, status = status.as_u16(), duration_ms, principal = principal.as_ref().map(Id::as_str), "request");
    }
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// `204 No Content`.
pub(crate) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use tower::ServiceExt as _;

    use super::*;

    type Resolved = (Target, Result<(), ApiError>);

    /// A router of the route table whose every route answers with the target its
    /// request resolves to, so paths are matched exactly as the server matches them.
    fn resolver() -> Router {
        let mut router = Router::new();
        for spec in authenticated_routes::<crate::store::sqlite::SqliteStore>().specs() {
            let spec = *spec;
            let answer = move |uri: axum::http::Uri| async move {
                let mut response = StatusCode::OK.into_response();
                response.extensions_mut().insert(target(&spec, uri.path()));
                response
            };
            router = router.route(spec.path, on(method_filter(spec.method), answer));
        }
        router
    }

    async fn resolve(method: &str, path: &str) -> Resolved {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .unwrap();
        let response = resolver().oneshot(request).await.unwrap();
        response
            .extensions()
            .get::<Resolved>()
            .cloned()
            .unwrap_or_else(|| panic!("{method} {path} matched no route"))
    }

    #[tokio::test]
    async fn targets_name_actions_and_ids() {
        let v = Id::generate();
        let i = Id::generate();
        let (t, ok) = resolve("PUT", &format!("/v1/vaults/{v}/items/{i}")).await;
        assert!(ok.is_ok());
        assert_eq!(
            (t.action, t.vault, t.item, t.write),
            ("item.update", Some(v), Some(i), true)
        );
        let f = Id::generate();
        let (t, ok) = resolve("PUT", &format!("/v1/vaults/{v}/items/{i}/files/{f}")).await;
        assert!(ok.is_ok());
        assert_eq!(
            (t.action, t.item, t.file, t.write),
            ("file.upload", Some(i), Some(f), true)
        );
        let (t, _) = resolve("GET", &format!("/v1/vaults/{v}/items/{i}/files/{f}")).await;
        assert_eq!((t.action, t.write), ("file.download", false));
        // HEAD is the GET route's read.
        let (t, _) = resolve("HEAD", &format!("/v1/vaults/{v}/items/{i}/files/{f}")).await;
        assert_eq!((t.action, t.write), ("file.download", false));
        let (t, ok) = resolve("POST", &format!("/v1/vaults/{v}/items/batch-get")).await;
        assert!(ok.is_ok());
        assert_eq!((t.action, t.write), ("item.batch_get", false));
        let (t, ok) = resolve("GET", "/v1/vaults/NOPE").await;
        assert_eq!(t.action, "vault.get");
        assert!(ok.unwrap_err().message().contains("vault id"));
        let (t, _) = resolve("POST", "/v1/sync").await;
        assert!(!t.write);
        let p = Id::generate();
        let (t, ok) = resolve("PUT", &format!("/v1/principals/{p}/rate-limit")).await;
        assert!(ok.is_ok());
        assert_eq!(
            (t.action, t.principal, t.write),
            ("principal.rate_limit.set", Some(p), true)
        );
        let (t, _) = resolve("GET", &format!("/v1/principals/{p}/rate-limit")).await;
        assert_eq!((t.action, t.write), ("principal.rate_limit.get", false));
        let (t, _) = resolve("POST", &format!("/v1/principals/{p}/rotate")).await;
        assert_eq!(t.action, "principal.rotate");
        let (t, ok) = resolve("DELETE", &format!("/v1/vaults/{v}/access/{p}")).await;
        assert!(ok.is_ok());
        assert_eq!(
            (t.action, t.vault, t.principal, t.write),
            ("vault.access.revoke", Some(v), Some(p), true)
        );
        let s = Id::generate();
        let (t, _) = resolve("DELETE", &format!("/v1/shares/{s}")).await;
        assert_eq!((t.action, t.share), ("share.revoke", Some(s)));
    }

    #[test]
    fn every_authenticated_route_names_one_action_a_budget_and_only_ids() {
        let table = authenticated_routes::<crate::store::sqlite::SqliteStore>();
        let mut routes = std::collections::HashSet::new();
        let mut actions = std::collections::HashSet::new();
        for spec in table.specs() {
            let route = format!("{} {}", spec.method, spec.path);
            assert!(
                ["GET", "POST", "PUT", "DELETE"].contains(&spec.method),
                "{route}"
            );
            assert!(routes.insert(route.clone()), "{route} is declared twice");
            assert!(
                actions.insert(spec.action),
                "{route}: {} names another route too",
                spec.action
            );
            assert!(
                !spec.action.is_empty()
                    && spec
                        .action
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_'),
                "{route}: {}",
                spec.action
            );
            // Only the POSTs that read (batch-get, sync) count against the read budget
            // besides GET.
            let reads = spec.method == "GET"
                || spec.path.ends_with("/items/batch-get")
                || spec.path == "/v1/sync";
            assert_eq!(spec.budget == Budget::Read, reads, "{route}");
            let id = Id::generate().to_string();
            let concrete: Vec<&str> = spec
                .path
                .split('/')
                .map(|segment| {
                    if segment.starts_with('{') {
                        id.as_str()
                    } else {
                        segment
                    }
                })
                .collect();
            let (_, ids) = target(spec, &concrete.join("/"));
            assert!(ids.is_ok(), "{route}: {ids:?}");
        }
    }
}
