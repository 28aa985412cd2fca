//! A backup directory on disk: one `<service>.jsonl` per command service (its stream's messages,
//! one envelope per line, in position order) and `manifest.json`. Writing puts each file aside
//! and renames it into place, the manifest last, so a directory with a manifest is whole; reading
//! checks everything (the manifest's fields, checksums, counts, contiguous positions) before
//! anything is used, so a bad backup is refused before a single event is published.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use tatrack_bus::subjects;
use tatrack_eventlog::Envelope;

use super::Refusal;

/// The layout this tatrack writes and reads; a later layout gets a new number.
pub const FORMAT: u32 = 1;
pub const MANIFEST: &str = "manifest.json";

/// What `manifest.json` says about a backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    /// The tatrack that made it.
    pub tatrack_version: String,
    /// When the backup began, by the clock of the process that made it.
    pub made_at: jiff::Timestamp,
    /// One entry per command service, by name; its events are in `<service>.jsonl`.
    pub services: BTreeMap<String, ServiceCopy>,
    /// How far the running read model had applied each stream when the backup began (`None`
    /// when no read model answered). It is not restored: the read model is derived from the
    /// streams and folds the restored ones again.
    pub readmodel_positions: Option<BTreeMap<String, u64>>,
}

/// One service's file, as the manifest describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceCopy {
    /// The stream's last sequence when the backup began: the log position the copy ends at.
    pub last_position: u64,
    pub events: u64,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: String,
}

/// The file of `service`'s events inside a backup directory.
pub fn file_name(service: &str) -> String {
    format!("{service}.jsonl")
}

/// A backup being written. Until `commit`, dropping it removes every file it wrote, so a
/// failed backup leaves the directory as it found it (empty).
pub struct Writer {
    dir: PathBuf,
    /// Whether `create` made the directory (then a failed backup removes it too).
    created: bool,
    written: Vec<PathBuf>,
    committed: bool,
}

impl Writer {
    /// Starts a backup in `dir`, created if missing; an existing directory must be empty, so a
    /// backup never mixes with another's files.
    pub fn create(dir: &Path) -> anyhow::Result<Self> {
        let created = !dir.exists();
        if !created {
            let mut entries = std::fs::read_dir(dir).map_err(|e| {
                anyhow::anyhow!("{}: cannot read the directory: {e}", dir.display())
            })?;
            if let Some(entry) = entries.next() {
                let name = entry?.file_name();
                return Err(Refusal::BadInput(format!(
                    "--out {}: the directory is not empty (it holds {}): a backup goes into an \
                     empty or new directory",
                    dir.display(),
                    name.to_string_lossy()
                ))
                .into());
            }
        }
        // A backup holds the logs' confidential text in clear: private, as the logs are.
        tatrack_eventlog::private_dir(dir)
            .map_err(|e| anyhow::anyhow!("{}: cannot create the directory: {e}", dir.display()))?;
        Ok(Self {
            dir: dir.to_owned(),
            created,
            written: Vec::new(),
            committed: false,
        })
    }

    /// Opens `service`'s file, aside under a temporary name until `ServiceFile::finish`.
    pub fn service_file(&mut self, service: &str) -> anyhow::Result<ServiceFile> {
        let path = self.dir.join(file_name(service));
        let aside = self.dir.join(format!(".{}.partial", file_name(service)));
        let file = create_private(&aside)?;
        self.written.push(aside.clone());
        self.written.push(path.clone());
        Ok(ServiceFile {
            path,
            aside,
            out: BufWriter::new(file),
            hash: sha2::Sha256::new(),
            events: 0,
        })
    }

    /// Writes the manifest (aside, then renamed into place, then the directory synced): from
    /// here on the backup is whole and is kept.
    pub fn commit(mut self, manifest: &Manifest) -> anyhow::Result<()> {
        let path = self.dir.join(MANIFEST);
        let aside = self.dir.join(format!(".{MANIFEST}.partial"));
        self.written.push(aside.clone());
        self.written.push(path.clone());
        let mut text = serde_json::to_vec_pretty(manifest)?;
        text.push(b'\n');
        write_synced(&aside, &text)?;
        std::fs::rename(&aside, &path)
            .map_err(|e| anyhow::anyhow!("{}: cannot rename into place: {e}", path.display()))?;
        // The renames are only durable once the directory itself is.
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| anyhow::anyhow!("{}: cannot sync: {e}", self.dir.display()))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if !self.committed {
            for path in &self.written {
                let _ = std::fs::remove_file(path);
            }
            if self.created {
                let _ = std::fs::remove_dir(&self.dir);
            }
        }
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file = create_private(path)?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", path.display()))
}

