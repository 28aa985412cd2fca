//! NATS conventions of tatrack (DESIGN §4 "Bus"): subject and stream names, stream setup, the
//! replicator that keeps each service's JetStream stream a 1:1 copy of its log (invariant 2), the
//! catch-up subscriber that applies a stream to a sled projection (invariant 3), typed
//! request-reply over the NATS service API, and the checks and repairs an operator runs by hand.

pub mod auth;
pub mod copy;
pub mod fold;
pub mod lease;
pub mod local;
pub mod ops;
pub mod replicator;
pub mod rpc;
pub mod service;
pub mod standby;
pub mod streams;
pub mod subjects;
pub mod subscriber;

pub use replicator::Replicator;
pub use subscriber::Subscriber;

/// Connects to NATS as `identity` (its nkey and inbox prefix, refusals logged) with the settings
/// every tatrack process shares. `url` may list the servers of a cluster, comma-separated (see
/// [`server_urls`]): the client picks one and moves to another when it goes away.
pub async fn connect(
    url: &str,
    name: &str,
    identity: &auth::Identity,
) -> Result<async_nats::Client, async_nats::ConnectError> {
    identity
        .connect_options(name)
        // Keep trying for ever: a service outlives a NATS restart.
        .max_reconnects(None)
        .retry_on_initial_connect()
        .connect(server_urls(url).as_slice())
        .await
}

/// The servers of a `NATS_URL`: `nats://a:4222,nats://b:4222` (a cluster) lists two. async-nats
/// takes a list, not one comma-separated string (it would read `4222,nats` as a port).
pub fn server_urls(url: &str) -> Vec<&str> {
    url.split(',')
        .map(str::trim)
        .filter(|server| !server.is_empty())
        .collect()
}

/// A JetStream context whose API requests and publish acks time out after `timeout`. The
/// replicator uses ~1 s: after a NATS crash, recovery takes as long as the lost acks take to fail.
pub fn jetstream(
    client: async_nats::Client,
    timeout: std::time::Duration,
) -> async_nats::jetstream::Context {
    async_nats::jetstream::context::ContextBuilder::new()
        .timeout(timeout)
        .max_ack_inflight(8192)
        .backpressure_on_inflight(true)
        .build(client)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_nats_url_may_list_several_servers() {
        assert_eq!(
            super::server_urls("nats://a:4231, nats://b:4232,,nats://c:4233"),
            ["nats://a:4231", "nats://b:4232", "nats://c:4233"]
        );
        assert_eq!(
            super::server_urls("nats://127.0.0.1:4222"),
            ["nats://127.0.0.1:4222"]
        );
    }
}
