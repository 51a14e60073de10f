//! `eks-operator plan`: validation and the per-region plan, with no network access.

use std::io::{Read, Write};
use std::process::ExitCode;

use anyhow::Context;
use eks_api::parse::{ParseError, parse_documents};
use eks_plan::output::{document, list};

use crate::cli::{OutputFormat, PlanArgs};

/// Plans every document of the input. Invalid documents are reported on standard error, each problem with its
/// field path, and nothing is planned for them; the exit code is then 1.
pub fn run(args: &PlanArgs) -> anyhow::Result<ExitCode> {
    if let Some(account) = &args.account_id
        && !eks_api::patterns::is_account_id(account)
    {
        anyhow::bail!("--account-id {account:?} is not a 12 digit AWS account id");
    }
    let text = read_input(&args.file)?;
    let objects = match parse_documents(&text) {
        Ok(objects) => objects,
        Err(ParseError::Yaml(message)) => anyhow::bail!("{}: not valid YAML: {message}", args.file.display()),
        Err(err) => {
            eprintln!("{}: {err}", args.file.display());
            return Ok(ExitCode::FAILURE);
        }
    };
    if objects.is_empty() {
        anyhow::bail!("{}: no EksCluster documents found", args.file.display());
    }
    let mut items = Vec::new();
    let mut failed = false;
    for object in &objects {
        let name = object.metadata.name.as_deref().unwrap_or("<unnamed>");
        match eks_api::validate(object) {
            Ok(cluster) => items.push(document(&cluster, args.account_id.as_deref())?),
            Err(err) => {
                failed = true;
                eprintln!("EksCluster {name:?} is invalid:");
                for error in &err.errors {
                    eprintln!("  {error}");
                }
            }
        }
    }
    if !items.is_empty() {
        let out = list(items);
        let rendered = match args.output {
            OutputFormat::Json => serde_json::to_string_pretty(&out)? + "\n",
            OutputFormat::Yaml => serde_saphyr::to_string(&out)?,
        };
        std::io::stdout().write_all(rendered.as_bytes())?;
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn read_input(path: &std::path::Path) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
        Ok(text)
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
    }
}
