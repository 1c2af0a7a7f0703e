//! A TCP proxy on loopback that can break connections part-way through a response, to test sync
//! over connections that drop.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

/// A proxy in front of a server.
pub struct Proxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    cuts: Arc<Mutex<VecDeque<usize>>>,
}

impl Proxy {
    /// Starts forwarding loopback connections to `upstream`.
    pub fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("free port");
        let addr = listener.local_addr().expect("address");
        let cuts: Arc<Mutex<VecDeque<usize>>> = Arc::default();
        let shared = cuts.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let cut = shared.lock().map(|mut c| c.pop_front()).unwrap_or(None);
                thread::spawn(move || forward(client, upstream, cut));
            }
        });
        Proxy { addr, cuts }
    }

    /// The base URL to give clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next `connections` connections pass on only the first `after_bytes` bytes of what the
    /// server sends, then both sides are closed: the request reached the server, the answer never
    /// fully reached the client.
    pub fn cut_next(&self, connections: usize, after_bytes: usize) {
        if let Ok(mut cuts) = self.cuts.lock() {
            cuts.extend(std::iter::repeat_n(after_bytes, connections));
        }
    }
}

impl Proxy {
    /// Lets every later connection through whole again.
    pub fn heal(&self) {
        if let Ok(mut cuts) = self.cuts.lock() {
            cuts.clear();
        }
    }
}

fn forward(client: TcpStream, upstream: SocketAddr, cut: Option<usize>) {
    let Ok(server) = TcpStream::connect(upstream) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let (Ok(mut client_read), Ok(mut server_write)) = (client.try_clone(), server.try_clone())
    else {
        return;
    };
    thread::spawn(move || {
        let _ = std::io::copy(&mut client_read, &mut server_write);
        let _ = server_write.shutdown(Shutdown::Write);
    });
    let (mut server_read, mut client_write) = (server, client);
    let mut passed = 0usize;
    let mut buffer = [0u8; 8192];
    loop {
        let n = match server_read.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let allowed = cut.map_or(n, |limit| n.min(limit.saturating_sub(passed)));
        if client_write.write_all(&buffer[..allowed]).is_err() {
            break;
        }
        passed += allowed;
        if allowed < n {
            break;
        }
    }
    let _ = client_write.shutdown(Shutdown::Both);
    let _ = server_read.shutdown(Shutdown::Both);
}
