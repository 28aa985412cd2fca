//! The projects service's view of the other services: needs and sharing grants (assessments),
//! organisations and offers (partners), folded with the domain's `evolve` by the catch-up
//! subscriber into a sled database of its own (`<data dir>/projects-view`).

use std::path::Path;
use std::time::Duration;

use serde::de::DeserializeOwned;
use tatrack_bus::fold::{self, FoldProjection};
use tatrack_bus::rpc::{self, ErrorBody, ErrorCode, RequestMeta};
use tatrack_bus::service::ADMIN_HEAD;
use tatrack_bus::{Subscriber, subjects};
use tatrack_domain::Principal;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The streams this view follows.
const FOLLOWS: [&str; 2] = ["assessments", "partners"];

/// How long a command waits for the view to catch up with a stream before it decides.
const CATCH_UP: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub(crate) struct View {
    nats: async_nats::Client,
    trees: Vec<(String, sled::Tree, tokio::sync::watch::Receiver<u64>)>,
}

impl View {
    /// Opens the view and follows the streams until `stop` is cancelled.
    pub(crate) fn open(
        dir: &Path,
        nats: async_nats::Client,
        js: &async_nats::jetstream::Context,
        stop: &CancellationToken,
    ) -> anyhow::Result<(Self, Vec<JoinHandle<()>>)> {
        tatrack_eventlog::private_dir(dir)?;
        let db = sled::open(dir)?;
        tatrack_eventlog::private_dir(dir)?;
        let mut trees = Vec::new();
        let mut followers = Vec::new();
        for service in FOLLOWS {
            let tree = db.open_tree(service)?;
            let subscriber = Subscriber::new(js.clone(), service, tree.clone())?;
            trees.push((service.to_owned(), tree, subscriber.applied()));
            let stop = stop.clone();
            followers.push(tokio::spawn(async move {
                let result = subscriber.run(FoldProjection, stop).await;
                if let Err(e) = result {
                    tracing::error!(service, error = %e, "projects view stopped following");
                }
            }));
        }
        Ok((Self { nats, trees }, followers))
    }

    fn tree(&self, service: &str) -> &(String, sled::Tree, tokio::sync::watch::Receiver<u64>) {
        self.trees
            .iter()
            .find(|(s, _, _)| s == service)
            .expect("a followed service")
    }

    /// Waits (bounded) until the view has applied everything the service has acknowledged so
    /// far (its durable head, not merely what its stream holds yet), so a command sees the need
    /// or offer its caller has just written.
    pub(crate) async fn catch_up(&self, service: &str) -> Result<(), ErrorBody> {
        let meta = RequestMeta {
            command_id: None,
            ..RequestMeta::new(Principal::system())
        };
        let head: serde_json::Value = rpc::request(
            &self.nats,
            &subjects::command_subject(service, ADMIN_HEAD),
            &meta,
            &serde_json::json!({}),
            CATCH_UP,
        )
        .await
        .map_err(|e| {
            ErrorBody::new(
                ErrorCode::Unavailable,
                format!("cannot reach the {service} service: {e}"),
            )
        })?;
        let last = head["head"].as_u64().ok_or_else(ErrorBody::internal)?;
        let mut applied = self.tree(service).2.clone();
        match tokio::time::timeout(CATCH_UP, applied.wait_for(|p| *p >= last)).await {
            Ok(Ok(_)) => Ok(()),
            _ => Err(ErrorBody::new(
                ErrorCode::Timeout,
                format!("the view of {service} is behind; try again"),
            )),
        }
    }

    pub(crate) fn get<T: DeserializeOwned>(
        &self,
        service: &str,
        aggregate: &str,
        id: &str,
    ) -> Result<Option<T>, ErrorBody> {
        fold::get(&self.tree(service).1, aggregate, id).map_err(|e| {
            tracing::error!(error = %e, "projects view unreadable");
            ErrorBody::internal()
        })
    }

    pub(crate) fn scan<T: DeserializeOwned>(
        &self,
        service: &str,
        aggregate: &str,
    ) -> Result<Vec<T>, ErrorBody> {
        fold::scan(&self.tree(service).1, aggregate).map_err(|e| {
            tracing::error!(error = %e, "projects view unreadable");
            ErrorBody::internal()
        })
    }
}