/// A new file only its owner may read or write (0600, whatever the umask).
fn create_private(path: &Path) -> anyhow::Result<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| anyhow::anyhow!("{}: cannot create: {e}", path.display()))
}

/// One service's file being written: its lines go through the checksum as they are written.
pub struct ServiceFile {
    path: PathBuf,
    aside: PathBuf,
    out: BufWriter<File>,
    hash: sha2::Sha256,
    events: u64,
}

impl ServiceFile {
    /// Appends one envelope's JSON (one line: compact JSON holds no raw newline).
    pub fn push(&mut self, line: &[u8]) -> anyhow::Result<()> {
        anyhow::ensure!(
            !line.contains(&b'\n'),
            "an envelope's JSON spans several lines"
        );
        self.out
            .write_all(line)
            .and_then(|()| self.out.write_all(b"\n"))
            .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", self.aside.display()))?;
        self.hash.update(line);
        self.hash.update(b"\n");
        self.events += 1;
        Ok(())
    }

    /// Syncs the file and renames it into place; returns what the manifest says of it.
    pub fn finish(self) -> anyhow::Result<ServiceCopy> {
        let file = self
            .out
            .into_inner()
            .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", self.aside.display()))?;
        file.sync_all()
            .map_err(|e| anyhow::anyhow!("{}: cannot sync: {e}", self.aside.display()))?;
        std::fs::rename(&self.aside, &self.path).map_err(|e| {
            anyhow::anyhow!("{}: cannot rename into place: {e}", self.path.display())
        })?;
        Ok(ServiceCopy {
            // Positions start at 1 and are contiguous (checked as they were read).
            last_position: self.events,
            events: self.events,
            sha256: format!("{:x}", self.hash.finalize()),
        })
    }
}

/// One event of a verified backup, ready to publish.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: uuid::Uuid,
    pub position: u64,
    pub subject: String,
    /// The envelope's JSON exactly as the stream held it.
    pub payload: Bytes,
}

/// A backup whose every file and field has been checked.
#[derive(Debug)]
pub struct Verified {
    pub manifest: Manifest,
    /// Every command service's events, in `subjects::SERVICES` order.
    pub services: Vec<(&'static str, Vec<Event>)>,
}

fn bad(message: String) -> anyhow::Error {
    Refusal::BadInput(message).into()
}

/// Reads the backup in `dir` and checks all of it: the manifest (its format and one entry per
/// command service), each file's SHA-256 and number of events, and every line (an envelope at
/// the next position, 1, 2, 3... with no gap, on a subject of its service).
pub fn read(dir: &Path) -> anyhow::Result<Verified> {
    let manifest_path = dir.join(MANIFEST);
    let text = std::fs::read(&manifest_path).map_err(|e| {
        bad(format!(
            "{}: cannot read the manifest: {e} (is --from a directory `tatrack backup` wrote?)",
            manifest_path.display()
        ))
    })?;
    let manifest: Manifest = serde_json::from_slice(&text).map_err(|e| {
        bad(format!(
            "{}: not a backup manifest: {e}",
            manifest_path.display()
        ))
    })?;
    if manifest.format != FORMAT {
        return Err(bad(format!(
            "{}: field format: {} is not a layout this tatrack reads (it reads {FORMAT})",
            manifest_path.display(),
            manifest.format
        )));
    }
    if let Some(unknown) = manifest
        .services
        .keys()
        .find(|s| !subjects::SERVICES.contains(&s.as_str()))
    {
        return Err(bad(format!(
            "{}: field services.{unknown}: not a command service (they are {})",
            manifest_path.display(),
            subjects::SERVICES.join(", ")
        )));
    }
    let mut services = Vec::new();
    for service in subjects::SERVICES {
        let copy = manifest.services.get(service).ok_or_else(|| {
            bad(format!(
                "{}: field services: no entry for {service}",
                manifest_path.display()
            ))
        })?;
        let events = read_service(dir, service, copy)?;
        services.push((service, events));
    }
    Ok(Verified { manifest, services })
}

/// Reads and checks one service's file against its manifest entry.
fn read_service(dir: &Path, service: &str, copy: &ServiceCopy) -> anyhow::Result<Vec<Event>> {
    let path = dir.join(file_name(service));
    let field = format!("{MANIFEST} field services.{service}");
    let bytes =
        std::fs::read(&path).map_err(|e| bad(format!("{}: cannot read: {e}", path.display())))?;
    let sha256 = format!("{:x}", sha2::Sha256::digest(&bytes));
    if sha256 != copy.sha256 {
        return Err(bad(format!(
            "{}: checksum mismatch: its SHA-256 is {sha256}, {field}.sha256 says {}: the file \
             changed after the backup was made",
            path.display(),
            copy.sha256
        )));
    }
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        return Err(bad(format!(
            "{}: the last line has no end: the file is cut short",
            path.display()
        )));
    }
    let bytes = Bytes::from(bytes);
    let mut events = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let end = start
            + bytes[start..]
                .iter()
                .position(|b| *b == b'\n')
                .expect("the file ends with a newline");
        let line_number = events.len() as u64 + 1;
        let at = || format!("{} line {line_number}", path.display());
        let line = bytes.slice(start..end);
        let envelope: Envelope = serde_json::from_slice(&line)
            .map_err(|e| bad(format!("{}: not an event envelope: {e}", at())))?;
        if envelope.position != line_number {
            return Err(bad(format!(
                "{}: position {} where {line_number} was expected: positions must run 1, 2, \
                 3... with no gap, as the log's do",
                at(),
                envelope.position
            )));
        }
        let subject = subjects::event_subject(service, &envelope.stream);
        if !is_plain_subject(&subject) {
            return Err(bad(format!(
                "{}: field stream: {:?} does not make an event subject ({subject:?})",
                at(),
                envelope.stream
            )));
        }
        events.push(Event {
            id: envelope.id,
            position: envelope.position,
            subject,
            payload: line,
        });
        start = end + 1;
    }
    let found = events.len() as u64;
    if found != copy.events {
        return Err(bad(format!(
            "{field}.events says {}, {} holds {found} events",
            copy.events,
            path.display()
        )));
    }
    if found != copy.last_position {
        return Err(bad(format!(
            "{field}.last_position says {}, {} ends at position {found}",
            copy.last_position,
            path.display()
        )));
    }
    Ok(events)
}

