//! What one client, or all of them together, may hold: the limits' values and their defaults,
//! and the connection gate (connections overall and per client address) that the accept loop
//! consults before a connection reaches HTTP. It does no I/O but the refusal it writes.
//! Body progress is enforced where bodies are read ([`super::next_frame`]), the lock count
//! and owner size in [`super::locks`] and the LOCK handler.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncWriteExt;

/// The limits of one server (`bosun webdav --help` lists them with these defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest wait for the next piece of a request body (then 408 and the upload is
    /// dropped), and for the client to take the next bytes of a response (then the
    /// connection is closed).
    pub body_timeout: Duration,
    /// Connections open at once, all clients together; beyond, 503.
    pub max_connections: usize,
    /// Connections open at once from one client address; beyond, 429.
    pub max_connections_per_ip: usize,
    /// Unexpired locks at once; beyond, LOCK gets 503.
    pub max_locks: usize,
    /// Largest `DAV:owner` of a LOCK request, in bytes of XML; beyond, 413.
    pub max_lock_owner: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            body_timeout: Duration::from_secs(30),
            max_connections: 512,
            max_connections_per_ip: 64,
            max_locks: 20_000,
            max_lock_owner: 4096,
        }
    }
}

/// Counts of open connections, overall and per client address.
#[derive(Debug)]
pub struct Gate {
    max: usize,
    per_ip: usize,
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// Why a connection was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Every connection slot is taken (503).
    Full,
    /// This client has all of its own (429).
    PerClient,
}

/// A connection's place in the gate, given back on drop.
#[derive(Debug)]
pub struct Slot {
    gate: Arc<Gate>,
    ip: IpAddr,
}

impl Gate {
    pub fn new(limits: &Limits) -> Arc<Gate> {
        Arc::new(Gate {
            max: limits.max_connections,
            per_ip: limits.max_connections_per_ip,
            open: Mutex::new((0, HashMap::new())),
        })
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, (usize, HashMap<IpAddr, usize>)> {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Take a slot for a connection from `ip`.
    pub fn enter(self: &Arc<Gate>, ip: IpAddr) -> Result<Slot, Refusal> {
        let mut counts = self.counts();
        let (total, by_ip) = &mut *counts;
        let mine = by_ip.get(&ip).copied().unwrap_or(0);
        if *total >= self.max {
            return Err(Refusal::Full);
        }
        if mine >= self.per_ip {
            return Err(Refusal::PerClient);
        }
        *total += 1;
        by_ip.insert(ip, mine + 1);
        Ok(Slot {
            gate: self.clone(),
            ip,
        })
    }

    /// Connections open now (overall, from `ip`).
    pub fn open(&self, ip: IpAddr) -> (usize, usize) {
        let counts = self.counts();
        (counts.0, counts.1.get(&ip).copied().unwrap_or(0))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.gate.counts();
        let (total, by_ip) = &mut *counts;
        *total = total.saturating_sub(1);
        if let Some(n) = by_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                by_ip.remove(&self.ip);
            }
        }
    }
}

/// Answer a refused connection with 503 or 429 and close it, spending at most a few seconds
/// on a client that does not read.
pub async fn refuse(mut stream: tokio::net::TcpStream, why: Refusal) {
    let head: &[u8] = match why {
        Refusal::Full => {
            b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        }
        Refusal::PerClient => {
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 5\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        stream.write_all(head).await?;
        stream.shutdown().await
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_counts_overall_and_per_client() {
        let gate = Gate::new(&Limits {
            max_connections: 3,
            max_connections_per_ip: 2,
            ..Limits::default()
        });
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let a1 = gate.enter(a).unwrap();
        let a2 = gate.enter(a).unwrap();
        assert_eq!(gate.enter(a).unwrap_err(), Refusal::PerClient);
        let b1 = gate.enter(b).unwrap();
        assert_eq!(gate.enter(b).unwrap_err(), Refusal::Full);
        drop(a1);
        assert_eq!(gate.open(a), (2, 1));
        let _a3 = gate.enter(a).unwrap();
        drop((a2, b1));
        assert_eq!(gate.open(b), (1, 0));
    }
}
