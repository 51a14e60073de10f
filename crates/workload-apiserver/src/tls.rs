//! The cluster's certificate authority and the API server's serving certificate.
//!
//! EKS generates one CA per cluster and returns it base64-encoded as `certificateAuthority.data`
//! (<https://docs.aws.amazon.com/eks/latest/APIReference/API_Certificate.html>); the API server's certificate
//! is signed by it. Here the serving certificate names `127.0.0.1` and `localhost`, the only addresses a
//! local cluster is reached at.

use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Why the certificates could not be made or loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rcgen refused the parameters or a stored key.
    #[error("certificate generation: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the certificate or key.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// Reading or writing the state directory failed.
    #[error("CA files in the state directory: {0}")]
    Io(#[from] std::io::Error),
}

/// The CA of one cluster (its key stays in memory and in the state directory only).
pub struct ClusterCa {
    cert_pem: String,
    key: KeyPair,
}

const CA_CERT_FILE: &str = "ca.crt";
const CA_KEY_FILE: &str = "ca.key";

fn ca_params(cluster_name: &str) -> Result<CertificateParams, rcgen::Error> {
    // kubeadm and EKS name the cluster CA "kubernetes"; the cluster name is kept for people reading it.
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, "kubernetes");
    params
        .distinguished_name
        .push(DnType::OrganizationalUnitName, cluster_name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2034, 1, 1);
    Ok(params)
}

impl ClusterCa {
    /// Loads the CA from `state_dir` when it holds one, else generates one (and stores it there when given).
    pub fn load_or_generate(cluster_name: &str, state_dir: Option<&Path>) -> Result<Self, TlsError> {
        if let Some(dir) = state_dir {
            let (cert, key) = (dir.join(CA_CERT_FILE), dir.join(CA_KEY_FILE));
            if cert.is_file() && key.is_file() {
                let key = KeyPair::from_pem(&std::fs::read_to_string(key)?)?;
                return Ok(Self {
                    cert_pem: std::fs::read_to_string(cert)?,
                    key,
                });
            }
        }
        let key = KeyPair::generate()?;
        let cert_pem = ca_params(cluster_name)?.self_signed(&key)?.pem();
        if let Some(dir) = state_dir {
            std::fs::create_dir_all(dir)?;
            std::fs::write(dir.join(CA_CERT_FILE), &cert_pem)?;
            std::fs::write(dir.join(CA_KEY_FILE), key.serialize_pem())?;
        }
        Ok(Self { cert_pem, key })
    }

    /// The CA certificate in PEM.
    pub fn pem(&self) -> &str {
        &self.cert_pem
    }

    /// `certificateAuthority.data` as EKS returns it: base64 of the PEM.
    pub fn data(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.cert_pem)
    }

    /// A rustls server configuration with a fresh serving certificate for `127.0.0.1` and `localhost`
    /// signed by this CA (HTTP/1.1 only: kubectl and kube-rs fall back to it when ALPN offers nothing else).
    pub fn server_config(&self, cluster_name: &str) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let issuer = Issuer::new(ca_params(cluster_name)?, &self.key);
        let mut params = CertificateParams::new(vec![
            "127.0.0.1".to_owned(),
            "localhost".to_owned(),
            "kubernetes".to_owned(),
            "kubernetes.default.svc".to_owned(),
        ])?;
        params
            .distinguished_name
            .push(DnType::CommonName, "kube-apiserver");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        params.not_after = rcgen::date_time_ymd(2034, 1, 1);
        let serving_key = KeyPair::generate()?;
        let serving = params.signed_by(&serving_key, &issuer)?;
        let chain = vec![serving.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(serving_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// The CA as a rustls trust anchor source (tests and clients of this crate).
    pub fn der(&self) -> Option<CertificateDer<'static>> {
        let body: String = self
            .cert_pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .ok()
            .map(CertificateDer::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_ca_is_reused_and_signs_a_serving_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let first = ClusterCa::load_or_generate("demo", Some(dir.path())).unwrap();
        let second = ClusterCa::load_or_generate("demo", Some(dir.path())).unwrap();
        assert_eq!(first.pem(), second.pem());
        assert!(first.pem().starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(second.server_config("demo").is_ok());
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(first.data())
            .unwrap();
        assert_eq!(decoded, first.pem().as_bytes());
        assert!(first.der().is_some());
    }
}