/// A subject a message may be published to: dot-separated, non-empty tokens, no wildcard, no
/// white space.
fn is_plain_subject(subject: &str) -> bool {
    subject.split('.').all(|token| {
        !token.is_empty()
            && !token.contains(['*', '>'])
            && !token.chars().any(|c| c.is_whitespace() || c.is_control())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(position: u64) -> Envelope {
        Envelope {
            id: uuid::Uuid::now_v7(),
            stream: format!("need-{}", uuid::Uuid::nil()),
            version: position,
            position,
            kind: "need_identified".into(),
            schema: 1,
            on: None,
            recorded_at: "2031-03-14T09:00:00Z".parse().unwrap(),
            principal: "coordinator:test".into(),
            command_id: None,
            correlation_id: None,
            command_fingerprint: None,
            payload: serde_json::json!({ "n": position }),
        }
    }

    /// A whole backup of `events` events per service, written as `tatrack backup` writes it.
    fn backup(dir: &Path, events: u64) -> Manifest {
        let mut writer = Writer::create(dir).unwrap();
        let mut services = BTreeMap::new();
        for service in subjects::SERVICES {
            let mut file = writer.service_file(service).unwrap();
            for position in 1..=events {
                file.push(&serde_json::to_vec(&envelope(position)).unwrap())
                    .unwrap();
            }
            services.insert(service.to_owned(), file.finish().unwrap());
        }
        let manifest = Manifest {
            format: FORMAT,
            tatrack_version: "test".into(),
            made_at: "2031-03-14T09:00:00Z".parse().unwrap(),
            services,
            readmodel_positions: None,
        };
        writer.commit(&manifest).unwrap();
        manifest
    }

    fn refusal(dir: &Path) -> String {
        let error = read(dir).unwrap_err();
        assert!(
            matches!(error.downcast_ref::<Refusal>(), Some(Refusal::BadInput(_))),
            "{error:#}"
        );
        error.to_string()
    }

    fn rewrite_manifest(dir: &Path, change: impl FnOnce(&mut Manifest)) {
        let path = dir.join(MANIFEST);
        let mut manifest: Manifest =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        change(&mut manifest);
        std::fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    }

    #[test]
    fn a_written_backup_reads_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = backup(dir.path(), 3);
        let verified = read(dir.path()).unwrap();
        assert_eq!(verified.manifest, manifest);
        for (service, events) in &verified.services {
            let positions: Vec<u64> = events.iter().map(|e| e.position).collect();
            assert_eq!(positions, [1, 2, 3], "{service}");
            assert!(
                events[0]
                    .subject
                    .starts_with(&format!("tatrack.evt.{service}.need."))
            );
        }
        // Private, as the logs are.
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(dir.path()), 0o700);
        assert_eq!(mode(&dir.path().join(MANIFEST)), 0o600);
        assert_eq!(mode(&dir.path().join("projects.jsonl")), 0o600);
        // Nothing is left aside.
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "assessments.jsonl",
                "manifest.json",
                "partners.jsonl",
                "projects.jsonl",
                "reporter.jsonl"
            ]
        );
    }

    #[test]
    fn a_non_empty_directory_is_refused_and_a_failed_backup_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        let error = Writer::create(dir.path()).err().unwrap().to_string();
        assert!(
            error.contains("not empty") && error.contains("notes.txt"),
            "{error}"
        );

        let empty = tempfile::tempdir().unwrap();
        {
            let mut writer = Writer::create(empty.path()).unwrap();
            let mut file = writer.service_file("assessments").unwrap();
            file.push(b"{}").unwrap();
            file.finish().unwrap();
            // Dropped without a manifest: the backup failed half way.
        }
        assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_missing_or_garbled_manifest_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        assert!(refusal(dir.path()).contains("manifest.json: cannot read the manifest"));
        backup(dir.path(), 1);
        std::fs::write(dir.path().join(MANIFEST), b"{\"format\": 1,").unwrap();
        let error = refusal(dir.path());
        assert!(
            error.contains("manifest.json: not a backup manifest"),
            "{error}"
        );

        let dir = tempfile::tempdir().unwrap();
        backup(dir.path(), 1);
        rewrite_manifest(dir.path(), |m| {
            m.services.remove("reporter");
        });
        let error = refusal(dir.path());
        assert!(
            error.contains("field services: no entry for reporter"),
            "{error}"
        );
        rewrite_manifest(dir.path(), |m| m.format = 7);
        assert!(refusal(dir.path()).contains("field format: 7"));
    }

    #[test]
    fn a_changed_file_is_refused_by_its_checksum() {
        let dir = tempfile::tempdir().unwrap();
        backup(dir.path(), 2);
        let path = dir.path().join("partners.jsonl");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("\"n\":2", "\"n\":9")).unwrap();
        let error = refusal(dir.path());
        assert!(
            error.contains("partners.jsonl: checksum mismatch")
                && error.contains("services.partners.sha256"),
            "{error}"
        );
    }

    /// Removes line `line` (1-based) of `service`'s file and makes the manifest agree with the
    /// file's checksum and counts, so only the gap itself is wrong.
    fn drop_line(dir: &Path, service: &str, line: usize) {
        let path = dir.join(file_name(service));
        let text = std::fs::read_to_string(&path).unwrap();
        let kept: String = text
            .lines()
            .enumerate()
            .filter(|(i, _)| i + 1 != line)
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        std::fs::write(&path, &kept).unwrap();
        rewrite_manifest(dir, |m| {
            let copy = m.services.get_mut(service).unwrap();
            copy.sha256 = format!("{:x}", sha2::Sha256::digest(kept.as_bytes()));
            copy.events -= 1;
            copy.last_position -= 1;
        });
    }

    #[test]
    fn a_gap_in_positions_is_refused_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        backup(dir.path(), 4);
        drop_line(dir.path(), "projects", 2);
        let error = refusal(dir.path());
        assert!(
            error.contains("projects.jsonl line 2: position 3 where 2 was expected"),
            "{error}"
        );
    }

    #[test]
    fn counts_that_disagree_with_the_file_are_refused_by_field() {
        let dir = tempfile::tempdir().unwrap();
        backup(dir.path(), 2);
        rewrite_manifest(dir.path(), |m| {
            m.services.get_mut("reporter").unwrap().events = 3;
        });
        let error = refusal(dir.path());
        assert!(
            error.contains("services.reporter.events says 3") && error.contains("holds 2 events"),
            "{error}"
        );
    }

    #[test]
    fn a_line_that_is_not_an_envelope_is_refused_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        backup(dir.path(), 0);
        let path = dir.path().join("assessments.jsonl");
        std::fs::write(&path, "{\"id\": 1}\n").unwrap();
        rewrite_manifest(dir.path(), |m| {
            let copy = m.services.get_mut("assessments").unwrap();
            copy.sha256 = format!("{:x}", sha2::Sha256::digest(b"{\"id\": 1}\n"));
            copy.events = 1;
            copy.last_position = 1;
        });
        let error = refusal(dir.path());
        assert!(
            error.contains("assessments.jsonl line 1: not an event envelope"),
            "{error}"
        );
    }
}
