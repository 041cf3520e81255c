//! A raw HTTP/1.1 client over plain TCP, for what a well-behaved client cannot send or does not
//! need: the harness's control requests, the malformed requests of the bad-input table, chunked
//! bodies past a limit. One request per connection (`Connection: close`).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

/// A request ready to write, byte for byte as it goes on the wire.
#[derive(Clone, Debug, Default)]
pub struct Wire {
    /// The request line and headers, with the blank line that ends them.
    pub head: Vec<u8>,
    /// What follows the head (already chunked, if it is).
    pub body: Vec<u8>,
    /// Whether to close the write side after the body (so a server waiting for more sees the end).
    pub half_close: bool,
}

/// An answer: status, headers (lower-case names, trimmed values), body (de-chunked).
#[derive(Debug)]
pub struct Answer {
    /// The status line's code.
    pub status: u16,
    /// Every header, in order.
    pub headers: Vec<(String, String)>,
    /// The body; empty for `HEAD`, 204 and 304.
    pub body: Vec<u8>,
}

impl Answer {
    /// The first value of the header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `wire` over a connection of its own to `addr` and reads the answer (`head_only`: the
/// request was a `HEAD`, so no body follows). The request is written on a second thread while
/// this one reads, so a server that answers without reading a large body (413) cannot deadlock
/// the exchange; a server closing before everything is written is not an error here.
pub fn exchange(
    addr: SocketAddr,
    wire: Wire,
    head_only: bool,
    timeout: Duration,
) -> Result<Answer, String> {
    let stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect: {e}"))?;
    let timeouts = stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)));
    timeouts.map_err(|e| format!("timeouts: {e}"))?;
    let mut writer = stream.try_clone().map_err(|e| format!("clone: {e}"))?;
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all(&wire.head);
        let _ = writer.write_all(&wire.body);
        if wire.half_close {
            let _ = writer.shutdown(Shutdown::Write);
        }
    });
    let answer = read_answer(&stream, head_only);
    let _ = stream.shutdown(Shutdown::Both);
    let _ = sender.join();
    answer
}

/// One well-formed request with a `Content-Length` body: (status, body).
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
    timeout: Duration,
) -> Result<(u16, Vec<u8>), String> {
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let wire = Wire {
        head: head.into_bytes(),
        body: body.to_vec(),
        half_close: false,
    };
    exchange(addr, wire, method == "HEAD", timeout).map(|a| (a.status, a.body))
}

fn read_answer(mut stream: &TcpStream, head_only: bool) -> Result<Answer, String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let mut read_more = |buf: &mut Vec<u8>| -> Result<bool, String> {
        match stream.read(&mut chunk) {
            Ok(0) => Ok(false),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                Ok(true)
            }
            Err(e) => Err(e.to_string()),
        }
    };
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        match read_more(&mut buf) {
            Ok(true) => {}
            Ok(false) => return Err(format!("closed without an answer ({} bytes)", buf.len())),
            Err(e) => return Err(format!("no answer: {e} ({} bytes)", buf.len())),
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status line: {head:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = buf[end + 4..].to_vec();
    if head_only || status == 204 || status == 304 {
        return Ok(Answer {
            status,
            headers,
            body: Vec::new(),
        });
    }
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    if let Some(len) = get("content-length").and_then(|v| v.parse::<usize>().ok()) {
        while body.len() < len {
            match read_more(&mut body) {
                Ok(true) => {}
                _ => return Err(format!("body cut short: {} of {len} bytes", body.len())),
            }
        }
        body.truncate(len);
    } else if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        while !body.ends_with(b"0\r\n\r\n") {
            match read_more(&mut body) {
                Ok(true) => {}
                _ => return Err("chunked body cut short".to_owned()),
            }
        }
        body = dechunk(&body)?;
    } else {
        // Delimited by the end of the connection (`Connection: close` was asked for).
        while let Ok(true) = read_more(&mut body) {}
    }
    Ok(Answer {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("bad chunk")?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(data.get(..size).ok_or("short chunk")?);
        data = data.get(size + 2..).ok_or("short chunk")?;
    }
}

/// `body` in chunks of at most `size` bytes, with the last, empty chunk.
pub fn chunked(body: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in body.chunks(size) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// Sends a chunked request with no Content-Length, `total` bytes in 1 KiB chunks, and returns
/// the status line's code: the receiver (Worker or `hookline dev`) must stop reading at its limit.
/// The chunks are written one by one (not built up front) so that a server which answers and
/// closes early stops the sending.
pub fn chunked_post(url: &str, total: usize) -> u16 {
    let rest = url.strip_prefix("http://").expect("chunked_post");
    let (addr, path) = rest.split_once('/').expect("chunked_post");
    let mut stream = TcpStream::connect(addr).expect("chunked_post");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("chunked_post");
    let head = format!(
        "POST /{path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).expect("chunked_post");
    let chunk = vec![b'x'; 1024];
    let mut sent = 0;
    while sent < total {
        // The server may answer and close before everything is sent.
        if stream.write_all(b"400\r\n").is_err()
            || stream.write_all(&chunk).is_err()
            || stream.write_all(b"\r\n").is_err()
        {
            break;
        }
        sent += chunk.len();
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    // Only the status line matters: read until the end of the head.
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        response.extend_from_slice(&buf[..n]);
        if response.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace()
        .nth(1)
        .expect("chunked_post")
        .parse()
        .expect("chunked_post")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_round_trip() {
        let body: Vec<u8> = (0..=255u8).cycle().take(2500).collect();
        let wire = chunked(&body, 1024);
        assert!(wire.starts_with(b"400\r\n"));
        assert!(wire.ends_with(b"\r\n0\r\n\r\n"));
        assert_eq!(dechunk(&wire).unwrap(), body);
        assert_eq!(chunked(b"", 1024), b"0\r\n\r\n");
        assert!(dechunk(b"zz\r\nabc\r\n0\r\n\r\n").is_err());
    }

    #[test]
    fn a_request_gets_its_answer_from_a_loopback_server() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 1024];
            while !got.ends_with(b"hello") {
                let n = s.read(&mut buf).unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            s.write_all(b"HTTP/1.1 201 Created\r\nX-A: b\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")
                .unwrap();
            got
        });
        let (status, body) = request(addr, "PUT", "/x", b"hello", Duration::from_secs(5)).unwrap();
        assert_eq!((status, body.as_slice()), (201, b"ok".as_slice()));
        let sent = String::from_utf8(server.join().unwrap()).unwrap();
        assert!(sent.starts_with("PUT /x HTTP/1.1\r\n"), "{sent}");
        assert!(sent.contains("Content-Length: 5\r\n"), "{sent}");
    }
}
