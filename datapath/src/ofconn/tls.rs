//! TLS for OpenFlow connections (`ssl:` and `pssl:` targets), as Open
//! vSwitch does it.
//!
//! Authentication is mutual: each side presents the certificate of
//! `--certificate` (signed with `--private-key`) and accepts the other side
//! only if the other's certificate chains to a CA certificate of `--ca-cert`.
//! A peer without such a certificate is refused inside the TLS handshake, so
//! it never exchanges an OpenFlow byte with us; the refusal is logged with
//! the reason ([`describe_handshake_error`]).
//!
//! Our own certificate need not be signed by the CA of `--ca-cert`: ovs-pki
//! keeps two CAs (switches' certificates are signed by `switchca`, a switch
//! trusts `controllerca`), and that layout must work.
//!
//! Host names are not checked, on purpose and as OVS does not: the CA is the
//! trust boundary (whoever holds a certificate it signed belongs to this
//! deployment), controllers are mostly addressed by IP, and the certificates
//! ovs-pki makes name a switch or controller in their subject, carrying no
//! subjectAltName at all — checking names would refuse every one of them.
//! [`CaChainVerifier`] therefore does what rustls's WebPKI verifier does minus
//! the name check: chain, validity period, key usage, signatures.
//!
//! rustls with the `ring` provider: pure Rust apart from ring's own small C
//! and assembly, so no OpenSSL headers and no cmake at build time.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::{ParsedCertificate, WebPkiClientVerifier};
use rustls::{
    AlertDescription, CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore,
    ServerConfig, SignatureScheme,
};
use std::fmt;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The three files of an `ssl:`/`pssl:` identity, named as OVS names them
/// (`--private-key`, `--certificate`, `--ca-cert`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC).
    pub private_key: PathBuf,
    /// PEM certificate for that key, optionally followed by its chain.
    pub certificate: PathBuf,
    /// PEM CA certificate(s) a peer's certificate must chain to.
    pub ca_cert: PathBuf,
}

/// A TLS setting that cannot be used; the message names the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsError(pub String);

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsError {}

/// Loaded TLS identity and trust: makes client and server sessions.
#[derive(Clone)]
pub struct TlsContext {
    client: Arc<ClientConfig>,
    server: Arc<ServerConfig>,
    files: TlsFiles,
}

impl fmt::Debug for TlsContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TlsContext(certificate {}, CA {})",
            self.files.certificate.display(),
            self.files.ca_cert.display()
        )
    }
}

fn read_pem(path: &Path, what: &str) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError(format!("{what} {}: {e}", path.display())))
}

fn read_certs(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read_pem(path, what)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError(format!("{what} {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(TlsError(format!(
            "{what} {}: no PEM 'CERTIFICATE' block in the file",
            path.display()
        )));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read_pem(path, "private key")?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        let why = match e {
            rustls::pki_types::pem::Error::NoItemsFound => {
                "no PEM private key in the file (expected 'PRIVATE KEY', \
                 'RSA PRIVATE KEY' or 'EC PRIVATE KEY')"
                    .to_string()
            }
            e => e.to_string(),
        };
        TlsError(format!("private key {}: {why}", path.display()))
    })
}

impl TlsContext {
    /// Reads and checks the three files: each must hold what it should, and
    /// the key must belong to the certificate.
    pub fn load(files: &TlsFiles) -> Result<TlsContext, TlsError> {
        let key = read_key(&files.private_key)?;
        let certs = read_certs(&files.certificate, "certificate")?;
        let ca = read_certs(&files.ca_cert, "CA certificate")?;
        let ca_path = files.ca_cert.display();
        let mut roots = RootCertStore::empty();
        for c in ca {
            roots
                .add(c)
                .map_err(|e| TlsError(format!("CA certificate {ca_path}: {e}")))?;
        }
        let roots = Arc::new(roots);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mismatch = |e: rustls::Error| {
            TlsError(format!(
                "private key {} and certificate {} do not go together: {e}",
                files.private_key.display(),
                files.certificate.display()
            ))
        };

        // Server side (pssl:): a client certificate is required.
        let client_verifier =
            WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
                .build()
                .map_err(|e| TlsError(format!("CA certificate {ca_path}: {e}")))?;
        let server = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError(e.to_string()))?
            .with_client_cert_verifier(client_verifier)
            .with_single_cert(certs.clone(), key.clone_key())
            .map_err(mismatch)?;

