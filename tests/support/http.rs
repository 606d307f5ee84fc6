//! A minimal HTTP/1.0 client: one request per connection, every step under
//! a timeout, the response capped in size, and only ever to 127.0.0.1.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use super::IO_TIMEOUT;

/// Enough for any test page; a larger answer is an error, not a hang.
const MAX_RESPONSE: u64 = 1 << 20;

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Raw header block (status line excluded), CRLF-separated.
    pub headers: String,
    pub body: String,
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
pub fn port_open(port: u16) -> bool {
    TcpStream::connect_timeout(&addr(port), Duration::from_millis(200)).is_ok()
}

pub fn get(port: u16, path: &str) -> io::Result<Response> {
    get_within(port, path, IO_TIMEOUT)
}

/// [`get`] for a request that may wait longer for its answer (one queued in php-fpm):
/// connect and write stay under [`IO_TIMEOUT`], the read under `read_timeout`.
pub fn get_within(port: u16, path: &str, read_timeout: Duration) -> io::Result<Response> {
    let mut s = TcpStream::connect_timeout(&addr(port), IO_TIMEOUT)?;
    s.set_read_timeout(Some(read_timeout))?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    // HTTP/1.0 + Connection: close: the server ends the body by closing, so
    // no chunked decoding or keep-alive bookkeeping is needed.
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.take(MAX_RESPONSE + 1).read_to_end(&mut raw)?;
    if raw.len() as u64 > MAX_RESPONSE {
        return Err(io::Error::other(format!(
            "response larger than {MAX_RESPONSE} bytes"
        )));
    }
    parse(&raw)
}

fn parse(raw: &[u8]) -> io::Result<Response> {
    let bad = |why: &str| io::Error::new(io::ErrorKind::InvalidData, why.to_owned());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let body = String::from_utf8_lossy(&raw[split + 4..]).into_owned();
    let (status_line, headers) = head.split_once("\r\n").unwrap_or((&head, ""));
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| bad(&format!("bad status line {status_line:?}")))?;
    Ok(Response {
        status,
        headers: headers.to_owned(),
        body,
    })
}
