//! A photo reaches each provider as a native image with the exact bytes; providers that
//! cannot see are skipped, and when none can the user is told which key turns it on.

use super::*;

#[tokio::test]
async fn a_photo_reaches_claude_gemini_and_openai_each_in_its_native_form_with_the_exact_bytes() {
    for wire in [Wire::Claude, Wire::Gemini, Wire::OpenAi] {
        let llm = FakeLlm::start(wire).await;
        llm.script([Reply::text("You spent 42 euros.")]);
        let app = start(&[(&llm, wire)], &[]).await;
        app.fake.add_file("p-big", "photos/file_1.jpg", JPEG);
        let sizes = [
            ("p-small", 90, 900),
            ("p-huge", 4000, 25 * 1024 * 1024),
            ("p-big", 1280, JPEG.len() as u64),
        ];

        app.fake
            .push_photo(OWNER, &sizes, Some("what did I spend?"));

        assert_eq!(only_reply(&app).await, "You spent 42 euros.", "{wire:?}");
        assert_eq!(
            app.fake.downloads(),
            ["photos/file_1.jpg"],
            "the largest size within the limit"
        );
        let requests = llm.requests();
        assert_eq!(requests.len(), 1, "{wire:?}");
        let message = last_user_message(wire, &requests[0].body);
        assert_eq!(
            image_parts(wire, &message),
            [native_image(wire, JPEG)],
            "{wire:?}: {message}"
        );
        assert!(
            message.to_string().contains("what did I spend?"),
            "the caption is the question"
        );
        let turns = history(&app).await;
        assert_eq!(
            turns[0],
            ("user".into(), "[photo: what did I spend?]".into())
        );
        let stored = format!("{turns:?}");
        assert!(!stored.contains(&STANDARD.encode(JPEG)) && !stored.contains("receipt-pixels"));
        app.fake.assert_no_violations();
        app.stop().await;
    }
}

#[tokio::test]
async fn a_text_only_provider_is_skipped_by_the_fallback_for_a_photo() {
    let (claude, gemini) = (
        FakeLlm::start(Wire::Claude).await,
        FakeLlm::start(Wire::Gemini).await,
    );
    gemini.script([Reply::text("A cat on a sofa.")]);
    let app = start(
        &[(&claude, Wire::Claude), (&gemini, Wire::Gemini)],
        &[("CLAUDE_VISION", "false")],
    )
    .await;
    app.fake.add_file("p1", "photos/file_1.jpg", JPEG);

    app.fake
        .push_photo(OWNER, &[("p1", 800, JPEG.len() as u64)], None);

    assert_eq!(only_reply(&app).await, "A cat on a sofa.");
    assert!(
        claude.requests().is_empty(),
        "Claude was told it cannot see"
    );
    let message = last_user_message(Wire::Gemini, &gemini.requests()[0].body);
    assert_eq!(
        image_parts(Wire::Gemini, &message),
        [native_image(Wire::Gemini, JPEG)]
    );
    assert!(
        message
            .to_string()
            .contains("without a caption. Describe what you see")
    );
    app.stop().await;
}

#[tokio::test]
async fn with_no_provider_able_to_see_the_user_is_told_which_key_enables_it() {
    let openai = FakeLlm::start(Wire::OpenAi).await;
    let app = start(
        &[(&openai, Wire::OpenAi)],
        &[("OPENAI_MODEL_CHEAP", "llama3.1")],
    )
    .await;
    app.fake.add_file("p1", "photos/file_1.jpg", JPEG);

    app.fake
        .push_photo(OWNER, &[("p1", 800, JPEG.len() as u64)], Some("hi"));

    let reply = only_reply(&app).await;
    assert!(reply.contains("OPENAI_VISION=true"), "{reply}");
    assert!(openai.requests().is_empty());
    assert!(
        app.fake.downloads().is_empty(),
        "nothing downloaded for nothing"
    );
    app.stop().await;
}
