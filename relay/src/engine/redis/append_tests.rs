//! The appender's order of a batch (`by_connection`).

use super::*;
use crate::event::Scope;

#[test]
fn a_batch_holds_each_connections_appends_together_in_their_order() {
    let append = |origin: &str, seq| Append {
        draft: Draft {
            name: "a.b".into(),
            payload: "{}".into(),
            scope: Scope::All,
            origin: origin.into(),
            idem: Some(Idem::Seq(format!("p{origin}"), seq)),
        },
        done: oneshot::channel().0,
    };
    let batch = vec![
        append("i/2", 7),
        append("i/1", 1),
        append("i/2", 8),
        append("i/1", 2),
        append("i/2", 9),
    ];
    let got: Vec<(String, Option<Idem>)> = by_connection(batch)
        .into_iter()
        .map(|a| (a.draft.origin, a.draft.idem))
        .collect();
    let want = [("i/2", 7), ("i/2", 8), ("i/2", 9), ("i/1", 1), ("i/1", 2)];
    let want: Vec<_> = want
        .iter()
        .map(|(o, s)| (o.to_string(), Some(Idem::Seq(format!("p{o}"), *s))))
        .collect();
    assert_eq!(got, want);
}
