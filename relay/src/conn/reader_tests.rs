//! The frame reader on bytes as a client sends them, whole or in pieces.

use super::*;

const LIMIT: usize = 1000;

/// A client frame: `fin`, `opcode`, masked with a key that changes every byte.
fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    let mut out = vec![u8::from(fin) << 7 | opcode];
    match payload.len() {
        n @ 0..=125 => out.push(0x80 | n as u8),
        n @ 126..=65535 => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
    out
}

/// What a reader makes of `reads`, one after the other: every frame, then
/// the close it refused with, if any.
fn read_all(reads: &[&[u8]]) -> (Vec<Frame>, Option<Close>, Reader) {
    let mut reader = Reader::default();
    let mut frames = Vec::new();
    for bytes in reads {
        let mut got = reader.take(bytes, LIMIT);
        loop {
            match got {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => break,
                Err(close) => return (frames, Some(close), reader),
            }
            got = reader.held_frame(LIMIT);
        }
    }
    (frames, None, reader)
}

fn text(s: &str) -> Frame {
    Frame::Text(s.into())
}

#[test]
fn a_whole_frame_is_read_and_nothing_is_held_after_it() {
    let (frames, close, reader) = read_all(&[&frame(true, OP_TEXT, b"{\"type\":\"ping\"}")]);
    assert_eq!(frames, [text("{\"type\":\"ping\"}")]);
    assert!(close.is_none());
    assert!(reader.partial.is_none(), "an idle connection holds no buffer");
}

#[test]
fn several_frames_in_one_read_come_out_one_by_one() {
    let bytes = [
        frame(true, OP_TEXT, b"a"),
        frame(true, OP_PONG, b""),
        frame(true, OP_TEXT, b"b"),
    ]
    .concat();
    let (frames, close, reader) = read_all(&[&bytes]);
    assert_eq!(frames, [text("a"), Frame::Pong, text("b")]);
    assert!(close.is_none() && reader.partial.is_none());
}

#[test]
fn a_frame_split_across_reads_at_every_byte() {
    // Long enough for a 16-bit length, so the header itself is split too.
    let payload = "é".repeat(100);
    let bytes = [frame(true, OP_TEXT, payload.as_bytes()), frame(true, OP_TEXT, b"next")].concat();
    for cut in 1..bytes.len() {
        let (frames, close, reader) = read_all(&[&bytes[..cut], &bytes[cut..]]);
        assert_eq!(frames, [text(&payload), text("next")], "cut at {cut}");
        assert!(close.is_none() && reader.partial.is_none(), "cut at {cut}");
    }
    let one_by_one: Vec<&[u8]> = bytes.chunks(1).collect();
    assert_eq!(read_all(&one_by_one).0, [text(&payload), text("next")]);
}

#[test]
fn a_fragmented_message_is_joined() {
    // A character split between two fragments is valid once joined.
    let bytes = [
        frame(false, OP_TEXT, b"{\"a\":\"\xc3"),
        frame(false, OP_CONTINUATION, b"\xa9"),
        frame(true, OP_CONTINUATION, b"\"}"),
    ]
    .concat();
    let (frames, close, reader) = read_all(&[&bytes]);
    assert_eq!(frames, [text("{\"a\":\"é\"}")]);
    assert!(close.is_none() && reader.partial.is_none());
    // The same, a few bytes per read.
    let pieces: Vec<&[u8]> = bytes.chunks(3).collect();
    assert_eq!(read_all(&pieces).0, [text("{\"a\":\"é\"}")]);
}

#[test]
fn control_frames_in_the_middle_of_a_fragmented_message() {
    let bytes = [
        frame(false, OP_TEXT, b"hel"),
        frame(true, OP_PING, b"are you there"),
        frame(false, OP_CONTINUATION, b"l"),
        frame(true, OP_PONG, b""),
        frame(true, OP_CONTINUATION, b"o"),
    ]
    .concat();
    let (frames, close, _) = read_all(&[&bytes]);
    assert_eq!(
        frames,
        [Frame::Ping(b"are you there"[..].into()), Frame::Pong, text("hello")]
    );
    assert!(close.is_none());
}

fn refused(bytes: &[u8]) -> Close {
    let (_, close, _) = read_all(&[bytes]);
    close.expect("refused")
}

