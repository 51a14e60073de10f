//! Structured logging to standard error.

use tracing_subscriber::EnvFilter;

use crate::cli::{LogArgs, LogFormat};

/// Installs the global subscriber. Logs go to standard error so that standard output stays machine-readable.
/// In JSON, the event's fields are at the top level and the fields of the spans it happened in under `span`
/// (the innermost: `object` and `region` for the work on a region) and `spans` (all, outermost first).
pub fn init(args: &LogArgs, format: LogFormat) {
    let filter = EnvFilter::try_new(&args.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(true)
            .init(),
        LogFormat::Text => builder.init(),
    }
}
