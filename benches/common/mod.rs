//! Loading of the Loghub-2k evaluation datasets shared by the benchmarks.

use std::path::PathBuf;

/// One dataset: message contents and their ground-truth event ids.
pub struct Dataset {
    pub name: String,
    pub contents: Vec<String>,
    pub event_ids: Vec<String>,
}

/// Directory holding `data/loghub_2k`, from `SENTINEL_SHARED` or the
/// default location beside the crate.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("SENTINEL_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared")))
}

/// Loads every `<Name>/<Name>_2k.log_structured.csv`, sorted by name.
/// Returns `None` when the data directory is missing.
pub fn load_datasets() -> Option<Vec<Dataset>> {
    let root = shared_dir().join("data").join("loghub_2k");
    let entries = std::fs::read_dir(&root).ok()?;
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut datasets = Vec::new();
    for name in names {
        let path = root
            .join(&name)
            .join(format!("{name}_2k.log_structured.csv"));
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let records = sentinel::logs::csv::parse_csv(&text);
        let Some((header, rows)) = records.split_first() else {
            continue;
        };
        let column = |wanted: &str| header.iter().position(|h| h == wanted);
        let (Some(content), Some(event)) = (column("Content"), column("EventId")) else {
            eprintln!("{}: missing Content/EventId columns", path.display());
            continue;
        };
        let mut dataset = Dataset {
            name,
            contents: Vec::new(),
            event_ids: Vec::new(),
        };
        for row in rows {
            if let (Some(c), Some(e)) = (row.get(content), row.get(event)) {
                dataset.contents.push(c.clone());
                dataset.event_ids.push(e.clone());
            }
        }
        datasets.push(dataset);
    }
    (!datasets.is_empty()).then_some(datasets)
}