        // Client side (ssl:, and the CLI): we always present our certificate.
        let server_verifier = Arc::new(CaChainVerifier {
            roots,
            algs: provider.signature_verification_algorithms,
        });
        let client = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(server_verifier)
            .with_client_auth_cert(certs, key)
            .map_err(mismatch)?;
        Ok(TlsContext {
            client: Arc::new(client),
            server: Arc::new(server),
            files: files.clone(),
        })
    }

    /// The files this context was loaded from.
    pub fn files(&self) -> &TlsFiles {
        &self.files
    }

    /// Runs the client handshake over `stream`, connected to `host` at
    /// `peer`. The name goes out as SNI when it is a DNS name; it is never
    /// checked against the certificate.
    pub async fn connect<S>(&self, host: &str, peer: IpAddr, stream: S) -> io::Result<TlsStream<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let name = match host.parse::<IpAddr>() {
            Ok(ip) => ServerName::IpAddress(ip.into()),
            Err(_) => {
                ServerName::try_from(host.to_string()).unwrap_or(ServerName::IpAddress(peer.into()))
            }
        };
        let s = tokio_rustls::TlsConnector::from(self.client.clone())
            .connect(name, stream)
            .await?;
        Ok(TlsStream(s.into()))
    }

    /// Runs the server handshake over `stream`; fails unless the client
    /// presents a certificate that chains to the CA.
    pub async fn accept<S>(&self, stream: S) -> io::Result<TlsStream<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let s = tokio_rustls::TlsAcceptor::from(self.server.clone())
            .accept(stream)
            .await?;
        Ok(TlsStream(s.into()))
    }
}

/// An established TLS stream (either side). A peer that closes without
/// TLS's close_notify reads as a plain end of stream, as with OVS: many
/// OpenFlow peers just close the socket, and truncation cannot go unnoticed
/// anyway since every OpenFlow message carries its length.
pub struct TlsStream<S>(tokio_rustls::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.0).poll_read(cx, buf) {
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => Poll::Ready(Ok(())),
            other => other,
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}

/// Verifies a server's certificate chain against the CA without checking
/// its name (see the module docs for why).
#[derive(Debug)]
struct CaChainVerifier {
    roots: Arc<RootCertStore>,
    algs: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for CaChainVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let cert = ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &cert,
            &self.roots,
            intermediates,
            now,
            self.algs.all,
        )?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// Whether `e` is a TLS failure (rather than a socket error).
pub fn is_tls_error(e: &io::Error) -> bool {
    e.get_ref()
        .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
}

/// A TLS failure said so an operator can act on it: `the peer's
/// certificate is not signed by our CA (--ca-cert) (invalid peer
/// certificate: UnknownIssuer)`. Other errors are returned as they read.
pub fn describe_tls_error(e: &io::Error) -> String {
    let Some(tls) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    else {
        return match e.kind() {
            io::ErrorKind::UnexpectedEof => "the peer closed the connection \
                 (it may have refused our certificate, or not speak TLS)"
                .into(),
            _ => e.to_string(),
        };
    };
    let hint = match tls {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer | CertificateError::BadSignature => {
                Some("the peer's certificate is not signed by our CA (--ca-cert)")
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                Some("the peer's certificate has expired")
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                Some("the peer's certificate is not valid yet (check the clocks)")
            }
            _ => None,
        },
        rustls::Error::NoCertificatesPresented => Some("the peer presented no certificate"),
        rustls::Error::AlertReceived(
            AlertDescription::BadCertificate
            | AlertDescription::UnknownCA
            | AlertDescription::CertificateRequired
            | AlertDescription::CertificateUnknown
            | AlertDescription::UnsupportedCertificate,
        ) => Some("the peer refused our certificate"),
        rustls::Error::InvalidMessage(_) => {
            Some("the peer does not speak TLS (plain tcp: on the other end?)")
        }
        _ => None,
    };
    match hint {
        Some(h) => format!("{h} ({tls})"),
        None => tls.to_string(),
    }
}

/// [`describe_tls_error`] for a failed handshake: `TLS handshake failed: …`.
pub fn describe_handshake_error(e: &io::Error) -> String {
    format!("TLS handshake failed: {}", describe_tls_error(e))
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
