//! What the local mode owns on this machine and must give back on every way out: the kubeconfig file it
//! created, and the handling of Ctrl-C (installed before anything is started).

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use tokio::sync::watch;

/// The kubeconfig file of the local mode. It is created exclusively (never over an existing file) before
/// anything is started, and removed when this is dropped: only a file this process created is ever removed.
#[derive(Debug)]
pub struct KubeconfigFile {
    path: PathBuf,
    file: Option<File>,
}

impl KubeconfigFile {
    /// Creates the file, empty: at `requested`, which must not exist, or else as a new file in the temporary
    /// directory.
    pub fn reserve(requested: Option<&Path>) -> anyhow::Result<Self> {
        let (path, file) = match requested {
            Some(path) => match create_new(path) {
                Ok(file) => (path.to_path_buf(), file),
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => anyhow::bail!(
                    "--kubeconfig {}: the file already exists, and dev never overwrites a kubeconfig (it writes \
                     its own and removes it on exit). Pass a path that does not exist yet, or leave out \
                     --kubeconfig for a new file in the temporary directory.",
                    path.display()
                ),
                Err(err) => {
                    return Err(err).with_context(|| format!("creating the kubeconfig {}", path.display()));
                }
            },
            None => in_temp_dir()?,
        };
        // An absolute path, for `KUBECONFIG=<path>` from any directory.
        let path = std::fs::canonicalize(&path)
            .or_else(|_| std::env::current_dir().map(|dir| dir.join(&path)))
            .unwrap_or(path);
        Ok(Self {
            path,
            file: Some(file),
        })
    }

    /// The absolute path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the content into the reserved file.
    pub fn write(&mut self, text: &str) -> anyhow::Result<()> {
        let mut file = self.file.take().context("the kubeconfig was written already")?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.flush())
            .with_context(|| format!("writing the kubeconfig {}", self.path.display()))
    }
}

impl Drop for KubeconfigFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn create_new(path: &Path) -> std::io::Result<File> {
    // O_CREAT|O_EXCL: fails on any existing entry, a symbolic link included.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

fn in_temp_dir() -> anyhow::Result<(PathBuf, File)> {
    let dir = std::env::temp_dir();
    let pid = std::process::id();
    for attempt in 0..100 {
        let name = if attempt == 0 {
            format!("eks-operator-dev-{pid}.kubeconfig")
        } else {
            format!("eks-operator-dev-{pid}-{attempt}.kubeconfig")
        };
        let path = dir.join(name);
        match create_new(&path) {
            Ok(file) => return Ok((path, file)),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(err) => {
                return Err(err).with_context(|| format!("creating the kubeconfig {}", path.display()));
            }
        }
    }
    anyhow::bail!("no free kubeconfig file name in {}", dir.display())
}

/// Counts SIGINT and SIGTERM. The handlers are in place once [`Signals::install`] returns, so from then on
/// a Ctrl-C goes through the local mode's shutdown instead of killing the process with its children.
#[derive(Debug, Clone)]
pub struct Signals(watch::Receiver<u32>);

impl Signals {
    /// Installs the handlers (inside a Tokio runtime).
    pub fn install() -> std::io::Result<Self> {
        let (tx, rx) = watch::channel(0);
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut interrupt = signal(SignalKind::interrupt())?;
            let mut terminate = signal(SignalKind::terminate())?;
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        Some(()) = interrupt.recv() => {}
                        Some(()) = terminate.recv() => {}
                        else => break,
                    }
                    tx.send_modify(|count| *count += 1);
                }
            });
        }
        #[cfg(not(unix))]
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                tx.send_modify(|count| *count += 1);
            }
        });
        Ok(Self(rx))
    }

    /// How many signals arrived so far.
    pub fn count(&self) -> u32 {
        *self.0.borrow()
    }

    /// Whether a signal asked to stop.
    pub fn stop_requested(&self) -> bool {
        self.count() > 0
    }

    /// Waits until more than `seen` signals arrived.
    pub async fn beyond(&self, seen: u32) {
        let mut rx = self.0.clone();
        if rx.wait_for(|count| *count > seen).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_file_is_refused_and_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, "the user's own kubeconfig").unwrap();
        let err = KubeconfigFile::reserve(Some(&path)).unwrap_err().to_string();
        assert!(
            err.contains("already exists") && err.contains("never overwrites"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "the user's own kubeconfig"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_symbolic_link_is_refused_too() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(KubeconfigFile::reserve(Some(&link)).is_err());
        assert!(!target.exists());
    }

    #[test]
    fn the_file_created_is_written_and_removed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new");
        let mut file = KubeconfigFile::reserve(Some(&path)).unwrap();
        assert!(file.path().is_absolute());
        file.write("apiVersion: v1\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "apiVersion: v1\n");
        drop(file);
        assert!(!path.exists());
    }

    #[test]
    fn the_default_is_a_new_file_each_time() {
        let first = KubeconfigFile::reserve(None).unwrap();
        let second = KubeconfigFile::reserve(None).unwrap();
        assert_ne!(first.path(), second.path());
        assert!(first.path().is_file() && second.path().is_file());
        let paths = (first.path().to_owned(), second.path().to_owned());
        drop((first, second));
        assert!(!paths.0.exists() && !paths.1.exists());
    }
}
