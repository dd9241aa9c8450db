//! Reading a connection's frames: the WebSocket message a frame comes
//! in, its type, its fields, and the 4400 that names what is wrong with a
//! frame that is not well formed.

use futures_util::stream::SplitStream;
use futures_util::StreamExt;
use serde_json::value::RawValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

use crate::outbox::WebSocket;
use crate::protocol::*;

pub(super) enum Frame {
    Text(Utf8Bytes),
    /// A WebSocket pong: the client is there.
    Pong,
    /// A WebSocket ping (answered by the WebSocket layer).
    Ping,
    Gone,
}

pub(super) async fn next_frame(stream: &mut SplitStream<WebSocket>) -> Result<Frame, Close> {
    match stream.next().await {
        None | Some(Ok(Message::Close(_))) => Ok(Frame::Gone),
        Some(Ok(Message::Text(t))) => Ok(Frame::Text(t)),
        Some(Ok(Message::Binary(_))) => Err(Close::new(CLOSE_MALFORMED, "binary frames are not part of protocol v2")),
        Some(Ok(Message::Pong(_))) => Ok(Frame::Pong),
        Some(Ok(Message::Ping(_) | Message::Frame(_))) => Ok(Frame::Ping),
        Some(Err(e @ WsError::Capacity(_))) => Err(Close::new(
            CLOSE_TOO_BIG,
            format!("frame larger than this relay reads: {e}"),
        )),
        Some(Err(_)) => Ok(Frame::Gone),
    }
}

/// The type of a frame (4400 when it has none).
pub(super) fn typed(text: &str) -> Result<String, Close> {
    match serde_json::from_str::<Typed>(text) {
        Ok(t) => Ok(t.kind.into_owned()),
        Err(e) => Err(malformed("malformed frame", e)),
    }
}

/// A field of a frame, as its type wants it (`None`: missing, or not that).
pub(super) fn field<T: serde::de::DeserializeOwned>(raw: Option<&RawValue>) -> Option<T> {
    raw.and_then(|raw| serde_json::from_str(raw.get()).ok())
}

/// The 4400 for a frame of type `kind` that is not well formed, naming
/// what is wrong as parsing it as that type says.
pub(super) fn strict(kind: &str, text: &str) -> Close {
    let e = match kind {
        "publish" => serde_json::from_str::<Publish>(text).err(),
        "auth" => serde_json::from_str::<Auth>(text).err(),
        _ => serde_json::from_str::<Patterns>(text).err(),
    };
    e.map_or_else(
        || Close::new(CLOSE_MALFORMED, format!("{kind}: not a well-formed frame")),
        |e| malformed(kind, e),
    )
}
