//! `eks-operator crd`.

use std::io::Write;
use std::process::ExitCode;

/// Prints the CRD YAML, byte for byte what `deploy/crds/` holds.
pub fn run() -> anyhow::Result<ExitCode> {
    let yaml = eks_api::crd::crd_yaml()?;
    std::io::stdout().write_all(yaml.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
