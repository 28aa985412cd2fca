//! `tatrack readmodel rebuild`: throws the projections away and folds every stream again from
//! its first event, through the same catch-up subscriber as the live read model, so a rebuilt
//! read model answers exactly as a live one. Offline: the read model must be stopped (sled
//! allows one process per database).

use std::path::Path;
use std::time::{Duration, Instant};

use tatrack_bus::{Subscriber, streams, subjects};

/// What a rebuild did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rebuilt {
    pub events: u64,
    pub seconds: f64,
}

impl Rebuilt {
    pub fn per_second(&self) -> f64 {
        self.events as f64 / self.seconds.max(f64::EPSILON)
    }
}

/// Rebuilds `<data_dir>/readmodel` from the streams. `progress(service, applied, last)` is
/// called about twice a second.
pub async fn rebuild(
    data_dir: &Path,
    nats: async_nats::Client,
    progress: impl Fn(&str, u64, u64),
) -> anyhow::Result<Rebuilt> {
    let path = data_dir.join("readmodel");
    let db = crate::app::open(&path).map_err(|e| {
        if e.to_string().contains("could not acquire lock") {
            anyhow::anyhow!(
                "{} is in use: stop the read model (tatrack up) first",
                path.display()
            )
        } else {
            anyhow::anyhow!("opening {}: {e}", path.display())
        }
    })?;
    let js = tatrack_bus::jetstream(nats, Duration::from_secs(5));
    let started = Instant::now();
    let mut events = 0;
    for service in subjects::SERVICES {
        db.drop_tree(service)?;
        let tree = db.open_tree(service)?;
        let last = streams::last_sequence(&js, service)
            .await
            .map_err(|e| anyhow::anyhow!("reading the {service} stream: {e}"))?;
        let subscriber = Subscriber::new(js.clone(), service, tree)?;
        let mut applied = subscriber.applied();
        let stop = tokio_util::sync::CancellationToken::new();
        let projection = crate::cache::Recording {
            changes: std::sync::Arc::default(),
            timeline: std::sync::Arc::default(),
        };
        let run = tokio::spawn(subscriber.run(projection, stop.clone()));
        loop {
            let now = *applied.borrow();
            progress(service, now, last);
            if now >= last {
                break;
            }
            let _ = tokio::time::timeout(Duration::from_millis(500), applied.changed()).await;
            if run.is_finished() {
                break;
            }
        }
        stop.cancel();
        run.await??;
        events += last;
    }
    db.flush_async().await?;
    Ok(Rebuilt {
        events,
        seconds: started.elapsed().as_secs_f64(),
    })
}
