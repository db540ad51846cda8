//! Property tests of update decoding: messages and button presses with arbitrary text, numbers
//! and junk in any field never panic (neither teloxide's decoder, which polling relies on, nor
//! our conversion), text survives decoding unchanged, and any webhook body is read or refused.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::*;
use crate::telegram::webhook::parse_update;

/// Numbers Telegram would send, and now and then numbers it never would.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        40 => (0i64..2_000_000_000).prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(|f| json!(f)),
        1 => prop::sample::select(vec![json!(u64::MAX), json!(u32::MAX), json!(-1), json!(0)]),
    ]
}

/// Any JSON value, a few levels deep.
fn junk() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        number(),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A user object with arbitrary id and names.
fn user() -> impl Strategy<Value = Value> {
    (
        number(),
        any::<String>(),
        proptest::option::of(any::<String>()),
    )
        .prop_map(|(id, first, last)| {
            let mut user = json!({"id": id, "is_bot": false, "first_name": first});
            if let Some(last) = last {
                user["last_name"] = json!(last);
            }
            user
        })
}

/// A chat object of any kind Telegram has, or a made-up one.
fn chat() -> impl Strategy<Value = Value> {
    let kind = prop::sample::select(vec![
        "private",
        "private",
        "group",
        "supergroup",
        "channel",
        "x",
    ]);
    (number(), kind, any::<String>()).prop_map(
        |(id, kind, name)| json!({"id": id, "type": kind, "first_name": name, "title": name}),
    )
}

/// What a message carries: text, a caption, a voice note, a photo, or junk.
fn body() -> impl Strategy<Value = Map<String, Value>> {
    let one = |k: &str, v: Value| Map::from_iter([(k.to_string(), v)]);
    prop_oneof![
        any::<String>().prop_map(move |t| one("text", json!(t))),
        any::<String>().prop_map(move |t| one("caption", json!(t))),
        (number(), number()).prop_map(move |(duration, size)| one(
            "voice",
            json!({
            "file_id": "v", "file_unique_id": "u", "duration": duration, "file_size": size,
            "mime_type": "audio/ogg"})
        )),
        (number(), number()).prop_map(move |(w, size)| one(
            "photo",
            json!([{
            "file_id": "p", "file_unique_id": "u", "width": w, "height": w, "file_size": size}])
        )),
        ("[a-z_]{1,12}", junk()).prop_map(|(k, v)| Map::from_iter([(k, v)])),
    ]
}

/// A message or button-press update with arbitrary contents; sometimes a field is swapped for
/// junk or dropped, as a broken or hostile sender would.
fn update() -> impl Strategy<Value = Value> {
    let message =
        (number(), number(), user(), chat(), body()).prop_map(|(id, date, from, chat, body)| {
            let mut message = Map::from_iter([
                ("message_id".to_string(), id),
                ("date".to_string(), date),
                ("from".to_string(), from),
                ("chat".to_string(), chat),
            ]);
            message.extend(body);
            json!({"message": message})
        });
    let callback = (
        any::<String>(),
        user(),
        proptest::option::of(any::<String>()),
        chat(),
    )
        .prop_map(|(id, from, data, chat)| {
            json!({"callback_query": {"id": id, "from": from, "data": data, "chat_instance": "c",
                "message": {"message_id": 1, "date": 0, "chat": chat}}})
        });
    let tamper = proptest::option::weighted(0.2, ("[a-z_]{1,12}", proptest::option::of(junk())));
    (number(), prop_oneof![message, callback], tamper).prop_map(|(id, mut update, tamper)| {
        update["update_id"] = id;
        if let (Some((key, value)), Some(kind)) = (
            tamper,
            update
                .as_object()
                .and_then(|o| o.keys().find(|k| *k != "update_id").cloned()),
        ) {
            match (value, update[&kind].as_object_mut()) {
                (Some(v), Some(inner)) => drop(inner.insert(key, v)),
                (None, Some(inner)) => drop(inner.remove(&key)),
                (_, None) => {}
            }
        }
        update
    })
}

proptest! {
    #[test]
    fn generated_updates_never_panic_teloxide_or_our_conversion(update in update()) {
        let payload = update.to_string();
        // Polling hands us what teloxide decoded, so its decoder must not panic on these.
        let decoded = std::panic::catch_unwind(|| serde_json::from_str::<Update>(&payload));
        prop_assert!(decoded.is_ok(), "teloxide panicked on {payload}");
        let kind = kind_of(&payload);
        if let Ok(update) = decode_update(&payload) {
            // Intake labels a decoded update without reading its JSON again: the same label.
            prop_assert_eq!(kind_of_update(&update, &payload), kind);
            let chat = chat_of(&update);
            if let Some(incoming) = to_incoming(&update) {
                if matches!(update.kind, UpdateKind::Message(_)) {
                    prop_assert_eq!(Some(incoming.chat_id), chat);
                }
                if let Content::Voice(clip) = &incoming.content {
                    prop_assert!(clip.size.is_none_or(|s| s > 0 && s < u64::from(u32::MAX)));
                }
            }
        }
    }

    #[test]
    fn any_text_survives_decoding_unchanged(text in any::<String>(), chat_id in any::<i64>()) {
        let update = json!({"update_id": 1, "message": {"message_id": 1, "date": 0,
            "chat": {"id": chat_id, "type": "private", "first_name": "A"},
            "from": {"id": 5, "is_bot": false, "first_name": "A"}, "text": text}});
        let update = decode_update(&update.to_string());
        prop_assert!(update.is_ok(), "{update:?}");
        let incoming = update.ok().as_ref().and_then(to_incoming);
        prop_assert_eq!(incoming.map(|i| (i.chat_id, i.content)), Some((ChatId(chat_id), Content::Text(text))));
    }

    #[test]
    fn any_webhook_body_is_read_or_refused_without_panic(
        body in prop_oneof![
            any::<Vec<u8>>(),
            any::<String>().prop_map(String::into_bytes),
            junk().prop_map(|v| v.to_string().into_bytes()),
            update().prop_map(|v| v.to_string().into_bytes()),
        ],
    ) {
        if let Ok(posted) = parse_update(&body) {
            prop_assert_eq!(posted.payload.as_bytes(), &body[..]);
        }
    }
}
