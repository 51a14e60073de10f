//! `eks-operator crd` and `eks-operator reference`.

use std::io::Write;
use std::process::ExitCode;

/// Prints the CRD YAML, byte for byte what `deploy/crds/` holds.
pub fn run() -> anyhow::Result<ExitCode> {
    let yaml = eks_api::crd::crd_yaml()?;
    std::io::stdout().write_all(yaml.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// Prints the Markdown field reference, byte for byte what `docs/spec-reference.md` holds.
pub fn reference() -> anyhow::Result<ExitCode> {
    std::io::stdout().write_all(eks_api::reference::reference_markdown().as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
