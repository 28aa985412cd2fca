//! NATS users and what each may do: one nkey user per service (`assessments`, `partners`,
//! `projects`, `reporter`, `readmodel`), one for the `gateway` (also the CLI's), and `admin`
//! (provisioning, offline tools, tests that must do what no service may). The keys are generated
//! into a credentials directory (0700, one seed file per user, 0600) and never leave it; the server
//! config written from them holds public keys only.
//!
//! The permissions are derived from what each process really sends (ARCHITECTURE.md, "NATS users
//! and permissions"); a refused operation is silent on the wire (the call times out), so every
//! connection logs the server's `-ERR` through its event callback.
//!
//! Three rules hold for every user but `admin`:
//! - it subscribes to its own inbox (`_INBOX_<user>.>`, set with `custom_inbox_prefix`) and to
//!   nothing else but the subjects it answers: no `_INBOX.>`, no `>`;
//! - a responder publishes replies only into the inboxes of its known requesters, never with
//!   `allow_responses` (which would let a requester aim a reply at an event subject);
//! - JetStream reads are guarded on the `$JS.API` subjects, since a consumer reads its stream
//!   whatever the subscribe permissions say.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::subjects;

/// The NATS users of a tatrack deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum User {
    Assessments,
    Partners,
    Projects,
    Reporter,
    Readmodel,
    Gateway,
    Admin,
}

impl User {
    pub const ALL: [User; 7] = [
        User::Assessments,
        User::Partners,
        User::Projects,
        User::Reporter,
        User::Readmodel,
        User::Gateway,
        User::Admin,
    ];

