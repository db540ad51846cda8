//! The DNS resolver of every guarded outbound client (web fetch, users' CalDAV servers): it
//! resolves a host name itself and hands reqwest only addresses the [`AddressPolicy`] permits.
//! The connection goes to exactly the addresses
//! checked here, so a DNS answer that changes between a check and the connect (DNS rebinding)
//! cannot slip a private address through.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::Refused;
use super::guard::AddressPolicy;

/// Resolves names and refuses hosts with any non-permitted address.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    policy: Arc<AddressPolicy>,
}

impl GuardedResolver {
    /// A resolver enforcing `policy`.
    pub fn new(policy: Arc<AddressPolicy>) -> Self {
        Self { policy }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        let host = name.as_str().to_string();
        Box::pin(async move {
            // Port 0: reqwest puts in the URL's port (or the scheme's default).
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| Refused::UnknownHost(host.clone()))?
                .collect();
            let addrs = checked(&host, addrs, &policy)?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The addresses of `host` when every one of them is permitted; a host with any refused
/// address is refused as a whole, so which record the connector tries first does not matter.
pub fn checked(
    host: &str,
    addrs: Vec<SocketAddr>,
    policy: &AddressPolicy,
) -> Result<Vec<SocketAddr>, Refused> {
    if addrs.is_empty() {
        return Err(Refused::UnknownHost(host.to_string()));
    }
    for addr in &addrs {
        policy.check(addr.ip()).map_err(|kind| Refused::Blocked {
            host: host.to_string(),
            addr: addr.ip(),
            kind,
        })?;
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sock(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 0)
    }

    #[test]
    fn a_host_with_one_private_address_among_public_ones_is_refused() {
        let policy = AddressPolicy::new(false);
        let mixed = vec![sock("93.184.216.34"), sock("10.0.0.5")];
        match checked("evil.example", mixed, &policy) {
            Err(Refused::Blocked { host, kind, .. }) => {
                assert_eq!((host.as_str(), kind), ("evil.example", "private"));
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        let public = vec![sock("93.184.216.34"), sock("2606:2800:220:1::1")];
        assert_eq!(
            checked("ok.example", public.clone(), &policy).unwrap(),
            public
        );
    }

    #[tokio::test]
    async fn localhost_is_resolved_and_refused_by_the_resolver() {
        let resolver = GuardedResolver::new(Arc::new(AddressPolicy::new(false)));
        let err = resolver
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .expect("localhost is refused");
        let err = err.downcast::<Refused>().expect("our own error type");
        assert!(matches!(
            *err,
            Refused::Blocked {
                kind: "loopback",
                ..
            }
        ));
    }

    #[tokio::test]
    async fn with_allow_private_localhost_resolves() {
        let resolver = GuardedResolver::new(Arc::new(AddressPolicy::new(true)));
        let addrs: Vec<SocketAddr> = resolver
            .resolve("localhost".parse().unwrap())
            .await
            .map_err(|e| e.to_string())
            .unwrap()
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());
    }
}
