//! The lanes' tests: each path of the fan-out (io_uring and `writev`) and the task's own writes.

use super::*;
use crate::event::Scope;
use std::future::poll_fn;
use tokio::io::AsyncReadExt;

/// The payloads of the text frames in `bytes`, as far as they are whole.
fn frames(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    while bytes.len() >= at + 2 {
        assert_eq!(bytes[at], 0x81, "a frame starts at byte {at}");
        let (len, head) = match bytes[at + 1] {
            126 if bytes.len() >= at + 4 => (usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]])), 4),
            127 if bytes.len() >= at + 10 => {
                let len = u64::from_be_bytes(bytes[at + 2..at + 10].try_into().unwrap());
                (usize::try_from(len).unwrap(), 10)
            }
            127 => break,
            126 => break,
            n => (usize::from(n), 2),
        };
        let Some(payload) = bytes.get(at + head..at + head + len) else {
            break;
        };
        out.push(payload);
        at += head + len;
    }
    out
}

/// Writes a text frame `ok` of the connection's own, and all before it.
async fn write_ok(lane: &Lane) {
    loop {
        poll_fn(|cx| lane.poll_flush(cx)).await.unwrap();
        if lane.write_frames(&[(OP_TEXT, b"ok")]).unwrap() == 1 {
            break;
        }
        lane.tcp.writable().await.unwrap();
    }
    poll_fn(|cx| lane.poll_flush(cx)).await.unwrap();
}

/// A lane whose socket takes 4 KiB or so unread, and its client end.
async fn small_socket() -> (Arc<Lane>, TcpStream) {
    socket("me", Some(4096)).await
}

/// A lane of a connection named `origin`, its send buffer `sndbuf` bytes
/// (or the system's), and its client end.
async fn socket(origin: &str, sndbuf: Option<usize>) -> (Arc<Lane>, TcpStream) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    if let Some(size) = sndbuf {
        socket2::SockRef::from(&server).set_send_buffer_size(size).unwrap();
    }
    (Lane::new(server, origin.into()), client)
}

/// What `client` reads up to and with a text frame `ok`.
async fn read_to_ok(mut client: TcpStream) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut chunk = vec![0; 65536];
    while frames(&bytes).last() != Some(&&b"ok"[..]) {
        let n = client.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the socket closed");
        bytes.extend_from_slice(&chunk[..n]);
    }
    bytes
}

/// A way the fan-out writes: one `writev` per socket, or io_uring with
/// submissions of `room` sends at most.
#[derive(Clone, Copy, Debug)]
enum Path {
    Writev,
    Uring(usize),
}

/// Both paths; io_uring only where this machine allows it (it says so when not).
fn paths() -> Vec<Path> {
    match uring::probe() {
        Ok(()) => vec![Path::Writev, Path::Uring(uring::ROOM), Path::Uring(2)],
        Err(e) => {
            eprintln!("io_uring refused here ({e}): the fan-out's io_uring path is not tested");
            vec![Path::Writev]
        }
    }
}

/// One delivery round of `events` to `lanes` by `path`; how many frames it wrote.
fn deliver(path: Path, lanes: &[Arc<Lane>], events: &[Arc<Event>]) -> u64 {
    let round = Round::new(events);
    match path {
        Path::Writev => {
            let mut slices = Vec::new();
            lanes
                .iter()
                .map(|lane| lane.deliver::<BURST>(&round, &mut slices))
                .sum()
        }
        Path::Uring(room) => uring::deliver::<BURST>(lanes.iter(), &round, room).expect("this thread's ring"),
    }
}

/// Makes `lane` direct, subscribed to everything; the hub's sender for it.
fn direct(lane: &Lane) -> broadcast::Sender<Fed> {
    lane.lock().filter.add("*");
    let (tx, rx) = broadcast::channel(1024);
    let mut feed = Feed {
        rx: Some(rx),
        last: Offset::ZERO,
        epoch: String::new(),
    };
    assert!(lane.go_direct(&mut feed).is_none());
    tx
}