#[test]
fn an_unmasked_client_frame_is_refused_with_1002() {
    // A positive control: the same frame masked is read.
    assert_eq!(read_all(&[&frame(true, OP_TEXT, b"hi")]).0, [text("hi")]);
    let mut unmasked = vec![0x81, 2];
    unmasked.extend_from_slice(b"hi");
    let close = refused(&unmasked);
    assert_eq!(close.code, CLOSE_PROTOCOL);
    assert!(close.reason.contains("masked"), "{}", close.reason);
}

#[test]
fn protocol_errors_are_refused_with_1002() {
    let cases: [(Vec<u8>, &str); 6] = [
        (frame(true, OP_CONTINUATION, b"x"), "continuation"),
        (
            [frame(false, OP_TEXT, b"a"), frame(true, OP_TEXT, b"b")].concat(),
            "new message",
        ),
        (frame(false, OP_PING, b""), "fragmented"),
        (frame(true, OP_PING, &[0; 126]), "125"),
        (frame(true, 0x3, b""), "opcode"),
        (
            [vec![0xc1], frame(true, OP_TEXT, b"")[1..].to_vec()].concat(),
            "reserved",
        ),
    ];
    for (bytes, why) in cases {
        let close = refused(&bytes);
        assert_eq!(close.code, CLOSE_PROTOCOL, "{why}");
        assert!(close.reason.contains(why), "{:?} should say {why:?}", close.reason);
    }
}

#[test]
fn text_that_is_not_utf8_is_refused_with_1007() {
    assert_eq!(refused(&frame(true, OP_TEXT, b"\xff")).code, CLOSE_NOT_UTF8);
    // Fragments that end in the middle of a character.
    let bytes = [frame(false, OP_TEXT, b"a"), frame(true, OP_CONTINUATION, b"\xc3")].concat();
    assert_eq!(refused(&bytes).code, CLOSE_NOT_UTF8);
}

#[test]
fn binary_is_refused_with_4400() {
    let close = refused(&frame(true, OP_BINARY, &[1, 2, 3]));
    assert_eq!(close.code, CLOSE_MALFORMED);
    assert!(close.reason.contains("binary"));
}

#[test]
fn frames_and_messages_over_the_limit_are_refused_from_their_header() {
    // Just the limit is read.
    let whole = "x".repeat(LIMIT);
    assert_eq!(read_all(&[&frame(true, OP_TEXT, whole.as_bytes())]).0, [text(&whole)]);
    // One byte more is refused from its header alone, before its payload came.
    let over = frame(true, OP_TEXT, &[b'x'; LIMIT + 1]);
    assert_eq!(refused(&over[..8]).code, CLOSE_TOO_BIG);
    // So is a message whose fragments add up to more.
    let half = [b'x'; LIMIT / 2 + 1];
    let bytes = [frame(false, OP_TEXT, &half), frame(true, OP_CONTINUATION, &half)].concat();
    assert_eq!(refused(&bytes).code, CLOSE_TOO_BIG);
    // A length no machine holds.
    let mut huge = vec![0x81, 0x80 | 127];
    huge.extend_from_slice(&u64::MAX.to_be_bytes());
    assert_eq!(refused(&huge).code, CLOSE_TOO_BIG);
}

#[test]
fn a_close_frame_gives_its_code_to_echo() {
    let mut payload = 4000u16.to_be_bytes().to_vec();
    payload.extend_from_slice(b"bye");
    assert_eq!(
        read_all(&[&frame(true, OP_CLOSE, &payload)]).0,
        [Frame::Closing(Some(4000))]
    );
    assert_eq!(read_all(&[&frame(true, OP_CLOSE, b"")]).0, [Frame::Closing(None)]);
    assert_eq!(
        refused(&frame(true, OP_CLOSE, &1005u16.to_be_bytes())).code,
        CLOSE_PROTOCOL
    );
    assert_eq!(refused(&frame(true, OP_CLOSE, b"x")).code, CLOSE_PROTOCOL);
}

#[test]
fn bytes_read_past_the_upgrade_come_first() {
    let bytes = frame(true, OP_TEXT, b"hello");
    let mut reader = Reader::new(bytes[..4].to_vec());
    assert_eq!(reader.held_frame(LIMIT).unwrap(), None);
    assert_eq!(reader.take(&bytes[4..], LIMIT).unwrap(), Some(text("hello")));
    assert!(reader.partial.is_none());
}
