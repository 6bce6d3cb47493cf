//! What every handler shares: the dispatcher, the read models, the notifier, the policies,
//! the token verifier, the clock and the request metrics.

use std::sync::Arc;

use super::{auth, ops};
use crate::command::Dispatcher;
use crate::notify::Notifier;
use crate::policy::Policies;
use crate::projection::{Projector, ReadModels};
use crate::store::{Clock, SledStore};

/// What every handler shares.
pub struct AppState {
    pub dispatcher: Dispatcher<SledStore>,
    pub models: Arc<ReadModels>,
    pub projector: Projector,
    pub notifier: Notifier,
    pub policies: Arc<Policies>,
    pub verifier: auth::Verifier,
    pub clock: Clock,
    pub requests: ops::RequestMetrics,
}
