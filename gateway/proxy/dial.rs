//! Connecting to exactly the address the residency check chose.
//!
//! The ordinary upstream client resolves host names itself; for a residency-bound request that
//! would be a second resolution, free to return an address the check never saw. Checked requests
//! therefore go through a separate client whose connector never resolves: the chosen address
//! travels in the request URI's userinfo (`https://198.51.100.7@api.example.com/...`), the
//! connector dials that address and fails on a URI without one, and TLS (hyper-rustls) still
//! takes its server name, SNI and certificate verification from the host name.
//!
//! The address in the URI also keys the client's connection pool, so a connection opened to one
//! address is never reused for a request pinned to another. Userinfo never reaches the wire:
//! the request head is sent in origin form with the Host header the gateway set, and the client
//! speaks HTTP/1.1 only, since HTTP/2 would copy the URI authority into `:authority`.

use bytes::Bytes;
use http::Uri;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;

pub type PinnedClient = Client<HttpsConnector<PinnedDialer>, Full<Bytes>>;

/// A connector that dials the address written in the URI's userinfo, and nothing else.
#[derive(Debug, Clone)]
pub struct PinnedDialer {
    connect_timeout: Duration,
}

/// The userinfo form of an address: IPv6 colons become `-` (`2001-db8--1`).
fn encode(ip: IpAddr) -> String {
    ip.to_string().replace(':', "-")
}

/// The pinned address of a URI, if it carries one.
pub fn pinned_addr(uri: &Uri) -> Option<IpAddr> {
    let (info, _) = uri.authority()?.as_str().rsplit_once('@')?;
    info.replace('-', ":").parse().ok()
}

/// The URI with `ip` pinned into it.
pub fn pin_uri(uri: &Uri, ip: IpAddr) -> Result<Uri, String> {
    let authority = uri.authority().ok_or("the upstream URI has no authority")?;
    let host_port = authority
        .as_str()
        .rsplit_once('@')
        .map_or(authority.as_str(), |(_, hp)| hp);
    let mut parts = uri.clone().into_parts();
    parts.authority = Some(
        format!("{}@{host_port}", encode(ip))
            .parse()
            .map_err(|e| format!("pinning {ip}: {e}"))?,
    );
    Uri::from_parts(parts).map_err(|e| format!("pinning {ip}: {e}"))
}

impl tower_service::Service<Uri> for PinnedDialer {
    type Response = TokioIo<TcpStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<TokioIo<TcpStream>>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let timeout = self.connect_timeout;
        let target = pinned_addr(&uri).map(|ip| {
            let default = if uri.scheme_str() == Some("https") {
                443
            } else {
                80
            };
            SocketAddr::new(ip, uri.port_u16().unwrap_or(default))
        });
        Box::pin(async move {
            let addr = target.ok_or_else(|| {
                io::Error::other(
                    "refusing to resolve: a residency-checked request carries no pinned address",
                )
            })?;
            let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
                .await
                .map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("connecting to {addr} timed out"),
                    )
                })??;
            stream.set_nodelay(true)?;
            Ok(TokioIo::new(stream))
        })
    }
}

/// The client for pinned requests: same TLS trust as the ordinary one, HTTP/1.1 only.
pub fn client(tls: rustls::ClientConfig, connect_timeout: Duration) -> PinnedClient {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(PinnedDialer { connect_timeout });
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .build(https)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pins_round_trip_and_keep_the_host() {
        let uri: Uri = "https://api.example.com/v1/chat?x=1".parse().unwrap();
        for ip in ["198.51.100.7", "2001:db8::1", "::ffff:10.0.0.1"] {
            let ip: IpAddr = ip.parse().unwrap();
            let pinned = pin_uri(&uri, ip).unwrap();
            assert_eq!(pinned_addr(&pinned), Some(ip));
            assert_eq!(pinned.host(), Some("api.example.com"));
            assert_eq!(pinned.path_and_query().unwrap().as_str(), "/v1/chat?x=1");
            // Pinning again replaces the pin rather than stacking it.
            let again = pin_uri(&pinned, "192.0.2.1".parse().unwrap()).unwrap();
            assert_eq!(pinned_addr(&again), Some("192.0.2.1".parse().unwrap()));
        }
        assert_eq!(pinned_addr(&uri), None);
        // An IPv6 literal upstream keeps its brackets and port.
        let v6: Uri = "http://[::1]:8000/v1/models".parse().unwrap();
        let pinned = pin_uri(&v6, "::1".parse().unwrap()).unwrap();
        assert_eq!(pinned_addr(&pinned), Some("::1".parse().unwrap()));
        assert_eq!(
            (pinned.host(), pinned.port_u16()),
            (Some("[::1]"), Some(8000))
        );
    }

    #[tokio::test]
    async fn dials_the_pinned_address_and_never_resolves() {
        use tower_service::Service;
        let a = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap();
        let port = a.local_addr().unwrap().port();
        // The same port on another loopback address: whichever is dialed is the one accepting.
        let b = tokio::net::TcpListener::bind(("127.0.0.3", port))
            .await
            .unwrap();
        let mut d = PinnedDialer {
            connect_timeout: Duration::from_secs(2),
        };
        let uri: Uri = format!("http://localhost:{port}/").parse().unwrap();
        let pinned = pin_uri(&uri, "127.0.0.3".parse().unwrap()).unwrap();
        let conn = d.call(pinned).await.unwrap();
        let (_, from) = b.accept().await.unwrap();
        assert_eq!(
            conn.inner().peer_addr().unwrap().ip().to_string(),
            "127.0.0.3"
        );
        assert_eq!(
            from.ip().to_string(),
            conn.inner().local_addr().unwrap().ip().to_string()
        );
        drop(a);
        let err = d.call(uri).await.unwrap_err();
        assert!(err.to_string().contains("refusing to resolve"), "{err}");
    }
}
