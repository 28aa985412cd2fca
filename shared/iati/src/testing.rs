//! Test support, not part of the API: applies the IATI Standard Ruleset
//! (`data/rulesets/standard.json`) and the IATI 2.03 schema to a file with
//! `data/rulesets/check.py`, installing Python's lxml first when it is missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use jiff::civil::Date;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn data(path: &str) -> PathBuf {
    manifest_dir().join("data").join(path)
}

/// The `PYTHONPATH` under which Python imports lxml: `deploy/local/install-lxml.sh` finds it or
/// installs it into `./.tools/pip`, once per test process.
fn python_path() -> Result<String, String> {
    static PATH: OnceLock<Result<String, String>> = OnceLock::new();
    PATH.get_or_init(|| {
        let script = manifest_dir().join("../../deploy/local/install-lxml.sh");
        let output = Command::new("bash")
            .arg(&script)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if !output.status.success() {
            return Err(format!(
                "{} failed (the ruleset check needs Python 3 with lxml):\n{}",
                script.display(),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .last()
            .map(str::to_owned)
            .ok_or_else(|| format!("{} printed no PYTHONPATH", script.display()))
    })
    .clone()
}

/// Applies the IATI Standard Ruleset and the schema to `xml`, with "now" the start of `today`
/// (never the real clock). `Ok` with the warnings the checker printed, one a line, when no
/// error-level rule and nothing of the schema is broken; `Err` with all it printed otherwise, or
/// why it could not check (a missing Python fails the test, it does not skip it).
pub fn check_ruleset(xml: &str, today: Date) -> Result<Vec<String>, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    let file = dir.path().join("activities.xml");
    std::fs::write(&file, xml).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    let output = Command::new("python3")
        .arg(data("rulesets/check.py"))
        .arg(&file)
        .arg("--today")
        .arg(today.to_string())
        .arg("--schema")
        .arg(data("schema/iati-activities-schema.xsd"))
        .env("PYTHONPATH", python_path()?)
        .output()
        .map_err(|e| format!("cannot run python3 (the ruleset check needs it): {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    match output.status.code() {
        Some(0) => Ok(stdout.lines().map(str::to_owned).collect()),
        Some(1) => Err(format!(
            "the file breaks the IATI Standard Ruleset:\n{stdout}"
        )),
        _ => Err(format!(
            "the ruleset check could not run ({}):\n{}{stdout}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )),
    }
}