    /// The user's name: its key file is `<name>.nk`, its inbox `_INBOX_<name>`.
    pub fn name(self) -> &'static str {
        match self {
            User::Assessments => "assessments",
            User::Partners => "partners",
            User::Projects => "projects",
            User::Reporter => "reporter",
            User::Readmodel => "readmodel",
            User::Gateway => "gateway",
            User::Admin => "admin",
        }
    }

    pub fn from_name(name: &str) -> Option<User> {
        User::ALL.into_iter().find(|u| u.name() == name)
    }

    /// The prefix of every inbox of this user's connections (requests, PubAcks, pull deliveries).
    pub fn inbox_prefix(self) -> String {
        format!("_INBOX_{}", self.name())
    }

    fn inboxes(self) -> String {
        format!("{}.>", self.inbox_prefix())
    }

    /// The command service whose stream this user owns, if any.
    fn owned_stream(self) -> Option<&'static str> {
        match self {
            User::Assessments => Some("assessments"),
            User::Partners => Some("partners"),
            User::Projects => Some("projects"),
            User::Reporter => Some("reporter"),
            User::Readmodel | User::Gateway | User::Admin => None,
        }
    }

    /// The micro-service name this user answers as, and the subjects its endpoints listen on.
    fn answers(self) -> Option<(&'static str, String)> {
        match self {
            User::Readmodel => Some(("readmodel", format!("{}.>", subjects::query_prefix()))),
            other => other
                .owned_stream()
                .map(|service| (service, format!("{}.>", subjects::command_prefix(service)))),
        }
    }

    /// Who sends this user requests: its replies may go to their inboxes and nowhere else.
    fn requesters(self) -> &'static [User] {
        match self {
            // The projects service sends running totals and asks for the durable head.
            User::Assessments | User::Partners => &[User::Gateway, User::Projects, User::Admin],
            User::Projects | User::Reporter => &[User::Gateway, User::Admin],
            // The assessments service asks who keeps access after a revoke; the reporter asks
            // for every section of a report.
            User::Readmodel => &[
                User::Gateway,
                User::Assessments,
                User::Reporter,
                User::Admin,
            ],
            User::Gateway | User::Admin => &[],
        }
    }

    /// The subjects this user sends requests to.
    fn requests(self) -> Vec<String> {
        match self {
            User::Assessments => vec![subjects::query_subject("sharing_grant_list")],
            User::Projects => vec![
                subjects::command_subject("assessments", "need_record_coverage"),
                subjects::command_subject("assessments", crate::service::ADMIN_HEAD),
                subjects::command_subject("partners", "offer_record_commitment"),
                subjects::command_subject("partners", crate::service::ADMIN_HEAD),
            ],
            User::Reporter => REPORTER_VIEWS
                .iter()
                .map(|view| subjects::query_subject(view))
                .collect(),
            // The commands the HTTP API routes and those the web console sends, each by name
            // (not the derived facts only the projects service sends, nor
            // `admin_stream_verify`), every service's durable head (a number: what
            // read-your-writes waits for), and every view.
            User::Gateway => {
                gateway_verbs()
                    .into_iter()
                    .map(|verb| subjects::command_subject(verb.service().name(), verb.as_str()))
                    .chain(subjects::SERVICES.iter().map(|service| {
                        subjects::command_subject(service, crate::service::ADMIN_HEAD)
                    }))
                    .chain([format!("{}.>", subjects::query_prefix())])
                    .collect()
            }
            User::Partners | User::Readmodel | User::Admin => Vec::new(),
        }
    }

    /// The streams this user follows with ordered consumers, each with the only subjects it may
    /// read there (`None`: the whole stream).
    fn follows(self) -> Vec<(&'static str, Option<String>)> {
        match self {
            // Needs and grants, organisations and offers; one consumer per stream, since the
            // view's catch-up compares one checkpoint with the owner's durable head.
            User::Projects => vec![("assessments", None), ("partners", None)],
            User::Readmodel => subjects::SERVICES.iter().map(|s| (*s, None)).collect(),
            // Token and account events only: the gateway has no business reading organisations
            // or offers.
            User::Gateway => gateway_identity_events()
                .into_iter()
                .map(|filter| ("partners", Some(filter)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Streams whose info this user reads (the read model: how far a stream goes, for as-of
    /// answers and its offline rebuild).
    fn reads_stream_info(self) -> &'static [&'static str] {
        match self {
            User::Readmodel => &subjects::SERVICES,
            _ => &[],
        }
    }
}

impl fmt::Display for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The views the reporter asks for a report (`tatrack_reporter::gather`); its user may ask no
/// other. A test in the reporter checks that the two lists agree.
pub const REPORTER_VIEWS: &[&str] = &[
    "position_show",
    "need_list",
    "overlap_list",
    "recommendation_rate_list",
    "assessment_list",
    "project_list",
    "offer_list",
    "referral_list",
    "rate_table_show",
    "organisation_list",
];

/// The only events of the partners stream the gateway reads: access tokens and people's
/// accounts, who signs in. One filter each: a consumer's create subject carries one filter, so
/// the gateway follows each with its own consumer and the server can pin what each reads.
pub fn gateway_identity_events() -> [String; 2] {
    use tatrack_domain::Aggregate as _;
    [
        tatrack_domain::token::Token::NAME,
        tatrack_domain::account::Account::NAME,
    ]
    .map(|aggregate| format!("tatrack.evt.partners.{aggregate}.>"))
}

/// What one user may publish and subscribe to (allow lists: everything else is denied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permissions {
    pub publish: Vec<String>,
    pub subscribe: Vec<String>,
}

const JS: &str = "$JS.API";

/// The verbs some HTTP route sends, in the contract's order.
fn routed_verbs() -> Vec<tatrack_contract::bus::Verb> {
    use tatrack_contract::routes::{Target, routes};
    let routes = routes();
    tatrack_contract::bus::Verb::ALL
        .iter()
        .copied()
        .filter(|verb| {
            routes
                .iter()
                .any(|r| matches!(r.target, Target::Command(c) if c.verb == *verb))
        })
        .collect()
}

/// The verbs the gateway sends: the routed ones and the web console's.
fn gateway_verbs() -> Vec<tatrack_contract::bus::Verb> {
    let mut verbs = routed_verbs();
    verbs.extend_from_slice(tatrack_contract::routes::CONSOLE_VERBS);
    verbs
}

/// The permissions of `user`, derived from what its process does.
pub fn permissions(user: User) -> Permissions {
    if user == User::Admin {
        return Permissions {
            publish: vec![">".into()],
            subscribe: vec![">".into()],
        };
    }
    let mut publish = Vec::new();
    let mut subscribe = vec![user.inboxes()];
    if let Some(service) = user.owned_stream() {
        let stream = subjects::stream_name(service);
        // The replicator's publishes (PubAcks come back to the own inbox).
        publish.push(subjects::events_wildcard(service));
        // `streams::ensure` and the stream's last sequence.
        publish.push(format!("{JS}.STREAM.INFO.{stream}"));
        // The stream is created by its own service on its first start (`streams::ensure`).
        publish.push(format!("{JS}.STREAM.CREATE.{stream}"));
        // Reads by sequence from the stream leader: the replicator's check of its own messages,
        // `copy::compare` (stream verify) and `copy::rebuild_log` at start.
        publish.push(format!("{JS}.STREAM.MSG.GET.{stream}"));
        // On a cluster: its own key of the lease bucket (`lease`), written by compare-and-set
        // and read back to check a renewal that timed out; opening the bucket reads its info.
        let kv_stream = format!("KV_{}", crate::lease::BUCKET);
        publish.push(format!("$KV.{}.{service}", crate::lease::BUCKET));
        publish.push(format!("{JS}.STREAM.INFO.{kv_stream}"));
        publish.push(format!("{JS}.DIRECT.GET.{kv_stream}"));
        publish.push(format!(
            "{JS}.DIRECT.GET.{kv_stream}.$KV.{}.{service}",
            crate::lease::BUCKET
        ));
        publish.push(format!("{JS}.STREAM.MSG.GET.{kv_stream}"));
    }
    for (service, filter) in user.follows() {
        let stream = subjects::stream_name(service);
        // Ordered consumers are named (see `streams::ordered_consumer`), so they are created on
        // `CONSUMER.CREATE.<stream>.<name>[.<filter>]`; a filter in the subject pins what the
        // consumer may read, the server refusing a body whose filter differs.
        publish.push(match filter {
            Some(filter) => format!("{JS}.CONSUMER.CREATE.{stream}.*.{filter}"),
            None => format!("{JS}.CONSUMER.CREATE.{stream}.*"),
        });
        // A re-created ordered consumer first deletes its predecessor; its pulls go to
        // MSG.NEXT; after a reconnect it asks for its own info (once per stream, however many
        // filters a user follows it with).
        for action in ["DELETE", "MSG.NEXT", "INFO"] {
            let subject = format!("{JS}.CONSUMER.{action}.{stream}.*");
            if !publish.contains(&subject) {
                publish.push(subject);
            }
        }
    }
    for service in user.reads_stream_info() {
        let info = format!("{JS}.STREAM.INFO.{}", subjects::stream_name(service));
        if !publish.contains(&info) {
            publish.push(info);
        }
    }
    publish.extend(user.requests());
    if let Some((name, endpoints)) = user.answers() {
        subscribe.push(endpoints);
        // The NATS service API: $SRV.PING|INFO|STATS, each also by name and by name and id.
        subscribe.push("$SRV.*".into());
        subscribe.push(format!("$SRV.*.{name}"));
        subscribe.push(format!("$SRV.*.{name}.*"));
        publish.extend(user.requesters().iter().map(|r| r.inboxes()));
    }
    Permissions { publish, subscribe }
}

/// Why credentials cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "no NATS credentials for user {user}: {path} does not exist (`tatrack nats config` generates every user's key and the server's config; or set TATRACK_NATS_CREDENTIALS)"
    )]
    Missing { user: User, path: PathBuf },
    #[error("{path} does not hold a NATS user seed: {reason}")]
    BadSeed { path: PathBuf, reason: String },
    #[error(
        "{path} is readable by others (mode {mode:o}): a NATS key must be private; `chmod {wanted:o} {path}`"
    )]
    Exposed {
        path: PathBuf,
        mode: u32,
        wanted: u32,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AuthError + '_ {
    move |source| AuthError::Io {
        path: path.to_owned(),
        source,
    }
}

