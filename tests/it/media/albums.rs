//! An album is answered once with all its photos, also when a crash cut it.

use super::*;

#[tokio::test]
async fn an_album_is_answered_once_with_all_its_photos() {
    let claude = FakeLlm::start(Wire::Claude).await;
    claude.script([Reply::text("Three receipts, 61 euros in all.")]);
    let app = start(&[(&claude, Wire::Claude)], &[]).await;
    let photos = album_photos(&app.fake);
    let sizes = album_sizes(&photos);

    let ids = app.fake.push_album(OWNER, "album-1", &sizes, "total these");

    assert_eq!(only_reply(&app).await, "Three receipts, 61 euros in all.");
    for id in &ids {
        let query = format!("SELECT status FROM inbox WHERE update_id = {id}");
        let query: &'static str = Box::leak(query.into_boxed_str());
        app.wait_for_db(query, "done").await;
    }
    app.fake
        .assert_no_messages_to(OWNER, std::time::Duration::from_millis(1500))
        .await;
    let requests = claude.requests();
    assert_eq!(requests.len(), 1, "one model call for the album");
    let message = last_user_message(Wire::Claude, &requests[0].body);
    let expected: Vec<Value> = photos
        .iter()
        .map(|b| native_image(Wire::Claude, b))
        .collect();
    assert_eq!(
        image_parts(Wire::Claude, &message),
        expected,
        "all photos, in order"
    );
    assert!(message.to_string().contains("total these"));
    assert_eq!(history(&app).await[0].1, "[3 photos: total these]");
    app.stop().await;
}

/// Three distinct JPEGs, registered with the fake as `a0`..`a2`.
fn album_photos(fake: &FakeTelegram) -> Vec<Vec<u8>> {
    let photos: Vec<Vec<u8>> = (1..=3)
        .map(|i| [JPEG, format!("#{i}").as_bytes()].concat())
        .collect();
    for (i, bytes) in photos.iter().enumerate() {
        fake.add_file(&format!("a{i}"), &format!("photos/album_{i}.jpg"), bytes);
    }
    photos
}

/// The album's sizes as the fake pushes them.
fn album_sizes(photos: &[Vec<u8>]) -> Vec<(&'static str, u32, u64)> {
    ["a0", "a1", "a2"]
        .iter()
        .zip(photos)
        .map(|(id, b)| (*id, 640, b.len() as u64))
        .collect()
}

#[tokio::test]
async fn an_album_cut_by_a_crash_is_answered_once_with_all_its_photos_after_the_restart() {
    let claude = FakeLlm::start(Wire::Claude).await;
    claude.script([Reply::delayed(
        std::time::Duration::from_secs(60),
        Reply::text("too late"),
    )]);
    let env = env_for(&[(&claude, Wire::Claude)], &[]);
    let app = start_on(
        FakeTelegram::start().await,
        tempfile::tempdir().unwrap(),
        &env,
    )
    .await;
    let photos = album_photos(&app.fake);
    app.fake.push_album(
        OWNER,
        "album-2",
        &album_sizes(&photos),
        "which is cheapest?",
    );
    claude.wait_for_requests(1).await;
    let (fake, dir) = app.kill().await;

    claude.script([Reply::text("The second one.")]);
    let app = start_on(fake, dir, &env).await;

    assert_eq!(only_reply(&app).await, "The second one.");
    app.wait_for_db("SELECT COUNT(*) FROM inbox WHERE status = 'done'", "3")
        .await;
    app.fake
        .assert_no_messages_to(OWNER, std::time::Duration::from_millis(1500))
        .await;
    let requests = claude.requests();
    assert_eq!(requests.len(), 2);
    let message = last_user_message(Wire::Claude, &requests[1].body);
    let expected: Vec<Value> = photos
        .iter()
        .map(|b| native_image(Wire::Claude, b))
        .collect();
    assert_eq!(
        image_parts(Wire::Claude, &message),
        expected,
        "all three, after the restart"
    );
    app.stop().await;
}
