//! One active instance per command service on a cluster: a lease in the NATS key-value bucket
//! `LEASES` (history 1, `max_age` = the TTL, replicated like the streams). `create` wins it, an
//! `update` at the revision last written renews it (a compare-and-set on the bucket's stream
//! leader), and a holder stops serving on its own monotonic deadline, `sent + TTL - margin`,
//! whatever the server says later. The lease only decides who *should* write; what makes a
//! deposed writer harmless is the stream's expected-sequence check after the new holder's fence
//! event (ARCHITECTURE.md, "Past one machine").

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, kv};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The bucket every command service's lease lives in, one key per service.
pub const BUCKET: &str = "LEASES";

/// The log stream the fence events go to: `lease-<service>`. Folds skip it (it changes no
/// aggregate); it is in the log and the stream like every event, so the audit trail shows
/// every change of holder.
pub const FENCE_AGGREGATE: &str = "lease";

/// How long a lease lives without renewal, unless configured: longer than a NATS stream's
/// leader election (5-10 s measured on loopback), so losing a NATS node does not also cost the
/// lease.
pub const DEFAULT_TTL: Duration = Duration::from_secs(15);

/// The lease TTLs accepted, in seconds: long enough to outlast a NATS election, short enough
/// that a lost holder is replaced within minutes.
pub const TTL_SECONDS: std::ops::RangeInclusive<u64> = 3..=600;

/// The bucket's settings: created once, by provisioning (`tatrack admin provision`).
pub fn bucket_config(ttl: Duration, replicas: usize) -> kv::Config {
    kv::Config {
        bucket: BUCKET.to_owned(),
        description: "which instance of each command service is active".to_owned(),
        history: 1,
        max_age: ttl,
        num_replicas: replicas,
        storage: jetstream::stream::StorageType::File,
        ..Default::default()
    }
}

/// What a lease's value says: who holds it, since when (the services' clock), and a term id
/// that tells this holder's writes from an earlier or later term of the same instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub instance: String,
    pub term: Uuid,
    pub since: jiff::Timestamp,
}

/// A won lease: the revision to renew at and when to stop serving.
#[derive(Debug, Clone)]
pub struct Term {
    pub holder: Holder,
    pub revision: u64,
    /// Monotonic: `sent + ttl - margin` of the last write that succeeded.
    pub valid_until: Instant,
}

/// Why a renewal did not go through.
#[derive(Debug)]
pub enum Renewal {
    /// Someone else holds the key, or it expired: the lease is gone.
    Lost,
    /// NATS did not answer clearly (a timeout, an election): try again until the deadline.
    Uncertain(String),
}

/// One service's lease, as seen by one instance.
#[derive(Clone)]
pub struct Lease {
    kv: kv::Store,
    key: String,
    instance: String,
    ttl: Duration,
}

impl Lease {
    /// Opens the bucket (it must exist: provisioning creates it).
    pub async fn open(
        js: &jetstream::Context,
        service: &str,
        instance: &str,
        ttl: Duration,
    ) -> Result<Self, async_nats::Error> {
        let kv = js.get_key_value(BUCKET).await?;
        Ok(Self {
            kv,
            key: service.to_owned(),
            instance: instance.to_owned(),
            ttl,
        })
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A holder stops serving this long before the key can expire on the server.
    fn margin(&self) -> Duration {
        self.ttl / 5
    }

    /// Takes the lease if nobody holds it: `None` when someone does.
    pub async fn try_acquire(
        &self,
        now: jiff::Timestamp,
    ) -> Result<Option<Term>, async_nats::Error> {
        let holder = Holder {
            instance: self.instance.clone(),
            term: Uuid::now_v7(),
            since: now,
        };
        let sent = Instant::now();
        match self
            .kv
            .create(&self.key, serde_json::to_vec(&holder)?.into())
            .await
        {
            Ok(revision) => Ok(Some(Term {
                holder,
                revision,
                valid_until: sent + self.ttl - self.margin(),
            })),
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Renews `term` by compare-and-set at its revision. A failed write is checked against the
    /// key: our own earlier write that landed after all is adopted, anyone else's means lost.
    pub async fn renew(&self, term: &Term) -> Result<Term, Renewal> {
        let sent = Instant::now();
        let value =
            serde_json::to_vec(&term.holder).map_err(|e| Renewal::Uncertain(e.to_string()))?;
        let failure = match self.kv.update(&self.key, value.into(), term.revision).await {
            Ok(revision) => {
                return Ok(Term {
                    revision,
                    valid_until: sent + self.ttl - self.margin(),
                    ..term.clone()
                });
            }
            Err(e) => e.to_string(),
        };
        match self.kv.entry(&self.key).await {
            Ok(Some(entry)) if entry.operation == kv::Operation::Put => {
                match serde_json::from_slice::<Holder>(&entry.value) {
                    Ok(found) if found == term.holder && entry.revision != term.revision => {
                        // A renewal that timed out was stored: renew again from there (the
                        // deadline stays the old one until that succeeds).
                        Ok(Term {
                            revision: entry.revision,
                            ..term.clone()
                        })
                    }
                    Ok(found) if found == term.holder => Err(Renewal::Uncertain(failure)),
                    _ => Err(Renewal::Lost),
                }
            }
            Ok(_) => Err(Renewal::Lost),
            Err(e) => Err(Renewal::Uncertain(format!(
                "{failure}; reading the lease: {e}"
            ))),
        }
    }

    /// Gives the lease up (on shutdown), so the standby need not wait for it to expire. Best
    /// effort: an expired or taken lease is simply not released.
    pub async fn release(&self, term: &Term) {
        if let Err(e) = self
            .kv
            .delete_expect_revision(&self.key, Some(term.revision))
            .await
        {
            tracing::debug!(key = %self.key, error = %e, "lease not released");
        }
    }
}

/// Who holds `service`'s lease now, with its revision (for `tatrack status`). A read, so
/// possibly a moment stale: never a basis for acting as the holder.
pub async fn holder(
    js: &jetstream::Context,
    service: &str,
) -> Result<Option<(Holder, u64)>, async_nats::Error> {
    let kv = js.get_key_value(BUCKET).await?;
    match kv.entry(service).await? {
        Some(entry) if entry.operation == kv::Operation::Put => Ok(Some((
            serde_json::from_slice(&entry.value)?,
            entry.revision,
        ))),
        _ => Ok(None),
    }
}
