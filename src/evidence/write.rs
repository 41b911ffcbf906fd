//! Writing a pack to a folder: the PDF for the payment provider and the JSON of Stripe's
//! evidence fields, named after the dispute (or the customer), never overwriting another pack.

use std::path::{Path, PathBuf};

use super::build::Built;
use super::pdf;

/// The files written.
#[derive(Debug, Clone)]
pub struct Written {
    pub pdf: PathBuf,
    pub json: PathBuf,
    /// The PDF's size in bytes.
    pub pdf_bytes: usize,
}

/// Why a pack could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot render the PDF: {0}")]
    Pdf(String),
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Writes `built` into `dir` (created if needed).
pub fn write(dir: &Path, built: &Built) -> Result<Written, WriteError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WriteError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let pack = &built.pack;
    let subject = pack.dispute.as_ref().map_or_else(
        || format!("customer-{}", pack.customer.id),
        |d| d.id.clone(),
    );
    let stem = format!(
        "evidence-{}-{}",
        file_safe(&subject),
        pack.generated_at.format("%Y%m%dT%H%M%SZ")
    );
    let bytes = pdf::render(pack).map_err(|error| WriteError::Pdf(error.to_string()))?;
    let pdf_path = dir.join(format!("{stem}.pdf"));
    let json_path = dir.join(format!("{stem}.json"));
    let json = serde_json::to_string_pretty(&built.evidence).unwrap_or_else(|_| "{}".to_string());
    std::fs::write(&pdf_path, &bytes).map_err(io(&pdf_path))?;
    std::fs::write(&json_path, json + "\n").map_err(io(&json_path))?;
    Ok(Written {
        pdf: pdf_path,
        json: json_path,
        pdf_bytes: bytes.len(),
    })
}

/// Letters, digits, `-` and `_` only, at most 64 characters.
fn file_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect()
}