/// Events 1..=count of another connection, each with `pad` bytes of padding.
fn events(count: u64, pad: usize) -> Vec<Arc<Event>> {
    let pad = "x".repeat(pad);
    (1..=count)
        .map(|n| {
            let payload = format!(r#"{{"n":{n},"pad":"{pad}"}}"#);
            Event::new(Offset { ms: n, seq: 0 }, "app.x", &payload, Scope::All, "other".into()).unwrap()
        })
        .collect()
}

/// Sends `events` to the receivers first, as the hub does.
fn send(tx: &broadcast::Sender<Fed>, events: &[Arc<Event>]) {
    for event in events {
        tx.send(Fed::Event(event.clone())).unwrap();
    }
}

#[tokio::test]
async fn a_frame_the_socket_takes_in_part_is_finished_before_anything_else() {
    for path in paths() {
        let (lane, client) = small_socket().await;
        let tx = direct(&lane);
        // Frames of 20 KB to a client that reads nothing yet: the socket fills.
        let events = events(64, 20_000);
        send(&tx, &events);
        let wrote = deliver(path, std::slice::from_ref(&lane), &events);
        // Some were written, and the last of them only in part: the task has the connection back.
        assert!(wrote > 0 && wrote < 64, "{path:?}: {wrote}");
        assert!(!lane.lock().direct && lane.lock().rest.is_some(), "{path:?}");
        assert_eq!(lane.lock().last, events[wrote as usize - 1].offset, "{path:?}");
        // A frame of the task's own goes after the rest of that one.
        let reader = tokio::spawn(read_to_ok(client));
        write_ok(&lane).await;
        let bytes = reader.await.unwrap();
        let got = frames(&bytes);
        // Every frame whole, in order, the task's last.
        assert_eq!(got.len() as u64, wrote + 1, "{path:?}");
        for (event, frame) in events.iter().zip(&got[..got.len() - 1]) {
            assert_eq!(*frame, event.frame.as_bytes(), "{path:?}");
        }
    }
}

/// The bytes `tcp` holds not yet taken by its peer (`SIOCOUTQ`).
fn unsent(tcp: &TcpStream) -> i32 {
    use std::os::fd::AsRawFd;
    let mut n: libc::c_int = 0;
    // SAFETY: SIOCOUTQ writes one int.
    assert_eq!(unsafe { libc::ioctl(tcp.as_raw_fd(), libc::TIOCOUTQ, &mut n) }, 0);
    n
}

#[tokio::test]
async fn a_full_socket_goes_back_to_its_task_with_nothing_written() {
    for path in paths() {
        let (lane, _client) = small_socket().await;
        // The socket fills (its client reads nothing): frames of the
        // connection's own taken in part, their rests set aside (so nothing
        // waits to be written first: the socket is full, that is all),
        // until it takes nothing at all.
        let big = "y".repeat(1 << 20);
        while lane.write_text(&big) != Sent::Not {
            lane.lock().rest = None;
        }
        let before = unsent(&lane.tcp);
        let tx = direct(&lane);
        let events = events(3, 10);
        send(&tx, &events);
        assert_eq!(deliver(path, std::slice::from_ref(&lane), &events), 0, "{path:?}");
        // Not a byte of them went to the socket.
        assert_eq!(unsent(&lane.tcp), before, "{path:?}");
        // Back with its task, from where it was: the receiver still holds the three.
        {
            let inner = lane.lock();
            assert!(
                !inner.direct && inner.rest.is_none() && inner.last == Offset::ZERO,
                "{path:?}"
            );
        }
        let (last, rx) = poll_fn(|cx| lane.poll_given_back(cx)).await;
        assert_eq!((last, rx.map(|rx| rx.len())), (Offset::ZERO, Some(3)), "{path:?}");
    }
}

#[tokio::test]
async fn a_socket_the_client_reset_goes_back_to_its_task() {
    for path in paths() {
        let (lane, client) = small_socket().await;
        // Positive control: this lane takes a frame while its client is there.
        let tx = direct(&lane);
        let first = events(2, 10);
        send(&tx, &first[..1]);
        assert_eq!(deliver(path, std::slice::from_ref(&lane), &first[..1]), 1, "{path:?}");
        assert!(lane.lock().direct, "{path:?}");
        // The client goes with a reset; the next send fails.
        socket2::SockRef::from(&client)
            .set_linger(Some(std::time::Duration::ZERO))
            .unwrap();
        drop(client);
        // Wait for the reset to arrive: a read finds it.
        let mut buf = [0u8; 64];
        loop {
            lane.tcp.readable().await.unwrap();
            match lane.tcp.try_read(&mut buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Ok(n) if n > 0 => {}
                _ => break,
            }
        }
        send(&tx, &first[1..]);
        assert_eq!(deliver(path, std::slice::from_ref(&lane), &first[1..]), 0, "{path:?}");
        let inner = lane.lock();
        assert!(
            !inner.direct && inner.rest.is_none() && inner.last == first[0].offset,
            "{path:?}"
        );
    }
}

#[tokio::test]
async fn every_lane_gets_its_events_whole_and_in_order_over_several_bursts() {
    for path in paths() {
        // Five connections: two see only `app.y` (every third event), the last is the events' origin.
        let mut pairs = Vec::new();
        for origin in ["me", "me", "me", "me", "other"] {
            pairs.push(socket(origin, None).await);
        }
        let lanes: Vec<Arc<Lane>> = pairs.iter().map(|(lane, _)| lane.clone()).collect();
        let senders: Vec<_> = lanes.iter().map(|lane| direct(lane)).collect();
        for lane in &lanes[..2] {
            let mut inner = lane.lock();
            inner.filter = Filter::default();
            inner.filter.add("app.y");
        }
        // 100 small events (bursts of 32), every third one `app.y`.
        let events: Vec<_> = (1..=100u64)
            .map(|n| {
                let name = if n % 3 == 0 { "app.y" } else { "app.x" };
                Event::new(
                    Offset { ms: n, seq: 0 },
                    name,
                    &format!(r#"{{"n":{n}}}"#),
                    Scope::All,
                    "other".into(),
                )
                .unwrap()
            })
            .collect();
        for tx in &senders {
            send(tx, &events);
        }
        let wrote = deliver(path, &lanes, &events);
        assert_eq!(wrote, 2 * 33 + 2 * 100, "{path:?}");
        for (i, (lane, client)) in pairs.into_iter().enumerate() {
            {
                let inner = lane.lock();
                assert!(inner.direct && inner.last == events[99].offset, "{path:?} lane {i}");
            }
            let want: Vec<&[u8]> = events
                .iter()
                .filter(|e| i < 4 && (i >= 2 || &*e.name == "app.y"))
                .map(|e| e.frame.as_bytes())
                .collect();
            let reader = tokio::spawn(read_to_ok(client));
            // The task takes over to write its own frame.
            lane.take_back();
            write_ok(&lane).await;
            let bytes = reader.await.unwrap();
            let got = frames(&bytes);
            assert_eq!(got[..got.len() - 1], want[..], "{path:?} lane {i}");
        }
    }
}

#[tokio::test]
async fn a_text_frame_of_its_own_the_socket_takes_in_part_is_finished_on_the_flush() {
    let (lane, client) = small_socket().await;
    // One that fits, then one the socket cannot take whole (the client reads nothing yet).
    assert_eq!(lane.write_text("hi"), Sent::Whole);
    let big = "y".repeat(1 << 20);
    assert_eq!(lane.write_text(&big), Sent::Partly);
    // While a rest waits, nothing else is written straight.
    assert_eq!(lane.write_text("later"), Sent::Not);
    let reader = tokio::spawn(read_to_ok(client));
    write_ok(&lane).await;
    let bytes = reader.await.unwrap();
    let got = frames(&bytes);
    assert_eq!(got, [&b"hi"[..], big.as_bytes(), b"ok"]);
}

#[test]
fn headers_of_every_length_class() {
    assert_eq!(text_header(5).0[..2], [0x81, 5]);
    assert_eq!(text_header(125).1, 2);
    assert_eq!(text_header(126).0[..4], [0x81, 126, 0, 126]);
    assert_eq!(text_header(65_535).1, 4);
    assert_eq!(text_header(65_536).0[..10], [0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
}
