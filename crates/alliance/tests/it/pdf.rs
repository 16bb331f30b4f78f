//! Reading back the PDFs Alliance makes, with Debian's poppler-utils (scripts/bootstrap).

/// The text of a PDF, by pdftotext (from scripts/bootstrap: Debian's poppler-utils).
pub(crate) async fn pdf_text(bytes: &[u8]) -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("document.pdf");
    std::fs::write(&path, bytes)?;
    let out = tokio::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
        .await
        .map_err(|e| anyhow::anyhow!("pdftotext is missing ({e}): run scripts/bootstrap"))?;
    anyhow::ensure!(out.status.success(), "pdftotext failed");
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" "))
}