/// One user's key: who a connection authenticates as.
#[derive(Clone)]
pub struct Identity {
    user: User,
    seed: String,
    public_key: String,
}

impl fmt::Debug for Identity {
    // Never the seed: it would end up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("user", &self.user)
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// A new random key for `user` (kept in memory only).
    pub fn generate(user: User) -> Self {
        let pair = nkeys::KeyPair::new_user();
        Self {
            user,
            seed: pair.seed().expect("a new key pair has its seed"),
            public_key: pair.public_key(),
        }
    }

    fn from_seed(user: User, seed: &str, path: &Path) -> Result<Self, AuthError> {
        let bad = |reason: String| AuthError::BadSeed {
            path: path.to_owned(),
            reason,
        };
        let pair = nkeys::KeyPair::from_seed(seed.trim()).map_err(|e| bad(e.to_string()))?;
        if pair.key_pair_type() != nkeys::KeyPairType::User {
            return Err(bad(format!(
                "a {:?} key, not a user key",
                pair.key_pair_type()
            )));
        }
        Ok(Self {
            user,
            seed: seed.trim().to_owned(),
            public_key: pair.public_key(),
        })
    }

    /// Reads `user`'s key from `<dir>/<user>.nk`, refusing a file others may read.
    pub fn load(dir: &Path, user: User) -> Result<Self, AuthError> {
        let path = key_path(dir, user);
        if !path.exists() {
            return Err(AuthError::Missing { user, path });
        }
        check_private(&path, 0o600)?;
        let seed = std::fs::read_to_string(&path).map_err(io(&path))?;
        Self::from_seed(user, &seed, &path)
    }

