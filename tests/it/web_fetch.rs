//! `/fetch` and the `web_fetch` tool against a small web site on loopback: page text, the SSRF
//! guard (loopback refused by default, redirect hops checked), the body cap, and the page
//! reaching the model as a native tool result.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use minicrew::tools::web_fetch::{AddressPolicy, WebFetch};
use minicrew::tools::{Tool, all_tools};
use serde_json::json;

use crate::support::app::{OWNER, TestApp, WAIT};
use crate::support::fake_llm::{FakeLlm, Reply, Wire};
use crate::support::fake_telegram::FakeTelegram;

const PAGE: &str = "<html><head><title>Minicrew Test Page</title>\
    <script>var secret = 'SCRIPT-CONTENT';</script><style>.x{color:red}</style></head>\
    <body><h1>Welcome</h1><p>The answer is   forty-two.</p></body></html>";

/// A tiny web site; counts the requests that reach it.
struct Site {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct SiteState {
    hits: Arc<AtomicUsize>,
    redirect_to: String,
}

impl Site {
    /// Serves on `ip` (port 0); `/hop` redirects to `redirect_to`.
    async fn start(ip: &str, redirect_to: &str) -> Self {
        let hits = Arc::new(AtomicUsize::new(0));
        let state = SiteState {
            hits: Arc::clone(&hits),
            redirect_to: redirect_to.to_string(),
        };
        let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().fallback(serve).with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { addr, hits }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

async fn serve(State(state): State<SiteState>, uri: Uri) -> Response {
    state.hits.fetch_add(1, Ordering::SeqCst);
    match uri.path() {
        "/page" => ([(CONTENT_TYPE, "text/html; charset=utf-8")], PAGE).into_response(),
        "/hop" => (StatusCode::FOUND, [(LOCATION, state.redirect_to)]).into_response(),
        "/loop" => (StatusCode::FOUND, [(LOCATION, "/loop")]).into_response(),
        "/image" => (
            [(CONTENT_TYPE, "image/png")],
            vec![0x89u8, b'P', b'N', b'G'],
        )
            .into_response(),
        "/endless" => {
            // Never ends: the fetch can only finish if it stops reading at its cap.
            let chunk = Bytes::from(vec![b'a'; 64 * 1024]);
            let stream = futures::stream::repeat_with(move || Ok::<_, Infallible>(chunk.clone()));
            ([(CONTENT_TYPE, "text/plain")], Body::from_stream(stream)).into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn app_with(env: &[(&str, &str)]) -> TestApp {
    TestApp::start_with(
        FakeTelegram::start().await,
        tempfile::tempdir().unwrap(),
        env,
    )
    .await
}

/// The app with the web fetch tool treating `public` as a public address.
async fn app_treating_as_public(public: IpAddr) -> TestApp {
    let policy = AddressPolicy::new(false).treating_as_public(public);
    let tools = move |handles: &_| {
        let mut tools: Vec<Box<dyn Tool>> = all_tools(handles)
            .into_iter()
            .filter(|t| t.name() != "web_fetch")
            .collect();
        tools.push(Box::new(WebFetch::with_policy(policy)));
        tools
    };
    let (fake, dir) = (FakeTelegram::start().await, tempfile::tempdir().unwrap());
    TestApp::start_with_tools(fake, dir, &[], tools).await
}

/// Sends `text` as the owner and returns the reply (the `n`th message sent).
async fn ask(app: &TestApp, text: &str, n: usize) -> String {
    app.fake.push_text(OWNER, text);
    app.fake.wait_for_sent(n, WAIT).await[n - 1].text.clone()
}

#[tokio::test]
async fn with_private_addresses_allowed_fetch_returns_the_title_and_text_without_scripts() {
    let site = Site::start("127.0.0.1", "/page").await;
    let app = app_with(&[("WEB_FETCH_ALLOW_PRIVATE", "true")]).await;
    let reply = ask(&app, &format!("/fetch {}", site.url("/hop")), 1).await;
    assert_eq!(
        reply,
        format!(
            "📄 Minicrew Test Page\n{}\n\nWelcome\n\nThe answer is forty-two.",
            site.url("/page")
        ),
        "title, final URL after the redirect, readable text"
    );
    assert!(!reply.contains("SCRIPT-CONTENT") && !reply.contains("color:red"));
    assert_eq!(site.hits(), 2);
    app.fake.assert_no_violations();
    app.stop().await;
}

#[tokio::test]
async fn by_default_loopback_urls_are_refused_and_never_requested() {
    let site = Site::start("127.0.0.1", "/page").await;
    let app = app_with(&[]).await;
    let literal = ask(&app, &format!("/fetch {}", site.url("/page")), 1).await;
    assert!(
        literal.starts_with("I won't fetch 127.0.0.1: it points to a loopback address"),
        "{literal}"
    );
    let port = site.addr.port();
    let named = ask(&app, &format!("/fetch http://localhost:{port}/page"), 2).await;
    assert!(
        named.starts_with("I won't fetch localhost: it points to a loopback address"),
        "resolved names are checked too: {named}"
    );
    let metadata = ask(&app, "/fetch http://169.254.169.254/latest/meta-data/", 3).await;
    assert!(metadata.contains("link-local address"), "{metadata}");
    let file = ask(&app, "/fetch file:///etc/passwd", 4).await;
    assert_eq!(
        file,
        "Only http and https addresses can be fetched, not file: addresses."
    );
    assert_eq!(site.hits(), 0, "no request reached the server");
    app.stop().await;
}

#[tokio::test]
async fn a_redirect_from_an_allowed_page_to_a_private_address_is_refused() {
    let inside = Site::start("127.0.0.2", "/page").await;
    let outside = Site::start("127.0.0.1", &inside.url("/page")).await;
    // 127.0.0.1 stands in for the public internet; 127.0.0.2 stays a loopback address.
    let app = app_treating_as_public("127.0.0.1".parse().unwrap()).await;
    let direct = ask(&app, &format!("/fetch {}", outside.url("/page")), 1).await;
    assert!(direct.starts_with("📄 Minicrew Test Page"), "{direct}");
    let redirected = ask(&app, &format!("/fetch {}", outside.url("/hop")), 2).await;
    assert!(
        redirected.starts_with("I won't fetch 127.0.0.2: it points to a loopback address"),
        "{redirected}"
    );
    assert_eq!(
        outside.hits(),
        2,
        "the page and the redirect were requested"
    );
    assert_eq!(inside.hits(), 0, "the redirect target was never requested");
    app.stop().await;
}

#[tokio::test]
async fn an_endless_body_is_cut_at_the_cap_and_the_reply_says_so() {
    let site = Site::start("127.0.0.1", "/page").await;
    let app = app_with(&[("WEB_FETCH_ALLOW_PRIVATE", "true")]).await;
    let reply = ask(&app, &format!("/fetch {}", site.url("/endless")), 1).await;
    let shown = "a".repeat(3_500);
    assert!(
        reply.contains(&format!("\n\n{shown}\n\n[")),
        "the text shown is cut to 3,500 characters"
    );
    assert!(
        reply.ends_with(
            "[text cut at 3500 of 2097152 characters; the page is larger than 2 MB; only the start was read]"
        ),
        "exactly 2 MB was read: {}",
        &reply[reply.len() - 120..]
    );
    app.stop().await;
}

#[tokio::test]
async fn redirect_loops_and_non_text_pages_get_clear_replies() {
    let site = Site::start("127.0.0.1", "/page").await;
    let app = app_with(&[("WEB_FETCH_ALLOW_PRIVATE", "true")]).await;
    let looped = ask(&app, &format!("/fetch {}", site.url("/loop")), 1).await;
    assert_eq!(
        looped,
        "The page redirected more than 5 times; I stopped following it."
    );
    assert_eq!(site.hits(), 6, "the first request and five redirects");
    let image = ask(&app, &format!("/fetch {}", site.url("/image")), 2).await;
    assert_eq!(
        image,
        "That address serves image/png, not a page I can read (HTML, plain text or JSON)."
    );
    let missing = ask(&app, &format!("/fetch {}", site.url("/nothing")), 3).await;
    assert_eq!(missing, "The site answered with HTTP status 404.");
    app.stop().await;
}

#[tokio::test]
async fn the_model_reads_a_page_through_a_native_tool_call() {
    let site = Site::start("127.0.0.1", "/page").await;
    let claude = FakeLlm::start(Wire::Claude).await;
    let claude_url = claude.base_url().to_string();
    let app = app_with(&[
        ("WEB_FETCH_ALLOW_PRIVATE", "true"),
        ("ANTHROPIC_API_KEY", "sk-ant-test-key"),
        ("ANTHROPIC_BASE_URL", claude_url.as_str()),
    ])
    .await;
    claude.script([
        Reply::tool("web_fetch", json!({"url": site.url("/page")})),
        Reply::text("The page says the answer is forty-two."),
    ]);
    let reply = ask(
        &app,
        &format!("What does this page say: {}", site.url("/page")),
        1,
    )
    .await;
    assert_eq!(reply, "The page says the answer is forty-two.");

    let tools = claude.requests()[0].body["tools"].to_string();
    assert!(
        tools.contains("\"web_fetch\""),
        "the model is offered the tool"
    );
    let second = &claude.requests()[1].body;
    let result = second["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["content"].as_array().cloned().unwrap_or_default())
        .find(|block| block["type"] == "tool_result")
        .expect("the page goes back as a native tool_result");
    let content = result["content"].to_string();
    assert!(
        content.contains("Quoted content of the web page"),
        "{content}"
    );
    assert!(content.contains("not instructions"), "{content}");
    assert!(content.contains("The answer is forty-two."), "{content}");
    assert!(!content.contains("SCRIPT-CONTENT"), "{content}");
    app.wait_for_db(
        "SELECT tool || ':' || source FROM tool_logs",
        "web_fetch:llm",
    )
    .await;
    app.stop().await;
}