    pub fn user(&self) -> User {
        self.user
    }

    /// The public key the server config names (`U...`).
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// Connection options for this user: its nkey, its own inbox prefix, and a callback that
    /// logs what the server refuses (a permission violation otherwise only shows as a timeout).
    pub fn connect_options(&self, name: &str) -> async_nats::ConnectOptions {
        let user = self.user;
        let connection = name.to_owned();
        async_nats::ConnectOptions::with_nkey(self.seed.clone())
            .name(name)
            .custom_inbox_prefix(user.inbox_prefix())
            .event_callback(move |event| {
                let connection = connection.clone();
                async move { log_event(user, &connection, &event) }
            })
    }
}

fn log_event(user: User, connection: &str, event: &async_nats::Event) {
    use async_nats::Event;
    match event {
        Event::ServerError(error) => tracing::error!(
            %user, connection, %error,
            "NATS refused an operation of this connection (the call it belongs to times out)"
        ),
        // A refused key is retried for ever by a service's connection: say so loudly. Other
        // connection errors (NATS down, reconnecting) are routine and logged by async-nats.
        Event::ClientError(error)
            if error.to_string().contains("authorization")
                || error.to_string().contains("authentication") =>
        {
            tracing::error!(%user, connection, %error, "NATS refused this connection's key");
        }
        Event::ClientError(error) => {
            tracing::debug!(%user, connection, %error, "NATS connection error");
        }
        Event::SlowConsumer(sid) => {
            tracing::warn!(%user, connection, sid, "NATS dropped messages: slow consumer");
        }
        other => tracing::debug!(%user, connection, event = %other, "NATS connection event"),
    }
}

fn key_path(dir: &Path, user: User) -> PathBuf {
    dir.join(format!("{}.nk", user.name()))
}

/// Refuses a key file or directory that anyone but its owner may read or write.
fn check_private(path: &Path, wanted: u32) -> Result<(), AuthError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(io(path))?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(AuthError::Exposed {
                path: path.to_owned(),
                mode,
                wanted,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = (path, wanted);
    Ok(())
}

/// Every user's key, kept in one directory.
#[derive(Debug, Clone)]
pub struct Credentials {
    dir: PathBuf,
    identities: BTreeMap<User, Identity>,
}

impl Credentials {
    /// Loads every user's key from `dir`, generating those that are missing (the directory is
    /// created 0700, each key file 0600, never overwritten).
    pub fn load_or_generate(dir: &Path) -> Result<Self, AuthError> {
        create_private_dir(dir)?;
        check_private(dir, 0o700)?;
        let mut identities = BTreeMap::new();
        for user in User::ALL {
            let path = key_path(dir, user);
            if !path.exists() {
                let identity = Identity::generate(user);
                match write_private(&path, &identity.seed) {
                    Ok(()) => {}
                    // Another process wrote it first: use theirs.
                    Err(AuthError::Io { source, .. })
                        if source.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(e),
                }
            }
            identities.insert(user, Identity::load(dir, user)?);
        }
        Ok(Self {
            dir: dir.to_owned(),
            identities,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn identity(&self, user: User) -> &Identity {
        &self.identities[&user]
    }

    /// The `accounts {}` block of the server config: one account with JetStream, every user by
    /// its public key with its permissions.
    pub fn accounts_config(&self) -> String {
        let quote = |s: &str| serde_json::to_string(s).expect("a string serialises");
        let list = |items: &[String]| {
            items
                .iter()
                .map(|s| quote(s))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut out =
            String::from("accounts {\n  TATRACK {\n    jetstream: enabled\n    users: [\n");
        for (user, identity) in &self.identities {
            let permissions = permissions(*user);
            out.push_str(&format!(
                "      # {user}\n      {{\n        nkey: {}\n        permissions: {{\n          publish: {{ allow: [{}] }}\n          subscribe: {{ allow: [{}] }}\n        }}\n      }}\n",
                quote(identity.public_key()),
                list(&permissions.publish),
                list(&permissions.subscribe),
            ));
        }
        out.push_str("    ]\n  }\n}\n");
        out
    }

    /// A whole nats-server config for a single server: `listen` (`host:port`), JetStream in
    /// `store_dir`, a 4 MB payload limit (above the services' own 1 MiB, so they refuse big
    /// bodies by name), and the users. Nothing else connects: there is no user without a key.
    pub fn server_config(&self, listen: &str, store_dir: &Path) -> String {
        self.config(listen, store_dir, None)
    }

    /// The config of one server of a JetStream cluster: what [`Credentials::server_config`]
    /// writes, plus the server's name (JetStream's peers are named, and a restarted server must
    /// come back under its old name) and a `cluster {}` block that routes to the other servers.
    /// Every server of a cluster gets the same users, so a client may connect to any of them.
    pub fn server_config_clustered(
        &self,
        listen: &str,
        store_dir: &Path,
        node: &ClusterNode,
    ) -> String {
        self.config(listen, store_dir, Some(node))
    }

    fn config(&self, listen: &str, store_dir: &Path, cluster: Option<&ClusterNode>) -> String {
        let quote = |s: &str| serde_json::to_string(s).expect("a string serialises");
        let cluster = cluster.map_or_else(String::new, |node| {
            let routes: String = node
                .routes
                .iter()
                .map(|route| format!("    {}\n", quote(route)))
                .collect();
            // The routes carry every message between the servers without a user's key: on
            // loopback (tests, deploy/cluster/run.sh) nothing else can reach them. Across
            // machines the cluster port must be reachable by the other servers only, and a real
            // deployment adds `tls { cert_file, key_file, ca_file, verify: true }` to this block
            // (routes authenticate each other by certificate) or an `authorization {}` block
            // with credentials in the route URLs (deploy/cluster/README.md).
            format!(
                "server_name: {}\ncluster {{\n  name: {}\n  listen: {}\n  routes: [\n{routes}  ]\n}}\n",
                quote(&node.server_name),
                quote(&node.cluster_name),
                quote(&node.cluster_listen),
            )
        });
        format!(
            "# Written by tatrack (`tatrack nats config`): every user authenticates with its nkey\n\
             # (public keys only here; the seeds are in {}).\n\
             listen: {}\nmax_payload: 4MB\njetstream {{ store_dir: {} }}\n{cluster}{}",
            self.dir.display(),
            quote(listen),
            quote(&store_dir.to_string_lossy()),
            self.accounts_config()
        )
    }
}

/// One server's place in a NATS cluster: the `server_name` and `cluster {}` of its config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterNode {
    /// Unique in the cluster and kept across restarts (JetStream knows its peers by name).
    pub server_name: String,
    /// The same on every server of the cluster.
    pub cluster_name: String,
    /// `host:port` where this server accepts the other servers' routes.
    pub cluster_listen: String,
    /// The other servers' route URLs (`nats-route://host:port`); listing this server's own is
    /// harmless (the server recognises itself).
    pub routes: Vec<String>,
}

fn create_private_dir(dir: &Path) -> Result<(), AuthError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io(dir))
}

/// Writes a new file only its owner may read (never replaces one).
pub fn write_private(path: &Path, text: &str) -> Result<(), AuthError> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io(path))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(patterns: &[String], subject: &str) -> bool {
        patterns.iter().any(|p| matches(p, subject))
    }

    /// NATS subject matching: `*` one token, `>` one or more trailing tokens.
    fn matches(pattern: &str, subject: &str) -> bool {
        let mut p = pattern.split('.');
        let mut s = subject.split('.');
        loop {
            match (p.next(), s.next()) {
                (Some(">"), Some(_)) => return true,
                (Some("*"), Some(_)) => {}
                (Some(a), Some(b)) if a == b => {}
                (None, None) => return true,
                _ => return false,
            }
        }
    }

    #[test]
    fn nobody_but_admin_may_touch_everything_or_the_default_inboxes() {
        for user in User::ALL {
            let p = permissions(user);
            if user == User::Admin {
                assert_eq!(p.publish, vec![">"]);
                continue;
            }
            for subject in p.publish.iter().chain(&p.subscribe) {
                assert_ne!(subject, ">", "{user}");
                assert!(!subject.starts_with("_INBOX."), "{user}: {subject}");
                assert!(!subject.starts_with("$JS.API.>"), "{user}: {subject}");
            }
            // Its own inbox only.
            let inboxes: Vec<&String> = p
                .subscribe
                .iter()
                .filter(|s| s.starts_with("_INBOX"))
                .collect();
            assert_eq!(inboxes, vec![&format!("_INBOX_{user}.>")], "{user}");
        }
    }

    #[test]
    fn only_a_service_publishes_its_events() {
        for service in subjects::SERVICES {
            let subject = format!("tatrack.evt.{service}.need.1");
            for user in User::ALL {
                let may = allowed(&permissions(user).publish, &subject);
                let owner = user.owned_stream() == Some(service) || user == User::Admin;
                assert_eq!(may, owner, "{user} publishing {subject}");
            }
        }
    }

    #[test]
    fn only_a_service_answers_its_commands_and_only_the_gateway_sends_routed_ones() {
        let routed = gateway_verbs();
        for verb in tatrack_contract::bus::Verb::ALL {
            let service = verb.service().name();
            let subject = subjects::command_subject(service, verb.as_str());
            for user in User::ALL {
                let answers = allowed(&permissions(user).subscribe, &subject);
                assert_eq!(
                    answers,
                    user.owned_stream() == Some(service) || user == User::Admin,
                    "{user} answering {subject}"
                );
            }
            let gateway_sends = allowed(&permissions(User::Gateway).publish, &subject);
            assert_eq!(
                gateway_sends,
                routed.contains(verb),
                "gateway sending {subject}"
            );
            assert!(allowed(&permissions(User::Admin).publish, &subject));
        }
        // A user command (one an HTTP route sends) comes from the gateway or the operator only.
        let subject = subjects::command_subject("assessments", "assessment_plan");
        for user in User::ALL {
            assert_eq!(
                allowed(&permissions(user).publish, &subject),
                matches!(user, User::Gateway | User::Admin),
                "{user} sending {subject}"
            );
        }
    }

    #[test]
    fn every_request_has_a_responder_that_may_answer_it() {
        for requester in User::ALL {
            for subject in requester.requests() {
                let responders: Vec<User> = User::ALL
                    .into_iter()
                    .filter(|r| *r != User::Admin)
                    .filter(|r| {
                        r.answers().is_some_and(|(_, endpoints)| {
                            // A request pattern ends in `>` or names one subject.
                            matches(&endpoints, &subject.replace(".>", ".x"))
                        })
                    })
                    .collect();
                assert!(
                    !responders.is_empty(),
                    "{requester}: nobody answers {subject}"
                );
                for responder in responders {
                    assert!(
                        responder.requesters().contains(&requester),
                        "{responder} may not reply to {requester}'s {subject}"
                    );
                    assert!(allowed(
                        &permissions(responder).publish,
                        &format!("_INBOX_{requester}.abc.def")
                    ));
                }
            }
        }
    }

    #[test]
    fn consumers_only_on_the_streams_a_user_reads() {
        let create = |stream: &str, rest: &str| format!("$JS.API.CONSUMER.CREATE.{stream}.{rest}");
        let gateway = permissions(User::Gateway).publish;
        assert!(allowed(
            &gateway,
            &create("TATRACK_PARTNERS", "c1.tatrack.evt.partners.token.>")
        ));
        assert!(allowed(
            &gateway,
            &create("TATRACK_PARTNERS", "c1.tatrack.evt.partners.account.>")
        ));
        assert!(!allowed(&gateway, &create("TATRACK_PARTNERS", "c1")));
        assert!(!allowed(
            &gateway,
            &create("TATRACK_PARTNERS", "c1.tatrack.evt.partners.offer.>")
        ));
        assert!(!allowed(&gateway, &create("TATRACK_ASSESSMENTS", "c1")));
        assert!(!allowed(
            &gateway,
            "$JS.API.CONSUMER.CREATE.TATRACK_PARTNERS"
        ));
        let partners = permissions(User::Partners).publish;
        assert!(!allowed(&partners, &create("TATRACK_ASSESSMENTS", "c1")));
        assert!(!allowed(
            &partners,
            "$JS.API.STREAM.MSG.GET.TATRACK_ASSESSMENTS"
        ));
        assert!(!allowed(
            &partners,
            "$JS.API.DIRECT.GET.TATRACK_ASSESSMENTS"
        ));
        let readmodel = permissions(User::Readmodel).publish;
        for stream in subjects::SERVICES.map(subjects::stream_name) {
            assert!(allowed(&readmodel, &create(&stream, "c1")));
            assert!(!allowed(
                &readmodel,
                &format!("$JS.API.STREAM.CREATE.{stream}")
            ));
        }
    }

    #[test]
    fn keys_are_generated_once_private_and_named_in_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let at = dir.path().join("nats-auth");
        let first = Credentials::load_or_generate(&at).unwrap();
        let again = Credentials::load_or_generate(&at).unwrap();
        for user in User::ALL {
            assert_eq!(
                first.identity(user).public_key(),
                again.identity(user).public_key()
            );
            assert!(first.identity(user).public_key().starts_with('U'));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&at), 0o700);
            assert_eq!(mode(&at.join("gateway.nk")), 0o600);
            std::fs::set_permissions(
                at.join("gateway.nk"),
                std::fs::Permissions::from_mode(0o644),
            )
            .unwrap();
            let refused = Identity::load(&at, User::Gateway).unwrap_err();
            assert!(refused.to_string().contains("chmod 600"), "{refused}");
        }
        let config = first.server_config("127.0.0.1:4222", Path::new("/tmp/js"));
        assert!(config.contains(first.identity(User::Admin).public_key()));
        assert!(!config.contains(&first.identity(User::Admin).seed));
        assert!(config.contains("\"$JS.API.STREAM.INFO.TATRACK_ASSESSMENTS\""));
        assert!(!config.contains("cluster"));
        assert!(!config.contains("server_name"));
        let missing = Identity::load(dir.path(), User::Readmodel).unwrap_err();
        assert!(
            missing.to_string().contains("tatrack nats config"),
            "{missing}"
        );
    }

    #[test]
    fn a_clustered_config_names_the_server_and_routes_to_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let credentials = Credentials::load_or_generate(&dir.path().join("nats-auth")).unwrap();
        let node = ClusterNode {
            server_name: "node2".into(),
            cluster_name: "tatrack".into(),
            cluster_listen: "0.0.0.0:6222".into(),
            routes: vec![
                "nats-route://10.0.0.1:6222".into(),
                "nats-route://10.0.0.3:6222".into(),
            ],
        };
        let single = credentials.server_config("0.0.0.0:4222", Path::new("/var/lib/nats"));
        let clustered =
            credentials.server_config_clustered("0.0.0.0:4222", Path::new("/var/lib/nats"), &node);
        let cluster_lines = "server_name: \"node2\"\n\
                             cluster {\n  name: \"tatrack\"\n  listen: \"0.0.0.0:6222\"\n  routes: [\n    \
                             \"nats-route://10.0.0.1:6222\"\n    \"nats-route://10.0.0.3:6222\"\n  ]\n}\n";
        assert!(clustered.contains(cluster_lines), "{clustered}");
        assert!(clustered.contains("jetstream { store_dir: \"/var/lib/nats\" }"));
        // The same users and permissions as a single server: only the cluster lines differ.
        assert_eq!(clustered.replace(cluster_lines, ""), single);
    }
}
